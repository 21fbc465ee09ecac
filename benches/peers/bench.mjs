#!/usr/bin/env node
// Peers in the same run, on equivalent work, as ratios to buyerpath (the npm
// package in the same Node process):
//
// - json-rules-engine and a hand-written JavaScript scorer: the reference
//   playbook's gates, fit and engagement rules on the same visitors. Their
//   scores (qualified, every gate's status, fit score and tier, engagement
//   score and points) are checked equal to buyerpath's decisions for all
//   visitors of every size before anything is timed.
// - GrowthBook's JavaScript SDK `evalCondition` on the 143 conformance
//   conditions, against the package's condition evaluator when it exports
//   one (`evalCondition`, `CompiledCondition`; see conditionApi in benches/node/lib.mjs).
//
// buyerpath's decide does more than the peers: it also classifies stage and
// role, the lifecycle, ranks the catalogue for 3 slots, fires triggers and
// builds the signals; observe also folds stage, role and topic evidence. The
// `score` row is the equivalent work (`scoreJson`: gates, fit, engagement).
//
//   node benches/peers/bench.mjs [--pkg DIR] [--quick] [--json FILE] [--workload DIR]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evalCondition as gbEvalCondition } from '@growthbook/growthbook';
import { conditionApi, measure, measureTurns, options, printRows, root, scoresOf, workload, writeJson } from '../node/lib.mjs';
import * as handwritten from './handwritten.mjs';
import * as rulesEngine from './rules-engine.mjs';

const opts = options();
const mod = await import(join(opts.pkg, 'node.js'));
const { Engine } = mod;
const wl = workload(opts.workload);
const S = opts.scale;
const REF_ITEMS = 500;
const REF_EVENTS = 200;
const SIZES = [1, 20, 200, 2000];

const text = wl.playbookText(REF_ITEMS);
const playbook = JSON.parse(text);
const engine = new Engine(text);
const peers = [handwritten.compile(playbook), rulesEngine.compile(playbook)];
const versions = {
  'json-rules-engine': JSON.parse(readFileSync(join(root, 'node_modules', 'json-rules-engine', 'package.json'), 'utf8')).version,
  '@growthbook/growthbook': JSON.parse(readFileSync(join(root, 'node_modules', '@growthbook', 'growthbook', 'package.json'), 'utf8')).version,
};

// ---------------------------------------------------------------- 1. same scores
const parity = { visitors: 0, mismatches: [] };
for (const n of SIZES) {
  for (const w of wl.visitors(n)) {
    const v = engine.visitor(w.id);
    for (const e of w.events) v.observeJson(JSON.stringify(e));
    const want = JSON.stringify(scoresOf(JSON.parse(v.decideJson(JSON.stringify(w.request)))));
    v.free();
    for (const p of peers) {
      const s = p.newVisitor();
      for (const e of w.events) await p.observe(s, e);
      const got = JSON.stringify(await p.score(s, w.request));
      if (got !== want) parity.mismatches.push({ peer: p.name, events: n, profile: w.profile, buyerpath: want, peer_scores: got });
    }
    parity.visitors += 1;
  }
}
for (const m of parity.mismatches) console.error(`scores differ: ${m.peer}, ${m.events} events, ${m.profile}\n  buyerpath ${m.buyerpath}\n  peer      ${m.peer_scores}`);
console.error(`parity: ${parity.visitors} visitors × ${peers.length} peers, ${parity.mismatches.length} differ`);

// ---------------------------------------------------------------- 2. timing
const ref = wl.visitors(REF_EVENTS)[0];
// Warm-up (V8 optimises hot Wasm and JS in the background): the parity check
// above ran every path once; run the reference work for a while more.
{
  const stop = performance.now() + (opts.quick ? 500 : 3000);
  const reqJson = JSON.stringify(ref.request);
  while (performance.now() < stop) {
    const v = engine.visitor(ref.id);
    for (const e of ref.events) v.observeJson(JSON.stringify(e));
    for (let i = 0; i < 10; i++) v.decideJson(reqJson);
    v.free();
    const s = peers[0].newVisitor();
    for (const e of ref.events) peers[0].observe(s, e);
    peers[0].score(s, ref.request);
  }
}
const refEventsJson = ref.events.map((e) => JSON.stringify(e));
const refRequestJson = JSON.stringify(ref.request);
const comparisons = [];
const rows = [];
const compare = async (id, what, ours, theirs) => {
  const bp = ours;
  rows.push({ id: `${id}/buyerpath`, name: `${what} — buyerpath`, ...bp });
  const entry = { id, what, buyerpath: bp, peers: [] };
  for (const [name, r] of theirs) {
    rows.push({ id: `${id}/${name}`, name: `${what} — ${name}`, ...r });
    entry.peers.push({ name, ...r, ratio: r.median / bp.median });
  }
  comparisons.push(entry);
};
const isAsync = (p) => p.name === 'json-rules-engine';
// Each comparison times buyerpath and the peers in turns (measureTurns), so a
// change in the machine's speed during the run does not tilt their ratios.
const turns = (ours, theirs, o = {}) => measureTurns([...ours, ...theirs], { scale: S, ...o });
const named = (results, from) => peers.map((p, i) => [p.name, results[from + i]]);

// compile the playbook from its JSON text
{
  const r = await turns([{ fn: () => new Engine(text).free() }],
    peers.map((p) => ({ fn: () => (p.name === 'json-rules-engine' ? rulesEngine : handwritten).compile(JSON.parse(text)) })), { ms: 1500 });
  await compare('compile', `compile the ${REF_ITEMS}-item playbook from JSON text`, r[0], named(r, 1));
}

// observe: fold the reference visitor's 200 events into a fresh visitor.
// The peers' observe answers nothing; buyerpath's `recordJson` is the same
// kind of call (no answer: `observeJson` also writes and hands one over). A
// package from before `recordJson` is timed with `observeJson`, and the
// results say which (`fold`).
const fold = (() => { const v = engine.visitor(ref.id); const f = typeof v.recordJson === 'function' ? 'recordJson' : 'observeJson'; v.free(); return f; })();
{
  const r = await turns([{ fn: () => { const v = engine.visitor(ref.id); for (const e of refEventsJson) v[fold](e); v.free(); } }],
    peers.map((p) => (isAsync(p)
      ? { async: true, fn: async () => { const s = p.newVisitor(); for (const e of ref.events) await p.observe(s, e); } }
      : { fn: () => { const s = p.newVisitor(); for (const e of ref.events) p.observe(s, e); } })));
  await compare('observe', `observe ${REF_EVENTS} events (fresh visitor)`, r[0], named(r, 1));
}

// decide/score a visitor who has 200 events
{
  const v = engine.visitor(ref.id);
  for (const e of refEventsJson) v.observeJson(e);
  v.decideJson(refRequestJson);
  const states = [];
  for (const p of peers) {
    const s = p.newVisitor();
    for (const e of ref.events) await p.observe(s, e);
    states.push(s);
  }
  // The same work as the peers: gates, fit and engagement only (`scoreJson`,
  // whose numbers tests/score.rs checks equal to decide's).
  const score = typeof v.scoreJson === 'function';
  const ours = [{ fn: () => v.decideJson(refRequestJson), batch: 10 }];
  if (score) ours.push({ fn: () => v.scoreJson(refRequestJson), batch: 10 });
  const r = await turns(ours, peers.map((p, i) => (isAsync(p)
    ? { async: true, fn: () => p.score(states[i], ref.request) }
    : { fn: () => p.score(states[i], ref.request), batch: 10 })));
  await compare('decide', `score a ${REF_EVENTS}-event visitor (buyerpath: the whole decide)`, r[0], named(r, ours.length));
  if (score) {
    await compare('score', `score a ${REF_EVENTS}-event visitor (buyerpath: scoreJson, the same work)`, r[1], named(r, ours.length));
  }
  v.free();
}

// from scratch: events in, scores out
{
  const r = await turns([{ fn: () => { const v = engine.visitor(ref.id); for (const e of refEventsJson) v[fold](e); v.decideJson(refRequestJson); v.free(); } }],
    peers.map((p) => (isAsync(p)
      ? { async: true, fn: async () => { const s = p.newVisitor(); for (const e of ref.events) await p.observe(s, e); await p.score(s, ref.request); } }
      : { fn: () => { const s = p.newVisitor(); for (const e of ref.events) p.observe(s, e); p.score(s, ref.request); } })));
  await compare('end_to_end', `${REF_EVENTS} events in, decision out (fresh visitor)`, r[0], named(r, 1));
}

// ---------------------------------------------------------------- 3. GrowthBook evalCondition
const cases = JSON.parse(readFileSync(join(root, 'tests', 'conformance', 'growthbook', 'cases.json'), 'utf8')).evalCondition;
// GrowthBook logs an unknown operator (one case, `$regx`) on every call: muted
// while measuring so the figure is evaluation, not terminal output.
const mute = (fn) => {
  const saved = [console.error, console.warn, console.log];
  console.error = console.warn = console.log = () => {};
  try {
    return fn();
  } finally {
    [console.error, console.warn, console.log] = saved;
  }
};
const gbOk = mute(() => cases.every(([, c, a, want, groups]) => gbEvalCondition(a, c, groups) === want));
const gb = mute(() => measure(() => { for (const [, c, a] of cases) gbEvalCondition(a, c); }, { scale: S }));
rows.push({ id: 'condition/growthbook', name: `GrowthBook evalCondition, 143 cases${gbOk ? '' : ' (WRONG RESULTS)'}`, ...gb });
const cond = { growthbook: { ...gb, correct: gbOk }, buyerpath: {} };
const api = conditionApi(mod);
if (api.evalCondition) {
  api.throws = 0;
  const ok = cases.every(([, c, a, want]) => api.evalCondition(c, a) === want);
  cond.buyerpath.refused = api.throws;
  const r = measure(() => { for (const [, c, a] of cases) api.evalCondition(c, a); }, { scale: S });
  rows.push({ id: 'condition/buyerpath_oneshot', name: `buyerpath evalCondition (objects in, compile + eval), 143 cases${ok ? '' : ' (WRONG)'}`, ...r });
  cond.buyerpath.oneshot = { ...r, correct: ok, ratio: gb.median / r.median };
}
if (api.compile) {
  const compiled = cases.map(([, c, a, want]) => [api.compile(c), a, want]);
  const ok = compiled.every(([h, a, want]) => api.eval(h, a) === want);
  const r = measure(() => { for (const [h, a] of compiled) api.eval(h, a); }, { scale: S });
  rows.push({ id: 'condition/buyerpath_compiled', name: `buyerpath CompiledCondition.eval (attributes as objects), 143 cases${ok ? '' : ' (WRONG)'}`, ...r });
  cond.buyerpath.compiled = { ...r, correct: ok, ratio: gb.median / r.median };
  // The same with the attributes already JSON text (what crossing the boundary costs).
  const texts = compiled.map(([h, a]) => [h, JSON.stringify(a)]);
  const t = measure(() => { for (const [h, a] of texts) api.eval(h, a); }, { scale: S });
  rows.push({ id: 'condition/buyerpath_compiled_text', name: 'buyerpath CompiledCondition.eval (attributes as JSON text), 143 cases', ...t });
  cond.buyerpath.compiledText = { ...t, ratio: gb.median / t.median };
}
if (!api.evalCondition && !api.compile) console.error('the package exports no condition evaluator: GrowthBook is compared with the native figure only (scripts/bench.mjs)');

engine.free();
const result = { node: process.version, quick: opts.quick, versions, parity, fold, comparisons, conditions: cond, rows };
if (opts.json) writeJson(opts.json, result);
printRows(`peers — Node ${process.version}${opts.quick ? ' (quick run)' : ''}`, rows);
console.log('\nratio = peer median / buyerpath median (> 1: buyerpath is faster)');
for (const c of comparisons) for (const p of c.peers) console.log(`  ${c.what}: ${p.name} ${p.ratio.toFixed(2)}×`);
