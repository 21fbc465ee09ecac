#!/usr/bin/env node
// Node harness for the built package: compile, observe, decide, encode/decode,
// median and p99 per call, plus the boundary-format comparison when the package
// was built with `--features boundary-bench`.
//
//   node scripts/build-pkg.mjs --features boundary-bench --out target/pkg-bench
//   node benches/node/bench.mjs target/pkg-bench
import { readFileSync } from 'node:fs';
import { resolve, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = resolve(root, process.argv[2] ?? 'pkg');
const { Engine } = await import(join(pkg, 'node.js'));
const playbookText = readFileSync(join(root, 'examples', 'acme', 'playbook.json'), 'utf8');
const playbook = JSON.parse(playbookText);

/** Runs `fn` for about `ms` milliseconds after a warm-up; returns per-call median and p99 in µs. */
function measure(fn, { ms = 1500, batch = 1 } = {}) {
  const end = performance.now() + 300;
  while (performance.now() < end) fn();
  const samples = [];
  const stop = performance.now() + ms;
  while (performance.now() < stop) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
  }
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return { median: q(0.5), p99: q(0.99), n: samples.length * batch };
}

const T0 = 1793610000000;
const ids = playbook.content.map((c) => c.id);
const events = [];
let t = T0;
for (let i = 0; i < 200; i++) {
  t += i % 5 === 0 ? 7 * 3600000 : 97000;
  events.push({ type: 'page_view', ts: t, content_id: ids[(i * 7) % ids.length], dwell_seconds: (i % 9) * 20 });
}
const request = {
  now: t + 60000,
  slots: ['hero', 'reading', 'cta'],
  context: {
    consent: 'full',
    company: { domain: 'northbank.example', industry: 'financial_services', employees: 1200, revenue: 300000000, country: 'US', region: 'NY', type: 'business', tech: ['snowflake', 'dbt', 'airflow', 'aws'] },
    person: { title: 'VP Engineering' },
    account: { tier: 'tier1' },
    page: { content_id: 'pricing', url: '/pricing' },
  },
};
const requestJson = JSON.stringify(request);

const engine = new Engine(playbookText);
const base = engine.visitor('bench');
for (const e of events) base.observe(e);
const state = base.encode();
const steady = engine.decode(state);
steady.decide(request);

const rows = [];
const row = (name, r) => rows.push({ name, ...r });
row('compile example playbook (JSON string)', measure(() => new Engine(playbookText).free(), { ms: 2000 }));
row('compile example playbook (object)', measure(() => new Engine(playbook).free(), { ms: 2000 }));
row('observe 1 event (object)', measure(() => steady.observe(events[7]), { batch: 20 }));
row('decide, 200-event visitor, steady state (object in/out)', measure(() => steady.decide(request), { batch: 10 }));
row('decide, 200-event visitor, steady state (JSON string in/out)', measure(() => steady.decideJson(requestJson), { batch: 10 }));
if (typeof steady.decideSwb === 'function') {
  row('decide, steady state (serde-wasm-bindgen objects)', measure(() => steady.decideSwb(request), { batch: 10 }));
}
row('decide, first decision (decode + decide)', measure(() => { const v = engine.decode(state); v.decide(request); v.free(); }, { batch: 5 }));
row('encode state', measure(() => steady.encode(), { batch: 50 }));
row('decode state', measure(() => engine.decode(state).free(), { batch: 50 }));

console.log(`buyerpath package bench — Node ${process.version}, ${pkg}`);
console.log(`${'operation'.padEnd(62)} ${'median µs'.padStart(10)} ${'p99 µs'.padStart(10)} ${'calls'.padStart(8)}`);
for (const r of rows) console.log(`${r.name.padEnd(62)} ${r.median.toFixed(2).padStart(10)} ${r.p99.toFixed(2).padStart(10)} ${String(r.n).padStart(8)}`);
