#!/usr/bin/env node
// Cold start in fresh Node processes: `buyerpath` compiling the edge
// playbook's JSON (with the module Node loads, built for speed, and with the
// one browsers load, built for size) against `buyerpath/page` loading the
// same playbook compiled ahead. Each process times the Wasm module's compile and instantiate, the
// engine, and one observe + decide; the medians of RUNS processes each.
//
// The edge playbook is the example's full one (examples/acme/playbook.json,
// what scripts/build-www.mjs --edge compiles into the worker's KV).
//
//   cargo build --release -p buyerpath-cli
//   node benches/node/cold.mjs [--runs 5] [--pkg DIR]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.indexOf(n) >= 0 ? args[args.indexOf(n) + 1] : d);
const runs = Number(opt('--runs', 5));
const pkg = join(root, opt('--pkg', 'pkg'));
const bin = process.env.BUYERPATH_BIN ?? join(root, 'target', 'release', 'buyerpath');
const dir = join(root, 'target', 'bench', 'cold');
mkdirSync(dir, { recursive: true });
const playbookFile = join(root, 'examples', 'acme', 'playbook.json');
const engineFile = join(dir, 'edge-playbook.bpe');
execFileSync(bin, ['compile', playbookFile, '-o', engineFile], { stdio: 'ignore' });

// The modules: the package's for servers and for browsers (one glue), the page build's.
const MODES = {
  json: { dir: pkg, wasm: 'buyerpath_server_bg.wasm', name: 'buyerpath, Node entry (compiles the JSON)' },
  'json-browser': { dir: pkg, wasm: 'buyerpath_bg.wasm', name: 'buyerpath, browser module (the same)' },
  bytes: { dir: join(pkg, 'page'), wasm: 'buyerpath_bg.wasm', name: 'buyerpath/page (loads it compiled ahead)' },
};
// One fresh process: `mode` is one of MODES.
const probe = (mode) => `
  import { readFileSync } from 'node:fs';
  const dir = ${JSON.stringify(MODES[mode].dir)};
  const glue = await import(dir + '/buyerpath.js');
  const t0 = performance.now();
  const module = new WebAssembly.Module(readFileSync(dir + '/${MODES[mode].wasm}'));
  glue.initSync({ module });
  const t1 = performance.now();
  const engine = ${mode !== 'bytes' ? `new glue.Engine(readFileSync(${JSON.stringify(playbookFile)}, 'utf8'))` : `glue.Engine.fromBytes(readFileSync(${JSON.stringify(engineFile)}))`};
  const t2 = performance.now();
  const v = engine.visitor('cold');
  v.observeJson(JSON.stringify({ type: 'page_view', ts: 1793610000000, content_id: 'pricing', url: '/pricing', dwell_seconds: 20 }));
  v.decideJson(JSON.stringify({ now: 1793610060000, slots: engine.slots, context: { consent: 'anonymous', page: { url: '/pricing', content_id: 'pricing' } } }));
  const t3 = performance.now();
  console.log(JSON.stringify({ module: t1 - t0, engine: t2 - t1, decide: t3 - t2, total: t3 - t0 }));
`;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const result = {};
for (const mode of Object.keys(MODES)) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    samples.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe(mode)]).toString()));
  }
  result[mode] = Object.fromEntries(['module', 'engine', 'decide', 'total'].map((k) => [k, median(samples.map((s) => s[k]))]));
}
const f = (x) => `${x.toFixed(1)} ms`;
console.log(`cold start, fresh Node processes (median of ${runs}), the edge playbook:`);
for (const [mode, { name }] of Object.entries(MODES)) {
  const r = result[mode];
  console.log(`  ${name.padEnd(42)} module ${f(r.module)}, engine ${f(r.engine)}, first observe + decide ${f(r.decide)}, in all ${f(r.total)}`);
}
writeFileSync(join(root, 'target', 'bench', 'cold.json'), JSON.stringify({ runs, ...result }, null, 2) + '\n');
