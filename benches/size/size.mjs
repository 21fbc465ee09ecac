#!/usr/bin/env node
// Size: the Wasm and the glue of the built package, the package's browser
// entry bundled by esbuild (minified, ESM) next to the peers' browser bundles
// built the same way, each raw, gzip -9 and brotli 11; and `twiggy top` of the
// Wasm with what each large item is and the size per crate.
//
//   node benches/size/size.mjs [--pkg DIR] [--json FILE]
//
// twiggy needs names, which the package's module has stripped: the same
// wasm-opt pass (binaryen 132, the level build-pkg kept) is re-run on
// wasm-pack's output without `--strip-debug`, so code sizes match the package's
// and the name section (not counted) tells what each function is.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { options, root, writeJson } from '../node/lib.mjs';
import { WASM_OPT_EXTRA } from '../../scripts/wasm-opt-flags.mjs';

const opts = options();
const out = join(root, 'target', 'bench', 'size');
mkdirSync(out, { recursive: true });

const sizesOf = (bytes) => ({
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

const wasmFile = join(opts.pkg, 'buyerpath_bg.wasm');
const wasm = sizesOf(readFileSync(wasmFile));
const glue = sizesOf(readFileSync(join(opts.pkg, 'buyerpath.js')));

/** esbuild, the way an app would bundle it for browsers: ESM, minified, tree-shaken. */
async function bundle(name, source) {
  const entry = join(out, `${name}.entry.mjs`);
  writeFileSync(entry, source);
  const outfile = join(out, `${name}.bundle.js`);
  try {
    await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile,
      logLevel: 'silent',
      alias: { buyerpath: opts.pkg },
      nodePaths: [join(root, 'node_modules')],
      conditions: ['browser'],
      legalComments: 'none',
    });
    return { ...sizesOf(readFileSync(outfile)), ok: true };
  } catch (err) {
    return { ok: false, error: String(err.message || err).replace(/\s+/g, ' ').slice(0, 300) };
  }
}

const bundles = {
  buyerpath: await bundle('buyerpath', "import { Engine } from 'buyerpath';\nglobalThis.bp = Engine;\n"),
  growthbook: await bundle('growthbook', "import { GrowthBook } from '@growthbook/growthbook';\nglobalThis.gb = GrowthBook;\n"),
  growthbookEvalCondition: await bundle('growthbook-evalcondition', "import { evalCondition } from '@growthbook/growthbook';\nglobalThis.ec = evalCondition;\n"),
  jsonRulesEngine: await bundle('json-rules-engine', "import { Engine } from 'json-rules-engine';\nglobalThis.jre = Engine;\n"),
};
if (bundles.buyerpath.ok) bundles.buyerpathWithWasm = { ...add(bundles.buyerpath, wasm), ok: true };

// ---------------------------------------------------------------- twiggy
const twiggy = { ok: false };
try {
  const raw = join(root, 'target', 'wasm-pack', 'buyerpath_bg.wasm');
  if (!existsSync(raw)) throw new Error(`${raw} is missing: run node scripts/build-pkg.mjs`);
  const named = join(out, 'buyerpath.named.wasm');
  const wasmOpt = join(root, 'node_modules', 'binaryen', 'bin', 'wasm-opt');
  // The level build-pkg kept: the one whose stripped output has the package's size.
  let level = '-Oz';
  twiggy.samebuild = false;
  for (const l of ['-Oz', '-Os']) {
    const probe = join(root, 'target', 'wasm-pack', `opt${l}.wasm`);
    if (existsSync(probe) && statSync(probe).size === wasm.raw) {
      level = l;
      twiggy.samebuild = true;
    }
  }
  execFileSync(process.execPath, [wasmOpt, level, ...WASM_OPT_EXTRA, '-g', '--strip-producers', raw, '-o', named], { stdio: 'ignore' });
  const items = JSON.parse(execFileSync('twiggy', ['top', '-n', '1000000', '--format', 'json', named], { maxBuffer: 1 << 28 }).toString());
  const code = items.filter((i) => !/names" subsection$/.test(i.name));
  const total = code.reduce((a, i) => a + i.shallow_size, 0);
  const byCrate = new Map();
  for (const i of code) {
    const c = crateOf(i.name);
    byCrate.set(c, (byCrate.get(c) || 0) + i.shallow_size);
  }
  twiggy.ok = true;
  twiggy.level = level;
  twiggy.total = total;
  twiggy.top = code.slice(0, 20).map((i) => ({ name: i.name, bytes: i.shallow_size, share: i.shallow_size / total, what: describe(i.name) }));
  twiggy.crates = [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([crate, bytes]) => ({ crate, bytes, share: bytes / total }));
} catch (err) {
  twiggy.error = String(err.message || err).split('\n')[0];
}

// `buyerpath/page` (the page build: no JSON compiler), when built.
const pageDir = join(opts.pkg, 'page');
const page = existsSync(join(pageDir, 'buyerpath_bg.wasm'))
  ? (() => {
    const w = sizesOf(readFileSync(join(pageDir, 'buyerpath_bg.wasm')));
    const g = sizesOf(readFileSync(join(pageDir, 'buyerpath.js')));
    return { wasm: w, glue: g, wasmAndGlue: add(w, g) };
  })()
  : null;
// The servers' module (Node, Deno, workerd: built for speed), when built.
const serverFile = join(opts.pkg, 'buyerpath_server_bg.wasm');
const server = existsSync(serverFile)
  ? (() => {
    const w = sizesOf(readFileSync(serverFile));
    return { wasm: w, wasmAndGlue: add(w, glue) };
  })()
  : null;
const result = { pkg: opts.pkg, wasm, glue, wasmAndGlue: add(wasm, glue), server, page, bundles, twiggy, budgetGzip: 61440 };
if (opts.json) writeJson(opts.json, result);

const line = (name, s) => (s && s.raw !== undefined ? `${name.padEnd(44)} ${String(s.raw).padStart(9)} ${String(s.gzip).padStart(9)} ${String(s.brotli).padStart(9)}` : `${name.padEnd(44)} ${s && s.error ? `failed: ${s.error}` : 'n/a'}`);
console.log(`${'size (bytes)'.padEnd(44)} ${'raw'.padStart(9)} ${'gzip'.padStart(9)} ${'brotli'.padStart(9)}`);
console.log(line('buyerpath_bg.wasm', wasm));
console.log(line('buyerpath.js (glue)', glue));
console.log(line('Wasm + glue (budget: 61,440 gzip)', result.wasmAndGlue));
if (server) console.log(line('Wasm + glue, server module (speed build)', server.wasmAndGlue));
if (page) console.log(line('Wasm + glue, page build (no JSON compiler)', page.wasmAndGlue));
console.log(line('buyerpath browser entry, esbuild (JS only)', bundles.buyerpath));
console.log(line('buyerpath browser entry + Wasm', bundles.buyerpathWithWasm));
console.log(line('@growthbook/growthbook (GrowthBook class)', bundles.growthbook));
console.log(line('@growthbook/growthbook (evalCondition only)', bundles.growthbookEvalCondition));
console.log(line('json-rules-engine (Engine)', bundles.jsonRulesEngine));
if (twiggy.ok) {
  console.log(`\ntwiggy top (wasm-opt ${twiggy.level}, names kept; ${twiggy.total} B of code and data)`);
  for (const t of twiggy.top) console.log(`${String(t.bytes).padStart(8)} ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.name.slice(0, 90)}\n${' '.repeat(16)}${t.what}`);
  console.log('\nby crate');
  for (const c of twiggy.crates) console.log(`${String(c.bytes).padStart(8)} ${(c.share * 100).toFixed(1).padStart(5)}%  ${c.crate}`);
} else console.log(`twiggy: ${twiggy.error}`);

/** The crate an item comes from: the first path segment of its (demangled) name. */
function crateOf(name) {
  if (/^data segment|^data\[/.test(name)) return 'data segments (.rodata, .data)';
  if (/ shim$/.test(name)) return 'buyerpath_wasm';
  if (/^(code|func)\[\d+\]$/.test(name)) return 'unnamed functions';
  if (/^(table|elem|type|import|export|global|memory)\b/i.test(name)) return 'wasm tables, types, imports, exports';
  const m = /([A-Za-z_][A-Za-z0-9_]*)::/.exec(name.replace(/^[<&\s]+|^(impl|dyn)\s+/g, ''));
  if (!m) return name.startsWith('__') || /^[a-z_]+$/.test(name) ? 'runtime symbols (memcpy, malloc, wasm-bindgen)' : 'other';
  return ['num', 'fmt', 'str', 'slice', 'ptr'].includes(m[1]) ? 'core' : m[1];
}

/** What a large item is, in a few words. */
function describe(name) {
  const rules = [
    [/^data segment "\.rodata|^data\[/, 'constant data: error and issue messages, labels, serde field names, Unicode and format tables'],
    [/^data segment/, 'initialised static data'],
    [/^engine_new .*shim/, 'the Engine constructor: JSON playbook parse + validate + compile, inlined into the export'],
    [/WasmVisitor::decide_json|^visitor_decide/, 'the decideJson export: the whole decide pipeline (gates → signals) inlined, and the decision serializer'],
    [/WasmVisitor::observe_json|^visitor_observe/, 'the observeJson export: event parsing and observe inlined'],
    [/ shim$/, 'a wasm-bindgen export shim (with what it calls inlined)'],
    [/buyerpath::playbook::validate/, 'playbook validation: every rule of the JSON playbook, with paths and hints'],
    [/buyerpath::engine::compile/, 'the playbook compiler (references → indices, conditions, content vectors)'],
    [/buyerpath::playbook::(parse|content)|buyerpath::playbook::.*Deserialize|_::<impl serde.*Deserialize for buyerpath::playbook/, 'playbook parsing (serde derive for the playbook structs)'],
    [/buyerpath::json_path::read/, 'JSON text read into the engine\'s types (serde_json, inlined per type), with the JSON path of a failure'],
    [/Engine>::decode|buyerpath::state::/, 'visitor state codec (base64, varints, HMAC check, migration)'],
    [/buyerpath::condition::parse/, 'condition compiler (the GrowthBook/MongoDB operators)'],
    [/buyerpath::condition/, 'condition evaluation'],
    [/buyerpath::decide/, 'decide: the pipeline from gates to signals'],
    [/buyerpath::recommend/, 'content ranking and slot filling'],
    [/buyerpath::signals/, 'signal construction (Segment-shaped events)'],
    [/buyerpath::observe/, 'observe: folding an event into the state'],
    [/buyerpath::explain/, 'the explain report (text)'],
    [/buyerpath::suggest/, '"did you mean" suggestions for errors'],
    [/buyerpath::/, 'engine code'],
    [/serde_path_to_error/, 'serde_path_to_error: JSON paths in parse errors'],
    [/serde_json.*(de|Deserializer|deserialize)/, 'serde_json deserializer, monomorphised per playbook/event struct'],
    [/serde_json.*(ser|Serializer|serialize)/, 'serde_json serializer (decision output)'],
    [/serde_json/, 'serde_json'],
    [/regex_lite/, 'regex-lite ($regex compiler and matcher)'],
    [/sha2|Sha256|compress256/, 'SHA-256 (hashed lists, state signature)'],
    [/hmac/, 'HMAC (signed state)'],
    [/base64/, 'base64 (state encoding)'],
    [/dlmalloc|__rust_alloc|__rdl_/, 'the allocator (dlmalloc)'],
    [/core::fmt|alloc::fmt|fmt::/, 'formatting machinery (format!, Display)'],
    [/wasm_bindgen|__wbg|__wbindgen/, 'wasm-bindgen shims'],
    [/buyerpath_wasm|WasmEngine|WasmVisitor/, 'the bindings (wasm/)'],
    [/libm::/, 'libm (exp2, pow, round)'],
    [/core::str|unicode/, 'string and Unicode routines'],
    [/core::slice::sort/, 'the standard sort (one instance: the crate sorts through src/sort.rs)'],
    [/alloc::|core::/, 'standard library (collections, slices, strings)'],
  ];
  for (const [re, what] of rules) if (re.test(name)) return what;
  return 'other';
}
