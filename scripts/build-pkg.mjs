#!/usr/bin/env node
// Builds the npm package: wasm-pack (wasm-bindgen, --target web) → binaryen's
// wasm-opt (npm binaryen@132; Debian's is too old for workerd) → pkg-template/
// plus the generated files (the glue with a text hook: scripts/glue-hooks.mjs)
// → pkg/. Three modules: the package's (the JSON playbook compiler
// included) twice, built for size (`buyerpath_bg.wasm`: browsers, bundlers)
// and for speed (`buyerpath_server_bg.wasm`: the Node, Deno and workerd
// entries), with one glue (the two builds' glue is the same file, checked);
// and the page build's in pkg/page/ (`buyerpath/page`: the wasm crate without
// its `compiler` feature, with `compiled`: engines come compiled ahead by
// `buyerpath compile` and load with `Engine.fromBytes`). Prints the sizes raw,
// gzip and brotli.
//
// Usage: node scripts/build-pkg.mjs [--features boundary-bench] [--no-page] [--out DIR]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { addTextHooks, inlineSnippets } from './glue-hooks.mjs';
import { WASM_OPT_EXTRA } from './wasm-opt-flags.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const features = opt('--features', '');
const withPage = !args.includes('--no-page');
const out = resolve(root, opt('--out', 'pkg'));
const step = (msg) => process.stderr.write(`\x1b[1m== ${msg}\x1b[0m\n`);
const run = (cmd, argv, env = {}) => execFileSync(cmd, argv, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });

const wasmOpt = join(root, 'node_modules', 'binaryen', 'bin', 'wasm-opt');
if (!existsSync(wasmOpt)) {
  console.error('binaryen is not installed: run `npm install --no-audit --no-fund` (./dev build does it)');
  process.exit(1);
}

/**
 * One module: wasm-pack into `raw` (target/wasm-pack for the package's, which
 * benches/size/size.mjs reads again; target/wasm-pack-page for the page
 * build's), then wasm-opt -Oz and -Os, the smaller kept. `optLevel` is the
 * Rust opt-level of the release profile for this module (`3`: speed, `s`:
 * size). Returns the optimised module's path and the glue's.
 */
function buildModule(raw, cargoArgs, what, optLevel) {
  step(`wasm-pack build: ${what}, opt-level ${optLevel}`);
  run('wasm-pack', ['build', 'wasm', '--release', '--target', 'web', '--no-pack', '--no-typescript',
    '--out-dir', raw, '--out-name', 'buyerpath', ...(cargoArgs.length ? ['--', ...cargoArgs] : [])],
  { CARGO_PROFILE_RELEASE_OPT_LEVEL: optLevel });
  step(`wasm-opt (binaryen 132): ${what}`);
  const input = join(raw, 'buyerpath_bg.wasm');
  let best = null;
  for (const level of ['-Oz', '-Os']) {
    const dst = join(raw, `opt${level}.wasm`);
    run(process.execPath, [wasmOpt, level, ...WASM_OPT_EXTRA, '--strip-debug', '--strip-producers', input, '-o', dst]);
    const size = statSync(dst).size;
    if (!best || size < best.size) best = { level, dst, size };
  }
  process.stderr.write(`   ${statSync(input).size} B before, ${best.size} B after wasm-opt ${best.level}\n`);
  return { wasm: best.dst, glue: join(raw, 'buyerpath.js') };
}

// 1. The modules. What a browser loads is built for size (the package's
// browser entry, the page build); what a server runs (the Node, Deno and
// workerd entries) for speed: opt-level 3 instead of `s` takes 18–20% off
// decideJson and 23% off recordJson in Node, for 14% more gzip and a slower
// first compile in a fresh process (BENCHMARKS.md, sessions 15 and 16).
const featureArgs = features ? ['--features', features] : [];
const withFeatures = features ? ` (features: ${features})` : '';
const main = buildModule(join(root, 'target', 'wasm-pack'), featureArgs, `the package for browsers${withFeatures}`, 's');
const server = buildModule(join(root, 'target', 'wasm-pack-server'), featureArgs, `the package for Node, Deno and workerd${withFeatures}`, '3');
if (readFileSync(main.glue, 'utf8') !== readFileSync(server.glue, 'utf8')) {
  // The entries share one glue file; wasm-bindgen writes the same glue for
  // the same exports whatever the opt-level. Should that change, stop here.
  console.error(`build-pkg: the glue of the two package builds differs (${main.glue}, ${server.glue}); they can no longer share pkg/buyerpath.js`);
  process.exit(1);
}
const page = withPage
  ? buildModule(join(root, 'target', 'wasm-pack-page'), ['--no-default-features', '--features', 'compiled'], 'the page build (no JSON compiler)', 's')
  : null;

// 2. Assemble pkg/: the template, each module with its glue (with the hook a
// runtime entry may fill with faster text crossings: node.js does).
step(`assemble ${out}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(root, 'pkg-template'), out, { recursive: true });
// The Node entry's UTF-16 → UTF-8 transcoder (node-text.js), from its text form.
run(process.execPath, [join(root, 'node_modules', 'binaryen', 'bin', 'wasm-as'), '--enable-simd', join(out, 'utf16.wat'), '-o', join(out, 'utf16.wasm')]);
rmSync(join(out, 'utf16.wat'));
const place = (m, dir) => {
  cpSync(m.wasm, join(dir, 'buyerpath_bg.wasm'));
  const glue = inlineSnippets(readFileSync(m.glue, 'utf8'), dirname(m.glue), (f) => readFileSync(f, 'utf8'));
  if (/^import /m.test(glue)) throw new Error(`build-pkg: the glue ${m.glue} still imports a file; pkg/ holds one glue file per module`);
  writeFileSync(join(dir, 'buyerpath.js'), addTextHooks(glue));
};
place(main, out);
cpSync(server.wasm, join(out, 'buyerpath_server_bg.wasm'));
// The playbook's format, every field described, for editors (`"$schema"`) and readers.
cpSync(join(root, 'schema', 'playbook.schema.json'), join(out, 'playbook.schema.json'));
if (page) place(page, join(out, 'page'));
else rmSync(join(out, 'page'), { recursive: true, force: true });
const version = /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(join(root, 'Cargo.toml'), 'utf8'))[1];
const pkgJson = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'));
pkgJson.version = version;
if (!page) {
  // Without the page build, no `buyerpath/page` entry points at missing files.
  for (const k of Object.keys(pkgJson.exports)) if (k.startsWith('./page')) delete pkgJson.exports[k];
  pkgJson.files = pkgJson.files.filter((f) => !f.startsWith('page'));
  pkgJson.sideEffects = pkgJson.sideEffects.filter((f) => !f.startsWith('./page'));
}
writeFileSync(join(out, 'package.json'), JSON.stringify(pkgJson, null, 2) + '\n');

// 3. Sizes.
const sizes = (file) => {
  const b = readFileSync(file);
  return {
    raw: b.length,
    gzip: gzipSync(b, { level: 9 }).length,
    brotli: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
};
const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });
const row = (name, s) => `${name.padEnd(30)} ${String(s.raw).padStart(8)} ${String(s.gzip).padStart(8)} ${String(s.brotli).padStart(8)}`;
console.log(`${'file'.padEnd(30)} ${'raw'.padStart(8)} ${'gzip'.padStart(8)} ${'brotli'.padStart(8)}`);
const report = {};
for (const [name, dir] of [['', out], ...(page ? [['page/', join(out, 'page')]] : [])]) {
  const wasm = sizes(join(dir, 'buyerpath_bg.wasm'));
  const glue = sizes(join(dir, 'buyerpath.js'));
  console.log(row(`${name}buyerpath_bg.wasm`, wasm));
  console.log(row(`${name}buyerpath.js (glue)`, glue));
  console.log(row(`${name}wasm + glue`, add(wasm, glue)));
  report[name ? 'page' : 'package'] = { wasm, glue };
  if (!name) {
    const fast = sizes(join(dir, 'buyerpath_server_bg.wasm'));
    console.log(row('buyerpath_server_bg.wasm', fast));
    console.log(row('server wasm + glue', add(fast, glue)));
    report.server = { wasm: fast, glue };
  }
}
writeFileSync(join(root, 'target', 'pkg-size.json'), JSON.stringify({ ...report.package, server: report.server, page: report.page ?? null, version, features }, null, 2));
