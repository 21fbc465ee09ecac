// Soak through the built package in Node: one visitor fed a long stream of
// events (observeJson) keeps a bounded state, and one engine kept alive for
// many decisions over a pool of visitors (decode → observe → decideJson →
// encode → free, as an edge worker does per request) does not grow: the
// WebAssembly memory (the module's whole heap) is the same size after
// warm-up as at the end, and every state stays within its 1,200-character budget.
//
// CI size by default (100,000 events, 20,000 decisions);
// SOAK_FULL=1 runs 1,000,000 of each and prints the figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { requirePkg, playbookText, pkgDir } from './fixtures.mjs';

requirePkg();
const { Engine } = await import(`${pkgDir}/node.js`);
// node.js instantiated the module already; initSync hands back the same exports.
const { initSync } = await import(`${pkgDir}/buyerpath.js`);
const wasm = initSync({ module: readFileSync(`${pkgDir}/buyerpath_bg.wasm`) });
const memory = () => wasm.memory.buffer.byteLength;

const FULL = process.env.SOAK_FULL === '1';
const EVENTS = FULL ? 1_000_000 : 100_000;
const DECISIONS = FULL ? 1_000_000 : 20_000;
const BUDGET = 1200;
const T0 = 1_793_610_000_000;
const ids = JSON.parse(playbookText).content.map((c) => c.id);

/** The i-th event of an endless stream (sessions, clicks, downloads, forms, bursts). */
function event(i, clock) {
  const session = Math.floor(i / 8);
  clock.t += i % 8 === 0 ? 5 * 3_600_000 : 45_000;
  if (session % 50 === 49) clock.t -= 44_900; // a bot-like burst: 100 ms apart
  const ts = clock.t;
  const id = ids[(i * 7 + Math.floor(i / 11)) % ids.length];
  switch (i % 13) {
    case 3:
      return JSON.stringify({ type: 'cta_click', ts, content_id: id, cta: 'pricing' });
    case 7:
      return JSON.stringify({ type: 'download', ts, content_id: id });
    case 11:
      return JSON.stringify({ type: 'form_submit', ts, form: 'newsletter', fields: { budget: '$50k-$250k', timeline: 'this quarter' } });
    case 12:
      return JSON.stringify({ type: 'custom', ts, name: `n${i % 97}` });
    default:
      return JSON.stringify({ type: 'page_view', ts, content_id: id, url: `/c/${id}?utm_source=s${i % 31}`, dwell_seconds: (i % 9) * 20 });
  }
}

function request(now, i) {
  return JSON.stringify({
    now,
    slots: ['hero', 'cta', 'reading', 'sidebar'],
    context: {
      consent: i % 2 ? 'full' : 'anonymous',
      company: { domain: `co${i % 1000}.example`, industry: 'financial_services', employees: 200 + (i % 5000), country: 'US', region: 'NY' },
      person: { title: 'VP Engineering' },
      campaign: { source: `s${i % 17}`, medium: 'cpc' },
      page: { url: `/c/${i % 63}` },
    },
  });
}

function table(label, rows) {
  console.log(label);
  console.log('         n   encoded   wasm memory   JS heap');
  for (const r of rows) console.log(`${String(r.n).padStart(10)}  ${String(r.encoded).padStart(8)}  ${String(r.memory).padStart(12)}  ${String(r.heap).padStart(8)}`);
}

test(`a visitor fed ${EVENTS.toLocaleString('en')} events keeps a bounded state and the Wasm memory stops growing`, () => {
  const engine = new Engine(playbookText);
  const v = engine.visitor('soak-visitor');
  const clock = { t: T0 };
  const every = EVENTS / 10;
  const rows = [];
  for (let i = 0; i < EVENTS; i++) {
    v.observeJson(event(i, clock));
    if (i % 1000 === 999) v.decideJson(request(clock.t + 1000, i));
    if ((i + 1) % every === 0) rows.push({ n: i + 1, encoded: v.encode().length, memory: memory(), heap: process.memoryUsage().heapUsed });
  }
  v.free();
  engine.free();
  table(`${EVENTS} events, one visitor`, rows);
  for (const r of rows) assert.ok(r.encoded <= BUDGET, `state ${r.encoded} chars at ${r.n}`);
  assert.equal(rows.at(-1).memory, rows[0].memory, `the Wasm memory grew after warm-up: ${rows.map((r) => r.memory)}`);
});

test(`an engine kept alive for ${DECISIONS.toLocaleString('en')} decisions does not grow`, () => {
  const engine = new Engine(playbookText);
  const secret = 'soak-secret';
  const states = Array.from({ length: 100 }, (_, p) => {
    const v = engine.visitor(`pool-${p}`);
    const s = v.encode(secret);
    v.free();
    return s;
  });
  const clock = { t: T0 };
  const every = DECISIONS / 10;
  const rows = [];
  let maxEncoded = 0;
  for (let i = 0; i < DECISIONS; i++) {
    const slot = i % states.length;
    const v = engine.decode(states[slot], { secret });
    v.observeJson(event(i, clock));
    v.decideJson(request(clock.t + 500, i));
    states[slot] = v.encode(secret);
    v.free();
    maxEncoded = Math.max(maxEncoded, states[slot].length);
    if ((i + 1) % every === 0) rows.push({ n: i + 1, encoded: maxEncoded, memory: memory(), heap: process.memoryUsage().heapUsed });
  }
  engine.free();
  table(`${DECISIONS} decisions, one engine, 100 visitors`, rows);
  assert.ok(maxEncoded <= BUDGET + 24, `signed state ${maxEncoded} chars`);
  assert.equal(rows.at(-1).memory, rows[0].memory, `the Wasm memory grew after warm-up: ${rows.map((r) => r.memory)}`);
});
