#!/usr/bin/env node
// The npm package in Node on the reference workload: compile, observe,
// decide (by visitor size and by catalogue size), the boundary formats,
// encode/decode and, when the package exports it, condition evaluation.
// Median and p99 per call.
//
//   cargo run --release -p buyerpath-cli -- workload --out target/workload
//   node scripts/build-pkg.mjs
//   node benches/node/bench.mjs [PKG_DIR] [--quick] [--json FILE] [--workload DIR]
//
// With the workload's playbook compiled ahead (`buyerpath compile
// playbook-500.json`), it also times loading that engine file through
// `buyerpath/page` (the page build).
//
// `scripts/bench.mjs` runs it with the rest and writes BENCHMARKS.md.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { conditionApi, measure, options, printRows, root, workload, writeJson } from './lib.mjs';

const opts = options();
const mod = await import(join(opts.pkg, 'node.js'));
const { Engine } = mod;
const wl = workload(opts.workload);
const S = opts.scale;
const SECRET = 'bench-secret';
const REF_ITEMS = 500;
const REF_EVENTS = 200;
export const CATALOGUES = [50, 150, 500, 1500, 5000];
export const HISTORIES = [1, 20, 200, 2000];

const rows = [];
const row = (id, name, r, extra = {}) => {
  rows.push({ id, name, ...r, ...extra });
  if (!opts.json) process.stderr.write(`  ${name}\n`);
};

// Catalogue variants: the generated files, and prefixes of the largest (a
// smaller catalogue is a prefix of a larger one, see tools/src/workload.rs).
const big = JSON.parse(wl.playbookText(5000));
const playbookText = (n) => {
  try {
    return wl.playbookText(n);
  } catch {
    return JSON.stringify({ ...big, content: big.content.slice(0, n) });
  }
};

/** The reference visitor (first profile) with `n` events, its events as JSON strings. */
const visitorOf = (n) => {
  const w = wl.visitors(n)[0];
  return { ...w, eventsJson: w.events.map((e) => JSON.stringify(e)), requestJson: JSON.stringify(w.request) };
};
const observed = (engine, w, method = 'observeJson') => {
  const v = engine.visitor(w.id);
  for (const e of w.eventsJson) v[method](e);
  return v;
};

// ---------------------------------------------------------------- warm-up
// V8 compiles Wasm with a baseline compiler first and optimises hot functions
// in the background; on a busy 2-core machine that takes seconds. Run every
// operation for a while before the first measurement so no row pays for it.
{
  const text = playbookText(REF_ITEMS);
  const w = visitorOf(REF_EVENTS);
  const stop = performance.now() + (opts.quick ? 1000 : 4000);
  while (performance.now() < stop) {
    const e = new Engine(text);
    const v = observed(e, w);
    for (let i = 0; i < 20; i++) v.decideJson(w.requestJson);
    e.decode(v.encode()).free();
    v.free();
    e.free();
  }
}

// ---------------------------------------------------------------- compile
for (const n of [50, 500, 5000]) {
  const text = playbookText(n);
  row(`compile/${n}`, `compile, ${n}-item playbook (JSON string, ${(text.length / 1024).toFixed(0)} KiB)`,
    measure(() => new Engine(text).free(), { ms: n >= 5000 ? 2500 : 1500, scale: S, minSamples: 3 }));
}
const refText = playbookText(REF_ITEMS);
const refObject = JSON.parse(refText);
// The floor for any compiler that reads the playbook as JSON: V8's own parser
// on the same text, which only builds objects (no validation, no compiling).
row(`json_parse/${REF_ITEMS}`, `JSON.parse of the ${REF_ITEMS}-item playbook text (V8's parser alone: the floor for reading it as JSON)`,
  measure(() => JSON.parse(refText), { ms: 1000, scale: S, minSamples: 3 }));
row('compile_object/500', 'compile, 500-item playbook (object)', measure(() => new Engine(refObject).free(), { ms: 1000, scale: S }));
// `buyerpath/page` (no JSON compiler) loading the same playbook compiled
// ahead by `buyerpath compile`, when both are there.
const engineFile = join(opts.workload, `playbook-${REF_ITEMS}.bpe`);
if (existsSync(join(opts.pkg, 'page', 'node.js')) && existsSync(engineFile)) {
  const page = await import(join(opts.pkg, 'page', 'node.js'));
  const bytes = readFileSync(engineFile);
  row(`load/${REF_ITEMS}`, `load the ${REF_ITEMS}-item engine compiled ahead (\`buyerpath/page\`, Engine.fromBytes, ${(bytes.length / 1024).toFixed(0)} KiB)`,
    measure(() => page.Engine.fromBytes(bytes).free(), { ms: 1000, scale: S }));
}

const engine = new Engine(refText);

// ---------------------------------------------------------------- observe
for (const n of HISTORIES) {
  const w = visitorOf(n);
  const r = measure(() => observed(engine, w).free(), { ms: 1000, batch: n < 20 ? 20 : 1, scale: S });
  row(`observe/${n}`, `observe ${n} event${n > 1 ? 's' : ''} (fresh visitor, observeJson)`, r, { perEvent: r.median / n });
}
{
  // The same events folded without an answer (`recordJson`).
  const w = visitorOf(REF_EVENTS);
  const v0 = engine.visitor(w.id);
  if (typeof v0.recordJson === 'function') {
    const r = measure(() => observed(engine, w, 'recordJson').free(), { ms: 1000, batch: 1, scale: S });
    row(`record/${REF_EVENTS}`, `observe ${REF_EVENTS} events (fresh visitor, recordJson: no answer)`, r, { perEvent: r.median / REF_EVENTS });
  }
  v0.free();
}

// ---------------------------------------------------------------- decide by history (500 items)
const ref = visitorOf(REF_EVENTS);
for (const n of HISTORIES) {
  const w = n === REF_EVENTS ? ref : visitorOf(n);
  const v = observed(engine, w);
  v.decideJson(w.requestJson);
  row(`decide_history/${n}`, `decide, ${n}-event visitor, ${REF_ITEMS} items, steady (decideJson)`, measure(() => v.decideJson(w.requestJson), { batch: 10, scale: S }));
  v.free();
}

// ---------------------------------------------------------------- decide by catalogue (200 events)
for (const n of CATALOGUES) {
  const e = n === REF_ITEMS ? engine : new Engine(playbookText(n));
  const v = observed(e, ref);
  v.decideJson(ref.requestJson);
  row(`decide_catalogue/${n}`, `decide, ${REF_EVENTS}-event visitor, ${n} items, steady (decideJson)`, measure(() => v.decideJson(ref.requestJson), { batch: n >= 5000 ? 1 : 10, scale: S }));
  v.free();
  if (e !== engine) e.free();
}

// ---------------------------------------------------------------- boundary formats, first decision, state
const base = observed(engine, ref);
const state = base.encode();
const signed = base.encode(SECRET);
const steady = engine.decode(state);
steady.decideJson(ref.requestJson);
row('decide_object/200', 'decide, reference, object in/out (decide)', measure(() => steady.decide(ref.request), { batch: 10, scale: S }));
// `detail: 'brief'`: the same decision, its answer without the explaining lists.
const briefRequest = { ...ref.request, detail: 'brief' };
const briefJson = JSON.stringify(briefRequest);
row('decide_brief/200', `decide, reference, brief answer (decideJson, detail brief: ${steady.decideJson(briefJson).length} against ${steady.decideJson(ref.requestJson).length} characters)`, measure(() => steady.decideJson(briefJson), { batch: 10, scale: S }));
row('decide_brief_object/200', 'decide, reference, brief answer, object in/out (decide, detail brief)', measure(() => steady.decide(briefRequest), { batch: 10, scale: S }));
if (typeof steady.decideSwb === 'function') {
  row('decide_swb/200', 'decide, reference, serde-wasm-bindgen objects (decideSwb)', measure(() => steady.decideSwb(ref.request), { batch: 10, scale: S }));
}
row('decide_first/200', 'decide, reference, first decision (decode + decideJson)', measure(() => {
  const v = engine.decode(state);
  v.decideJson(ref.requestJson);
  v.free();
}, { batch: 5, scale: S }));
const event = ref.eventsJson[ref.eventsJson.length - 1];
row('observe_one/200', 'observe 1 event on a 200-event visitor (decode + observeJson)', measure(() => {
  const v = engine.decode(state);
  v.observeJson(event);
  v.free();
}, { batch: 10, scale: S }));
row('encode/200', `encode state (${state.length} chars)`, measure(() => steady.encode(), { batch: 50, scale: S }));
row('decode/200', 'decode state', measure(() => engine.decode(state).free(), { batch: 50, scale: S }));
row('encode_signed/200', `encode state, signed (${signed.length} chars)`, measure(() => steady.encode(SECRET), { batch: 50, scale: S }));
row('decode_signed/200', 'decode state, signed', measure(() => engine.decode(signed, { secret: SECRET }).free(), { batch: 50, scale: S }));

// ---------------------------------------------------------------- conditions (when exported)
const cases = JSON.parse(readFileSync(join(root, 'tests', 'conformance', 'growthbook', 'cases.json'), 'utf8')).evalCondition;
const condApi = conditionApi(mod);
if (condApi.evalCondition) {
  const ok = cases.every(([, c, a, want]) => condApi.evalCondition(c, a) === want);
  row('condition_oneshot/143', `evalCondition, 143 conformance cases (one call each)${ok ? '' : ' — WRONG RESULTS'}`,
    measure(() => { for (const [, c, a] of cases) condApi.evalCondition(c, a); }, { scale: S }));
}
if (condApi.compile) {
  const compiled = cases.map(([, c, a]) => [condApi.compile(c), a]);
  row('condition_compiled/143', 'compiled conditions, 143 conformance cases (eval only)',
    measure(() => { for (const [c, a] of compiled) condApi.eval(c, a); }, { scale: S }));
}

const result = {
  node: process.version,
  pkg: opts.pkg,
  quick: opts.quick,
  api: { decideSwb: typeof steady.decideSwb === 'function', evalCondition: !!condApi.evalCondition, compiledCondition: !!condApi.compile },
  stateChars: state.length,
  rows,
};
steady.free();
base.free();
engine.free();

if (opts.json) writeJson(opts.json, result);
printRows(`buyerpath package — Node ${process.version}, ${opts.pkg}${opts.quick ? ' (quick run)' : ''}`, rows);
