#!/usr/bin/env node
// Builds the npm package: wasm-pack (wasm-bindgen, --target web) → binaryen's
// wasm-opt (npm binaryen@132; Debian's is too old for workerd) → pkg-template/
// plus the generated files (the glue with a text hook: scripts/glue-hooks.mjs)
// → pkg/. Prints the sizes raw, gzip and brotli.
//
// Usage: node scripts/build-pkg.mjs [--features boundary-bench] [--page] [--out DIR]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { addTextHooks } from './glue-hooks.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
// --page: the page build, without the JSON playbook compiler: engines come
// compiled ahead (`buyerpath compile`) and load with `Engine.fromBytes`.
const page = args.includes('--page');
const features = [opt('--features', ''), page ? 'compiled' : ''].filter(Boolean).join(',');
const out = resolve(root, opt('--out', 'pkg'));
const step = (msg) => process.stderr.write(`\x1b[1m== ${msg}\x1b[0m\n`);
const run = (cmd, argv, env = {}) => execFileSync(cmd, argv, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });

// 1. Rust → Wasm + JS glue.
const raw = join(root, 'target', 'wasm-pack');
step(`wasm-pack build${features ? ` (features: ${features})` : ''}`);
run('wasm-pack', ['build', 'wasm', '--release', '--target', 'web', '--no-pack', '--no-typescript',
  '--out-dir', raw, '--out-name', 'buyerpath', ...(features || page ? ['--', ...(page ? ['--no-default-features'] : []), '--features', features] : [])]);

// 2. wasm-opt: try -Oz and -Os, keep the smaller.
step('wasm-opt (binaryen 132)');
const wasmOpt = join(root, 'node_modules', 'binaryen', 'bin', 'wasm-opt');
if (!existsSync(wasmOpt)) {
  console.error('binaryen is not installed: run `npm ci` (./dev setup does it)');
  process.exit(1);
}
const input = join(raw, 'buyerpath_bg.wasm');
let best = null;
for (const level of ['-Oz', '-Os']) {
  const dst = join(raw, `opt${level}.wasm`);
  run(process.execPath, [wasmOpt, level, '--strip-debug', '--strip-producers', input, '-o', dst]);
  const size = statSync(dst).size;
  if (!best || size < best.size) best = { level, dst, size };
}
process.stderr.write(`   ${statSync(input).size} B before, ${best.size} B after wasm-opt ${best.level}\n`);

// 3. Assemble pkg/.
step(`assemble ${out}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(root, 'pkg-template'), out, { recursive: true });
cpSync(best.dst, join(out, 'buyerpath_bg.wasm'));
// The glue, with the hook a runtime entry may fill with faster text crossings (node.js does).
writeFileSync(join(out, 'buyerpath.js'), addTextHooks(readFileSync(join(raw, 'buyerpath.js'), 'utf8')));
const version = /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(join(root, 'Cargo.toml'), 'utf8'))[1];
const pkgJson = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'));
pkgJson.version = version;
writeFileSync(join(out, 'package.json'), JSON.stringify(pkgJson, null, 2) + '\n');

// 4. Sizes.
const sizes = (file) => {
  const b = readFileSync(file);
  return {
    raw: b.length,
    gzip: gzipSync(b, { level: 9 }).length,
    brotli: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
};
const wasm = sizes(join(out, 'buyerpath_bg.wasm'));
const glue = sizes(join(out, 'buyerpath.js'));
const row = (name, s) => `${name.padEnd(24)} ${String(s.raw).padStart(8)} ${String(s.gzip).padStart(8)} ${String(s.brotli).padStart(8)}`;
console.log(`${'file'.padEnd(24)} ${'raw'.padStart(8)} ${'gzip'.padStart(8)} ${'brotli'.padStart(8)}`);
console.log(row('buyerpath_bg.wasm', wasm));
console.log(row('buyerpath.js (glue)', glue));
console.log(row('wasm + glue', { raw: wasm.raw + glue.raw, gzip: wasm.gzip + glue.gzip, brotli: wasm.brotli + glue.brotli }));
writeFileSync(join(root, 'target', page ? 'pkg-size-page.json' : 'pkg-size.json'), JSON.stringify({ wasm, glue, version, features }, null, 2));
