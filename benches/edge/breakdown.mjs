#!/usr/bin/env node
// Where the edge worker's added CPU goes, step by step, in warm isolates.
//
//   BUYERPATH_BIN=target/release/buyerpath node scripts/build-www.mjs --edge
//   node benches/edge/breakdown.mjs [--quick] [--json FILE]
//
// Method. Variants of the built worker (www/edge/dist/worker.js) stop at
// successive points of a personalised request and return the page untouched
// there: after the lookups (KV, cookies, firmographics, the state decoded and
// the previous page observed), after decideJson, after everything but the
// body (encodes, headers, the inline data), and the whole worker (the slots
// filled in one pass, fill.mjs). Three more variants: the whole worker
// inlining `{}` instead of its data (what that JSON costs), one running
// decideJson ten extra times per request, so the cost of a repeated call
// (code and data in the caches) can be told from the first one, and one
// filling the slots with HTMLRewriter instead. Each variant
// runs in its own workerd against a pass-through one, requests interleaved,
// after WARM requests each (V8 tiers the Wasm up from Liftoff as functions
// get hot); the CPU is the workerd process's, read from /proc (workerd.mjs).
// Every request is the same returning visitor (one state cookie, recorded
// from the whole worker, sent unchanged), so every variant decodes the same
// state and observes the same previous page.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { options, root, writeJson } from '../node/lib.mjs';
import { SECRET, nextCookie, request, startMiniflare, stats } from './workerd.mjs';

const opts = options();
const { edgeOptions, seedKv, edgeDist } = await import(join(root, 'www', 'edge', 'dev.mjs'));
const built = join(edgeDist, 'worker.js');
if (!existsSync(built)) {
  console.error('www/edge/dist is missing: run BUYERPATH_BIN=target/release/buyerpath node scripts/build-www.mjs --edge');
  process.exit(1);
}
const WARM = opts.quick ? 100 : 3000;
const REQUESTS = opts.quick ? 40 : 400;
const source = readFileSync(built, 'utf8');

/** `text` with its one `at` replaced; a clear failure when the worker's code moved. */
function cut(text, at, by) {
  const parts = text.split(at);
  if (parts.length !== 2) throw new Error(`breakdown: \`${at.slice(0, 60)}…\` is in www/edge/dist/worker.js ${parts.length - 1} times, not once; update the cut points`);
  return parts.join(by);
}
// A variant's early answer: the page's status and headers, without its body
// (a page compiled by an earlier request has no body left to send: its
// asset's was cancelled), so the variants time the worker's own work.
const untouched = 'return new Response(null, { status: asset.status, headers: asset.headers });';
const decideCall = 'decision = JSON.parse(visitor.decideJson(JSON.stringify({ now, slots, context, detail })));';
const fill = '  let answer;\n  if (prepared.page) {';
const steps = [
  ['lookups, state decoded, previous page observed', cut(source, '  const page = { url: pageUrl(path) };', `visitor.free(); ${untouched}\n  const page = { url: pageUrl(path) };`)],
  ['+ decideJson', cut(source, decideCall, `visitor.decideJson(JSON.stringify({ now, slots, context, detail })); visitor.free(); ${untouched}`)],
  ['+ the decision parsed, two encodes, headers, inline data', cut(source, fill, `${untouched}\n${fill}`)],
  ['+ the slots filled in one pass (fill.mjs, the page compiled by an earlier request): the whole worker', source],
];
// The whole worker with `{}` as the inline data (the decision, state and
// context the page's layer reads): what building and sending that JSON costs.
const noInline = cut(source, '${inlineJson(edgeData)}', '{}');
const tenMore = cut(source, decideCall, `for (let i = 0; i < 10; i++) visitor.decideJson(JSON.stringify({ now, slots, context, detail }));\n    ${decideCall}`);
// The whole worker with HTMLRewriter filling the slots as the page streams
// (what it does for markup the one pass declines, and did for every page
// before fill.mjs): the page is not prepared for the one pass.
const rewriter = cut(source, 'const prepared = await preparePage(asset, url.pathname);', 'const prepared = { body: asset.body };');

const workDir = join(root, 'target', 'bench', 'edge-breakdown');
async function instance(name, code, vars = {}) {
  const dir = join(workDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'worker.js'), code);
  copyFileSync(join(edgeDist, 'buyerpath_bg.wasm'), join(dir, 'buyerpath_bg.wasm'));
  const o = edgeOptions({ STATE_SECRET: SECRET, COLLECTOR_URL: '', DEMO_SWITCHER: 'off', INSPECTOR: 'off', ...vars });
  o.modulesRoot = dir;
  o.modules = [
    { type: 'ESModule', path: join(dir, 'worker.js') },
    { type: 'CompiledWasm', path: join(dir, 'buyerpath_bg.wasm') },
  ];
  const inst = await startMiniflare(o);
  await seedKv(inst.mf);
  return { ...inst, name, cpu: [] };
}

const all = [];
const passThrough = await instance('pass-through', source, { PERSONALIZE: 'off' });
all.push(passThrough);
const variants = [];
const t0 = performance.now();
try {
  for (const [i, [label, code]] of steps.entries()) {
    variants.push({ ...(await instance(`step-${i}`, code)), label });
    all.push(variants[i]);
  }
  const inlineEmpty = await instance('inline-empty', noInline);
  all.push(inlineEmpty);
  const repeated = await instance('decide-11x', tenMore);
  all.push(repeated);
  const withRewriter = await instance('rewriter', rewriter);
  all.push(withRewriter);
  // A returning visitor: a first visit to another page, then its state.
  const whole = variants[variants.length - 1];
  const first = await request(whole, '/compare/lumora-vs-pipewatch', 'bp_consent=anonymous');
  if (!first.cookies.bp) throw new Error('breakdown: the whole worker set no state cookie (is www/edge/dist current?)');
  const cookie = nextCookie(first);
  const round = async (measure) => {
    for (const inst of all) {
      const r = await request(inst, '/pricing', cookie);
      if (r.res.status !== 200) throw new Error(`breakdown: ${inst.name} answered ${r.res.status}`);
      if (measure) inst.cpu.push(r.cpuUs);
    }
  };
  for (let i = 0; i < WARM; i++) await round(false);
  for (let i = 0; i < REQUESTS; i++) await round(true);
} finally {
  for (const inst of all) await inst.mf.dispose();
  rmSync(workDir, { recursive: true, force: true });
}
const withRewriter = all[all.length - 1];
const repeated = all[all.length - 2];
const inlineEmpty = all[all.length - 3];

const base = stats(passThrough.cpu).median;
let previous = 0;
const rows = variants.map((v) => {
  const added = stats(v.cpu).median - base;
  const row = { label: v.label, addedUs: added, stepUs: added - previous };
  previous = added;
  return row;
});
const whole = rows[rows.length - 1].addedUs;
const repeatedDecideUs = (stats(repeated.cpu).median - stats(variants[variants.length - 1].cpu).median) / 10;
const inlineDataUs = stats(variants[variants.length - 1].cpu).median - stats(inlineEmpty.cpu).median;
const rewriterUs = stats(withRewriter.cpu).median - base;
const result = { quick: opts.quick, warmRequests: WARM, requests: REQUESTS, passThroughUs: base, rows, repeatedDecideUs, inlineDataUs, rewriterUs, seconds: (performance.now() - t0) / 1000 };
if (opts.json) writeJson(opts.json, result);

const f = (us) => `${(us / 1000).toFixed(3)} ms`;
console.log(`edge worker, where the added CPU goes (warm: ${WARM} requests, then ${REQUESTS} measured; medians against pass-through ${f(base)})`);
for (const r of rows) console.log(`  ${r.label.padEnd(58)} ${f(r.addedUs).padStart(10)}  (step ${f(r.stepUs)})`);
console.log(`  the inline data (its JSON built and sent; against the whole worker with {}): ${f(inlineDataUs)}`);
console.log(`  the whole worker with HTMLRewriter filling the slots instead: ${f(rewriterUs)} added (one pass: ${f(whole)})`);
console.log(`  a repeated decideJson in the same request: ${f(repeatedDecideUs)} each (the first one: ${f(rows[1].stepUs)}); whole worker ${f(whole)}`);
