#!/usr/bin/env node
// Every benchmark in one run, then BENCHMARKS.md and docs/bench/scaling.svg.
//
//   ./dev bench                      (= node scripts/bench.mjs: ~10 minutes on 2 cores)
//   node scripts/bench.mjs --quick   (short runs to check the harness; writes
//                                     target/bench/BENCHMARKS.md, not the real one)
//
// Steps: build the CLI, generate the workload (seed 42) and check its
// playbooks, build the npm package and the edge worker, then criterion
// (benches/workload.rs), the package in Node (benches/node/bench.mjs), the
// peers (benches/peers/bench.mjs), size (benches/size/size.mjs) and the edge
// worker in workerd (benches/edge/edge.mjs, benches/edge/breakdown.mjs). Raw
// results: target/bench/*.json.
//
// Options: --quick; --no-build (use the built CLI, pkg/ and www/edge/dist/);
// --only native,node,peers,size,edge (the others are read from
// target/bench/*.json of an earlier run); --report (only rewrite the report
// from target/bench/*.json); --out FILE (the Markdown; the SVG goes to
// docs/bench/ next to it, or target/bench/ for --quick).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => (args.indexOf(n) >= 0 ? args[args.indexOf(n) + 1] : d);
const quick = flag('--quick');
const reportOnly = flag('--report');
const build = !flag('--no-build') && !reportOnly;
const ALL = ['native', 'node', 'peers', 'size', 'edge'];
const only = reportOnly ? [] : (opt('--only', ALL.join(',')) || '').split(',').filter(Boolean);
const resultsDir = join(root, 'target', 'bench');
const workloadDir = join(root, 'target', 'workload');
const mdOut = resolve(root, opt('--out', quick ? 'target/bench/BENCHMARKS.md' : 'BENCHMARKS.md'));
const svgOut = quick || opt('--out') ? join(dirname(mdOut), 'scaling.svg') : join(root, 'docs', 'bench', 'scaling.svg');
const cli = join(root, 'target', 'release', 'buyerpath');
const q = quick ? ['--quick'] : [];
mkdirSync(resultsDir, { recursive: true });

const step = (m) => process.stderr.write(`\x1b[1m== ${m}\x1b[0m\n`);
const run = (cmd, argv, env = {}) => execFileSync(cmd, argv, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
const started = Date.now();

// ---------------------------------------------------------------- build and workload
if (build) {
  step('building the CLI (release)');
  run('cargo', ['build', '--quiet', '--release', '-p', 'buyerpath-cli']);
}
if (!reportOnly) {
  step('generating the workload (seed 42) into target/workload');
  run(cli, ['workload', '--seed', '42', '--out', workloadDir]);
  for (const n of [50, 500, 5000]) run(cli, ['check', join(workloadDir, `playbook-${n}.json`)]);
  // The reference playbook compiled ahead, for the page build's load.
  run(cli, ['compile', join(workloadDir, 'playbook-500.json'), '-o', join(workloadDir, 'playbook-500.bpe')]);
}
if (build && only.some((s) => ['node', 'peers', 'size', 'edge'].includes(s))) {
  step('building the npm package');
  run(process.execPath, ['scripts/build-pkg.mjs']);
}
if (build && only.includes('edge')) {
  step('building the edge worker');
  run(process.execPath, ['scripts/build-www.mjs', '--edge'], { BUYERPATH_BIN: cli });
}

// ---------------------------------------------------------------- the benchmarks
const critGroups = ['compile', 'load', 'observe', 'decide_history', 'decide_catalogue', 'decide_first', 'state', 'condition'];
if (only.includes('native')) {
  step('criterion: cargo bench --bench workload');
  const times = quick ? ['--warm-up-time', '0.2', '--measurement-time', '0.5'] : ['--warm-up-time', '1', '--measurement-time', '3'];
  run('cargo', ['bench', '--quiet', '--bench', 'workload', '--features', 'compiled', '--', ...times], { BUYERPATH_WORKLOAD: workloadDir });
  const native = {};
  for (const g of critGroups) {
    const dir = join(root, 'target', 'criterion', g);
    if (!existsSync(dir)) continue;
    for (const id of readdirSync(dir)) {
      const f = join(dir, id, 'new', 'estimates.json');
      if (!existsSync(f)) continue;
      const e = JSON.parse(readFileSync(f, 'utf8'));
      native[`${g}/${id}`] = { median: e.median.point_estimate / 1000, low: e.median.confidence_interval.lower_bound / 1000, high: e.median.confidence_interval.upper_bound / 1000 };
    }
  }
  writeFileSync(join(resultsDir, 'native.json'), JSON.stringify({ quick, rows: native }, null, 2) + '\n');
}
const node = (script, name) => {
  step(`node ${script}`);
  run(process.execPath, [script, '--json', join(resultsDir, `${name}.json`), '--workload', workloadDir, ...q]);
};
if (only.includes('node')) node('benches/node/bench.mjs', 'node');
if (only.includes('peers')) node('benches/peers/bench.mjs', 'peers');
if (only.includes('size')) node('benches/size/size.mjs', 'size');
if (only.includes('edge')) {
  node('benches/edge/edge.mjs', 'edge');
  node('benches/edge/breakdown.mjs', 'edge-breakdown');
}

// ---------------------------------------------------------------- the report
const load = (name) => {
  const f = join(resultsDir, `${name}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
};
const R = { native: load('native'), node: load('node'), peers: load('peers'), size: load('size'), edge: load('edge'), edgeBreakdown: load('edge-breakdown') };
const sh = (cmd, argv) => {
  try {
    return execFileSync(cmd, argv, { cwd: root }).toString().trim();
  } catch {
    return '?';
  }
};
const machine = {
  cpu: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}`,
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  rustc: sh('rustc', ['--version']),
  node: process.version,
  date: new Date().toISOString().slice(0, 10),
  commit: `${sh('git', ['rev-parse', '--short', 'HEAD'])}${sh('git', ['status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : ''}`,
  load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  quick,
  seconds: Math.round((Date.now() - started) / 1000),
};
writeFileSync(join(resultsDir, 'results.json'), JSON.stringify({ machine, ...R }, null, 2) + '\n');

const md = report(machine, R);
const scaling = scalingData(R);
mkdirSync(dirname(svgOut), { recursive: true });
writeFileSync(svgOut, svg(scaling));
mkdirSync(dirname(mdOut), { recursive: true });
const BEGIN = '<!-- bench:begin (generated by scripts/bench.mjs: do not edit by hand) -->';
const END = '<!-- bench:end -->';
const previous = existsSync(mdOut) ? readFileSync(mdOut, 'utf8') : existsSync(join(root, 'BENCHMARKS.md')) ? readFileSync(join(root, 'BENCHMARKS.md'), 'utf8') : '';
const block = `${BEGIN}\n${md.replaceAll('{{SVG}}', relative(dirname(mdOut), svgOut))}\n${END}`;
let text;
if (previous.includes(BEGIN) && previous.includes(END)) {
  text = previous.slice(0, previous.indexOf(BEGIN)) + block + previous.slice(previous.indexOf(END) + END.length);
} else {
  text = `${block}\n\n${previous.replace(/^# Benchmarks\s*\n/, '## Earlier measurements\n\n')}`;
}
writeFileSync(mdOut, text.endsWith('\n') ? text : `${text}\n`);
step(`wrote ${relative(root, mdOut)} and ${relative(root, svgOut)} (${machine.seconds} s)`);

// ================================================================= formatting

function us(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '—';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} s`;
  if (x >= 1000) return `${(x / 1000).toFixed(x >= 1e5 ? 0 : 2)} ms`;
  if (x >= 100) return `${x.toFixed(0)} µs`;
  if (x >= 10) return `${x.toFixed(1)} µs`;
  return `${x.toFixed(2)} µs`;
}
function bytes(n) {
  return n === undefined ? '—' : n.toLocaleString('en-US');
}
function ratio(x) {
  return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`;
}
/** A Markdown table; `aligns` is one letter per column (l or r), default: the first left, the rest right. */
function table(head, rows, aligns = 'l' + 'r'.repeat(head.length - 1)) {
  return [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (aligns[i] === 'r' ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
function nodeRow(id) {
  return R.node?.rows.find((r) => r.id === id);
}
function nat(id) {
  return R.native?.rows[id];
}

function report(m, R) {
  const out = [];
  const p = (...xs) => out.push(...xs);
  p('# Benchmarks', '');
  p(`Every figure below comes from one command, \`./dev bench\` (= \`node scripts/bench.mjs\`), on the reference workload, in one run${m.quick ? ' — **quick run: short measurements, for checking the harness, not for quoting**' : ''}.`, '');
  p(`Machine: ${m.cpu}, ${m.memory}, ${m.os}; ${m.rustc}; Node ${m.node}. Date: ${m.date}. Commit: ${m.commit}. Load average at the end: ${m.load}. Run time: ${Math.round(m.seconds / 60)} min.`, '');
  p('Speed is reported, never asserted; the size budget is checked by `node scripts/check-size.mjs`.', '');

  // budgets
  p('## Budgets', '');
  const dec = nodeRow('decide_catalogue/500') || nodeRow('decide_history/200');
  const comp = nodeRow('compile/500');
  const jsonFloor = nodeRow('json_parse/500');
  const pageLoad = nodeRow('load/500');
  const pageGz = R.size?.page?.wasmAndGlue.gzip;
  const edgeAdded = R.edge?.warm.addedCpuUs.median;
  // Every warm measurement of the whole worker in this run: edge.mjs's rounds
  // and the breakdown's whole-worker variant. One round's median moves by
  // ±0.2–0.3 ms with the load, so the budget is met only when all are under it.
  const edgeRounds = R.edge ? [...(R.edge.warm.rounds ?? [edgeAdded]), ...(R.edgeBreakdown ? [R.edgeBreakdown.rows.at(-1).addedUs] : [])] : [];
  const edgeUnder = edgeRounds.filter((x) => x <= 1000).length;
  const edgeMeasured = edgeAdded === undefined ? '—'
    : edgeRounds.length > 1 ? `${us(edgeAdded)} (${edgeRounds.length} measurements: ${us(Math.min(...edgeRounds))}–${us(Math.max(...edgeRounds))})` : us(edgeAdded);
  const edgeStatus = edgeAdded === undefined ? '—'
    : edgeUnder === edgeRounds.length ? 'met'
    : edgeUnder === 0 ? '**not met**' : `**not met** (${edgeUnder} of ${edgeRounds.length} under)`;
  const gz = R.size?.wasmAndGlue.gzip;
  const serverGz = R.size?.server?.wasmAndGlue.gzip;
  const met = (ok) => (ok === undefined ? '—' : ok ? 'met' : '**not met**');
  p(table(['budget (the product card, PRODUCT.md §5, beside this repository in ../shared/)', 'measured', 'status'], [
    ['decide, 200-event visitor, 500 items, Node, median ≤ 10 µs', dec ? us(dec.median) : '—', met(dec && dec.median <= 10)],
    ['compile the 500-item playbook in Wasm ≤ 1 ms', comp ? `${us(comp.median)}${jsonFloor ? ` (V8's \`JSON.parse\` of the same text alone: ${us(jsonFloor.median)})` : ''}${pageLoad ? `; \`buyerpath/page\` loads it compiled ahead in ${us(pageLoad.median)} (not a compile)` : ''}` : '—', met(comp && comp.median <= 1000)],
    ['Wasm + JS glue ≤ 60 KB gzip (61,440 B)', gz ? `${bytes(gz)} B (the package's browser module)${pageGz ? `; \`buyerpath/page\` (no JSON compiler) ${bytes(pageGz)} B` : ''}${serverGz ? `; the server module (Node, Deno, workerd; built for speed) ${bytes(serverGz)} B` : ''}` : '—', met(gz && gz <= 61440)],
    ['visitor state for 200 events ≤ 1,200 characters', R.node ? `${R.node.stateChars} (unsigned)` : '—', met(R.node && R.node.stateChars <= 1200)],
    ['edge: added CPU per request ≤ 1 ms median (workerd), every measurement of the run', edgeMeasured, edgeStatus],
  ]), '');

  // workload
  p('## The reference workload', '');
  p('`buyerpath workload --seed 42 --out target/workload` (tools/src/workload.rs) writes, from the example playbook\'s rules:', '');
  p('- `playbook-{50,500,5000}.json`: 10 gates, 41 fit criteria, 32 engagement rules, 9 stages, 5 roles, 3 slots (hero, reading, cta), holdout 0% (every decision does the full work) and a catalogue of 50, 500 or 5,000 items (the example items the playbook names and one of each format, then items generated from the example\'s mix of formats, stages, roles and topics; a smaller catalogue is a prefix of a larger one, so 150 and 1,500 are prefixes of 5,000). **The reference is 500 items.**');
  p('- `visitors-{1,20,200,2000}.json`: 8 visitor profiles (an enterprise fintech in New York, a Boston agency, a German hospital, a student, a competitor, an existing customer, an unknown company, a US mid-market CFO) with 1, 20, 200 or 2,000 events each: sessions of page views (dwell times), CTA clicks, downloads, forms, searches, custom events and the odd bot-like burst. **The reference visitor is the first profile with 200 events**, deciding 3 slots on the pricing page.');
  p('- Not committed (5 MB); generated by the bench command in a second. `buyerpath check` passes on every generated playbook.', '');

  if (R.native) {
    p('## Native (criterion)', '');
    p(`\`cargo bench --bench workload\` (benches/workload.rs), the bench profile (the release one at opt-level 3, as the package's Wasm is built); median of criterion's samples${R.native.quick ? ' (quick run)' : ''}.`, '');
    const rows = [];
    for (const n of [50, 500, 5000]) rows.push([`compile, ${n}-item playbook (parse + validate + compile)`, us(nat(`compile/${n}`)?.median)]);
    for (const n of [50, 500, 5000]) if (nat(`load/${n}`)) rows.push([`load the ${n}-item engine compiled ahead (\`Engine::from_bytes\` of \`buyerpath compile\`'s file)`, us(nat(`load/${n}`).median)]);
    for (const n of [1, 20, 200, 2000]) { const r = nat(`observe/${n}`); rows.push([`observe ${n} event${n > 1 ? 's' : ''} (fresh visitor)`, r ? `${us(r.median)} (${us(r.median / n)} per event)` : '—']); }
    for (const n of [1, 20, 200, 2000]) rows.push([`decide, ${n}-event visitor, 500 items, steady state`, us(nat(`decide_history/${n}`)?.median)]);
    for (const n of [50, 150, 500, 1500, 5000]) rows.push([`decide, 200-event visitor, ${n} items, steady state`, us(nat(`decide_catalogue/${n}`)?.median)]);
    rows.push(['decide, reference, first decision (state clone + decide)', us(nat('decide_first/200')?.median)]);
    for (const [k, name] of [['encode', 'encode state'], ['decode', 'decode state'], ['encode_signed', 'encode state, signed (HMAC)'], ['decode_signed', 'decode state, signed']]) rows.push([`${name} (reference visitor)`, us(nat(`state/${k}`)?.median)]);
    const ce = nat('condition/eval_143');
    const cc = nat('condition/compile_eval_143');
    rows.push(['evaluate the 143 GrowthBook conformance conditions (compiled)', ce ? `${us(ce.median)} (${us(ce.median / 143)} each)` : '—']);
    rows.push(['compile + evaluate the 143 conditions', cc ? `${us(cc.median)} (${us(cc.median / 143)} each)` : '—']);
    p(table(['operation', 'median'], rows), '');
  }

  if (R.node) {
    p('## The npm package in Node', '');
    p(`\`node benches/node/bench.mjs --workload target/workload\` on \`pkg/\` (the published build), Node ${R.node.node}; per call, median and p99 of timed batches.`, '');
    p(table(['operation', 'median', 'p99'], R.node.rows.map((r) => [r.name + (r.perEvent ? ` — ${us(r.perEvent)} per event` : ''), us(r.median), us(r.p99)])), '');
    if (!R.node.api.evalCondition && !R.node.api.compiledCondition) p('The package exports no condition evaluator yet, so conditions are measured natively (above) and against GrowthBook below.', '');
  }

  if (R.peers) {
    const P = R.peers;
    p('## Peers, same machine, same run', '');
    p(`\`node benches/peers/bench.mjs\`: json-rules-engine ${P.versions['json-rules-engine']}, @growthbook/growthbook ${P.versions['@growthbook/growthbook']}, and a hand-written JavaScript scorer, in the same Node process as the package. Each row times buyerpath and the peers in turns (ten rounds, each giving every contender an equal slice, the order rotating), so the VM's speed changing during the run weighs on all of them alike. Ratio = peer median ÷ buyerpath median (above 1: buyerpath is faster).`, '');
    p(`**Same scores first**: for all ${P.parity.visitors} workload visitors (8 profiles × 1, 20, 200 and 2,000 events) each peer's qualified flag, every gate's status, fit score and tier, and engagement score and points equal buyerpath's decision: ${P.parity.mismatches.length === 0 ? '**all equal**' : `**${P.parity.mismatches.length} differ** (see target/bench/peers.json)`}.`, '');
    p('- **json-rules-engine** (benches/peers/rules-engine.mjs): the gates, the fit bands and the engagement rules (and their `only_if`) translated into json-rules-engine rules: one engine run per event, one per decision; `engine.run` is asynchronous.');
    p('- **hand-written JS** (benches/peers/handwritten.mjs): a straightforward interpreter of the same playbook (the operators it uses), the "why not just write JS" baseline.');
    p('- Both share the host code (benches/peers/common.mjs: attribute document, half-life decay, daily caps, bursts), so only rule evaluation differs. **They compute less than buyerpath**: buyerpath\'s decide also classifies stage and role, the lifecycle, ranks the catalogue into 3 slots, fires triggers and builds the signals, and its observe also folds stage, role and topic evidence; buyerpath takes events as JSON text (as a host receives them), the peers take objects. ' + (P.fold === 'recordJson' ? 'Like the peers\' observe, buyerpath\'s is timed without an answer (`recordJson`; `observeJson` also writes one: its rows are in the Node table).' : 'buyerpath\'s observe is timed with `observeJson`, which also writes an answer (this package has no `recordJson`).'), '');
    const rows = P.comparisons.map((c) => [c.what, us(c.buyerpath.median), ...c.peers.flatMap((x) => [us(x.median), ratio(x.ratio)])]);
    const names = P.comparisons[0]?.peers.map((x) => x.name) ?? [];
    p(table(['work (reference: 500 items, 200 events)', 'buyerpath', ...names.flatMap((n) => [n, 'ratio'])], rows), '');
    p('**Conditions: GrowthBook\'s `evalCondition`** on the 143 conformance cases (each case once per iteration):', '');
    const c = P.conditions;
    const crow = [[`GrowthBook evalCondition (JS objects)${c.growthbook.correct ? '' : ' — wrong results'}`, us(c.growthbook.median), us(c.growthbook.median / 143), '1']];
    if (c.buyerpath.oneshot) crow.push(['buyerpath `evalCondition` (JS objects in: compile + evaluate each time)', us(c.buyerpath.oneshot.median), us(c.buyerpath.oneshot.median / 143), ratio(c.buyerpath.oneshot.ratio)]);
    if (c.buyerpath.compiled) crow.push(['buyerpath `CompiledCondition.eval` (compiled once, attributes as JS objects)', us(c.buyerpath.compiled.median), us(c.buyerpath.compiled.median / 143), ratio(c.buyerpath.compiled.ratio)]);
    if (c.buyerpath.compiledText) crow.push(['buyerpath `CompiledCondition.eval` (compiled once, attributes already JSON text)', us(c.buyerpath.compiledText.median), us(c.buyerpath.compiledText.median / 143), ratio(c.buyerpath.compiledText.ratio)]);
    const ce = nat('condition/eval_143');
    const cc = nat('condition/compile_eval_143');
    if (ce) crow.push(['buyerpath native, compiled (criterion; another runtime)', us(ce.median), us(ce.median / 143), ratio(c.growthbook.median / ce.median)]);
    if (cc) crow.push(['buyerpath native, compile + evaluate (criterion)', us(cc.median), us(cc.median / 143), ratio(c.growthbook.median / cc.median)]);
    p(table(['evaluator', '143 cases', 'per case', 'GrowthBook ÷ this'], crow), '');
    if (c.buyerpath.refused) p(`buyerpath refuses ${c.buyerpath.refused} of the 143 conditions at compile time (an invalid operand such as \`{"$in": 1}\`, an unknown operator): \`evalCondition\` and \`new CompiledCondition\` throw where GrowthBook returns false; the harness counts the throw as false (all 143 results then agree) and the one-shot timing includes the 5 exceptions.`.replace('the 5', `the ${c.buyerpath.refused}`), '');
    if (!c.buyerpath.oneshot && !c.buyerpath.compiled) p('The package does not export a condition evaluator yet: the Node-to-Node comparison appears here once it does (the harness detects `evalCondition` and `CompiledCondition`).', '');
  }

  if (R.size) {
    const S = R.size;
    p('## Size', '');
    p('`node benches/size/size.mjs`: gzip -9 and brotli 11. The browser bundles are built the same way for everyone: esbuild, ESM, minified, tree-shaken, `platform: browser`, importing the one class an app would use.', '');
    const b = S.bundles;
    const srow = (name, s) => [name, s?.ok === false ? `build failed: ${s.error}` : bytes(s?.raw), bytes(s?.gzip), bytes(s?.brotli)];
    p(table(['file or bundle', 'raw B', 'gzip B', 'brotli B'], [
      srow('`buyerpath_bg.wasm` (browsers, bundlers: built for size)', S.wasm),
      srow('`buyerpath.js` (wasm-bindgen glue)', S.glue),
      srow('**Wasm + glue** (budget 61,440 gzip)', S.wasmAndGlue),
      ...(S.server ? [srow('Wasm + glue, `buyerpath_server_bg.wasm` (Node, Deno, workerd: built for speed)', S.server.wasmAndGlue)] : []),
      ...(S.page ? [srow('Wasm + glue, `buyerpath/page` (the page build: no JSON compiler; engines from `buyerpath compile`)', S.page.wasmAndGlue)] : []),
      srow('buyerpath browser entry, bundled (JS)', b.buyerpath),
      srow('**buyerpath browser entry + Wasm**', b.buyerpathWithWasm),
      srow('@growthbook/growthbook, `GrowthBook`', b.growthbook),
      srow('@growthbook/growthbook, `evalCondition` only', b.growthbookEvalCondition),
      srow('json-rules-engine, `Engine`', b.jsonRulesEngine),
    ]), '');
    p('Published figures, for context (not measured here): GrowthBook JS SDK 6.9 KB gzip; Statsig client ~21 KB; LaunchDarkly browser SDK 34 KB brotli; Mutiny\'s script < 30 KB; the Rust→Wasm rule engines Unleash yggdrasil and OpenFeature\'s flagd-evaluator 470–850 KB gzip.', '');
    if (S.twiggy.ok) {
      p(`**What is in the Wasm**: \`twiggy top\` of the module (the package's wasm-opt ${S.twiggy.level} pass re-run with names kept; shares of ${bytes(S.twiggy.total)} B of code and data):`, '');
      if (S.twiggy.samebuild === false) p('*Note: the named module comes from a newer wasm-pack build than the package measured above (run without `--no-build` to align them).*', '');
      p(table(['bytes', 'share', 'item', 'what it is'], S.twiggy.top.slice(0, 15).map((t) => [bytes(t.bytes), `${(t.share * 100).toFixed(1)}%`, `\`${t.name.replace(/::h[0-9a-f]{16}$/, '').replaceAll('|', '\\|').slice(0, 90)}\``, t.what]), 'rrll'), '');
      p('By crate (sum of the items\' own sizes; generic code counts where it was instantiated):', '');
      p(table(['crate', 'bytes', 'share'], S.twiggy.crates.map((c) => [c.crate, bytes(c.bytes), `${(c.share * 100).toFixed(1)}%`])), '');
    }
  }

  if (R.edge) {
    const E = R.edge;
    const ms = (x) => `${(x / 1000).toFixed(3)} ms`;
    p('## Edge worker (workerd)', '');
    p(`\`node benches/edge/edge.mjs\`: www/edge/worker.mjs in workerd ${E.workerd} through miniflare ${E.miniflare}, \`${E.page}\` for a returning visitor with anonymous consent (\`buyerpath/page\` with the example playbook compiled ahead, from KV: decode the signed cookie, observe the previous page, decide, encode twice, the slots filled in one pass over the page (www/edge/fill.mjs; HTMLRewriter for markup it cannot read exactly), Set-Cookie), ${E.warm.requests} requests one at a time${E.warm.warmedRequests ? `, measured in warm isolates (after ${bytes(E.warm.warmedRequests)} requests: V8 tiers the Wasm up from its baseline compiler function by function as each gets hot, which takes a few thousand requests; an isolate serving a site runs warm)` : ''}.`, '');
    p('**Method.** workerd\'s clocks stand still while a request runs, so the worker cannot time itself. The workerd *process* is measured from outside: the sum over its threads of `/proc/<pid>/task/*/schedstat` (CPU nanoseconds) before and after each request. A second workerd serves the same page with the same worker and `PERSONALIZE=off` (pass-through); the difference is the worker\'s added CPU (median minus median, p99 minus p99). The returning visitor\'s organisation record is in the isolate\'s cache (`ORG_TTL_SECONDS`, 300 s), so no KV read is counted; a visitor from an organisation not seen in the last 5 minutes adds one KV read (below).', '');
    p(table(['per request', 'CPU median', 'CPU p99', 'wall median'], [
      ['personalised (decide + slots filled + cookie)', ms(E.warm.personalised.cpuUs.median), ms(E.warm.personalised.cpuUs.p99), `${E.warm.personalised.wallMs.median.toFixed(2)} ms`],
      ['pass-through (same page, PERSONALIZE=off)', ms(E.warm.passThrough.cpuUs.median), ms(E.warm.passThrough.cpuUs.p99), `${E.warm.passThrough.wallMs.median.toFixed(2)} ms`],
      ['**added by the worker**', `**${ms(E.warm.addedCpuUs.median)}**`, ms(E.warm.addedCpuUs.p99), `${(E.warm.personalised.wallMs.median - E.warm.passThrough.wallMs.median).toFixed(2)} ms`],
      ...(E.warm.engineInNodeUs ? [['of which the engine (decode, observe, decide, 2 encodes; timed in Node on the same Wasm)', ms(E.warm.engineInNodeUs.median), ms(E.warm.engineInNodeUs.p99), '']] : []),
      ...(E.warm.early ? [[`added, fresh isolate (its requests 22 to ${21 + E.warm.requests})`, ms(E.warm.early.addedCpuUs.median), ms(E.warm.early.addedCpuUs.p99), '']] : []),
    ]), '');
    const B = R.edgeBreakdown;
    if (B) {
      p(`**Where the added CPU goes** (\`node benches/edge/breakdown.mjs\`): variants of the built worker stop at successive points of the request and return the page untouched there, each in its own workerd against a pass-through one, ${bytes(B.warmRequests)} warm-up requests each, then ${B.requests} measured, interleaved. Medians of added CPU; this run's whole-worker figure differs from the table above by the run-to-run noise of these medians (±0.1–0.2 ms).`, '');
      p(table(['up to', 'added CPU', 'this step'], B.rows.map((r) => [r.label, ms(r.addedUs), ms(r.stepUs)]), 'lrr'), '');
      const first = B.rows[1].stepUs;
      const ratio = B.repeatedDecideUs > 0 ? first / B.repeatedDecideUs : NaN;
      const why = ratio >= 1.5
        ? `: the first call of a request costs ${ratio.toFixed(1)}× that, most likely because the code and data it touches have left the CPU caches while workerd served the rest of the previous request (a repeated call finds them there)`
        : ` (the first call of a request: ${ms(first)}; the difference between medians is within their noise)`;
      if (B.rewriterUs !== undefined) p(`Filling the slots with HTMLRewriter as the page streams instead (what the worker does for markup the one pass declines, and did for every page until session 10): ${ms(B.rewriterUs)} added for the whole worker, against ${ms(B.rows[B.rows.length - 1].addedUs)} with the one pass.`, '');
      if (B.inlineDataUs !== undefined) p(`The inline data (the decision, state and context the page's layer reads, ${'`<script id="bp-edge">`'}): building its JSON and sending it costs ${ms(B.inlineDataUs)} (the whole worker against the same worker inlining \`{}\`).`, '');
      p(`A repeated \`decideJson\` in the same request costs ${ms(B.repeatedDecideUs)} (ten extra calls per request, against the whole worker)${why}. In Node, the engine's whole share of a request (decode, observe, decide, two encodes) takes ${E.warm.engineInNodeUs ? ms(E.warm.engineInNodeUs.median) : '—'} on the same Wasm.`, '');
    }
    if (E.warm.engineInNodeUs) p(`The rest of the added CPU is the worker around the engine: filling the slots (an HTMLRewriter pass with the same selectors would cost${E.warm.parts ? ` ${ms(E.warm.parts.rewriteUs)}` : ''}), JSON for the inline decision and the cookies. A first visit from an organisation adds its KV lookup${E.warm.parts ? ` (one KV read in miniflare's simulation: ${ms(E.warm.parts.kvReadUs)} CPU, measured with a probe worker the same way; on Cloudflare it is I/O rather than CPU)` : ''}.`, '');
    const C = E.cold;
    p(`**Cold start** (median of ${C.runs} fresh workerd processes): ready after ${C.readyMs.toFixed(0)} ms wall, ${C.startCpuMs.toFixed(1)} ms of workerd CPU (process start, worker script and Wasm module compiled); the first request then takes ${C.firstRequestCpuMs.toFixed(1)} ms CPU (the engine loaded from the file in KV, first decide on unoptimised code) against ${C.secondRequestCpuMs.toFixed(1)} ms for the second.`, '');
    p(`The parts, timed in Node on the package's files (\`buyerpath/page\`, the worker's module; median of ${C.node.runs} fresh processes): Wasm compile ${C.node.wasmCompileMs.toFixed(2)} ms (${bytes(C.node.wasmBytes)} B), instantiate ${C.node.instantiateMs.toFixed(2)} ms, ${C.node.engineLoadMs !== undefined ? `engine loaded ${C.node.engineLoadMs.toFixed(2)} ms (the ${bytes(C.node.engineBytes)}-byte engine file)` : `engine compile ${C.node.engineCompileMs.toFixed(2)} ms (the ${bytes(C.node.playbookBytes)}-byte edge playbook)`}, first decide ${C.node.firstDecideMs.toFixed(2)} ms.`, '');
  }

  const sc = scalingData(R);
  if (sc.catalogue.length || sc.history.length) {
    p('## Scaling', '');
    p('Decide (steady state) as the catalogue grows (200-event visitor) and as the history grows (500 items). Slope = the exponent k in time ∝ size^k (log-log least squares): 1 is linear, below 1 better than linear, about 0 flat.', '');
    p(`![decide time against catalogue size and history length]({{SVG}})`, '');
    for (const [key, label, unit] of [['catalogue', 'items', 'items'], ['history', 'events', 'events']]) {
      const series = sc[key];
      if (!series.length) continue;
      const xs = [...new Set(series.flatMap((s) => s.points.map((pt) => pt[0])))].sort((a, b) => a - b);
      p(table([label, ...series.map((s) => s.name)], [
        ...xs.map((x) => [bytes(x), ...series.map((s) => us(s.points.find((pt) => pt[0] === x)?.[1]))]),
        ['slope (log-log fit, all points)', ...series.map((s) => `${s.slope.toFixed(2)} — ${verdict(s.slope)}`)],
        ['slope between the last two points', ...series.map((s) => `${s.tail.toFixed(2)} — ${verdict(s.tail)}`)],
      ]), '');
      void unit;
    }
  }

  p('## Reproduce', '');
  p('```sh');
  p('./dev bench                                   # everything below, then this file and docs/bench/scaling.svg');
  p('node scripts/bench.mjs --quick                # short runs (target/bench/BENCHMARKS.md)');
  p('cargo run --release -p buyerpath-cli -- workload --seed 42 --out target/workload');
  p('cargo bench --bench workload --features compiled -- --warm-up-time 1 --measurement-time 3');
  p('node scripts/build-pkg.mjs');
  p('node benches/node/bench.mjs --workload target/workload');
  p('node benches/peers/bench.mjs --workload target/workload');
  p('node benches/size/size.mjs');
  p('BUYERPATH_BIN=target/release/buyerpath node scripts/build-www.mjs --edge && node benches/edge/edge.mjs');
  p('node benches/edge/breakdown.mjs                # where the edge worker\'s added CPU goes');
  p('node scripts/check-size.mjs                   # the size budget: exit 1 above 61,440 B gzip');
  p('```');
  p('Raw results of the last run: `target/bench/*.json`. The hand-written sections below (what was changed, earlier figures) are kept as they are by the command.');
  return out.join('\n');
}

function verdict(s) {
  if (s < 0.2) return 'flat';
  if (s < 0.9) return 'sublinear';
  if (s <= 1.1) return 'linear';
  return 'superlinear';
}

function slope(points) {
  const pts = points.filter(([x, y]) => x > 0 && y > 0).map(([x, y]) => [Math.log(x), Math.log(y)]);
  if (pts.length < 2) return NaN;
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  const num = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return num / den;
}

function scalingData(R) {
  const out = { catalogue: [], history: [] };
  const add = (key, name, points) => {
    const pts = points.filter((pt) => pt[1] !== undefined);
    if (pts.length >= 2) out[key].push({ name, points: pts, slope: slope(pts), tail: slope(pts.slice(-2)) });
  };
  const C = [50, 150, 500, 1500, 5000];
  const H = [1, 20, 200, 2000];
  if (R.node) {
    add('catalogue', 'Node (package)', C.map((n) => [n, R.node.rows.find((r) => r.id === `decide_catalogue/${n}`)?.median]));
    add('history', 'Node (package)', H.map((n) => [n, R.node.rows.find((r) => r.id === `decide_history/${n}`)?.median]));
  }
  if (R.native) {
    add('catalogue', 'native', C.map((n) => [n, R.native.rows[`decide_catalogue/${n}`]?.median]));
    add('history', 'native', H.map((n) => [n, R.native.rows[`decide_history/${n}`]?.median]));
  }
  return out;
}

/** Two log-log panels drawn by hand: decide time against catalogue size and against history length. */
function svg(sc) {
  const W = 960;
  const H = 400;
  const colors = { 'Node (package)': '#c2410c', native: '#1d4ed8' };
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [];
  const panel = (x0, title, xlabel, series) => {
    const w = 375;
    const h = 290;
    const top = 60;
    const left = x0 + 70;
    parts.push(`<text x="${left + w / 2}" y="30" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>`);
    const pts = series.flatMap((s) => s.points);
    if (!pts.length) return;
    const lx = (v) => Math.log10(v);
    let [xmin, xmax] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
    let [ymin, ymax] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
    xmin = 10 ** Math.floor(lx(xmin));
    xmax = 10 ** Math.ceil(lx(xmax));
    ymin = 10 ** Math.floor(lx(ymin));
    ymax = 10 ** Math.ceil(lx(ymax));
    const X = (v) => left + ((lx(v) - lx(xmin)) / (lx(xmax) - lx(xmin))) * w;
    const Y = (v) => top + h - ((lx(v) - lx(ymin)) / (lx(ymax) - lx(ymin))) * h;
    parts.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
    for (let d = lx(xmin); d <= lx(xmax) + 1e-9; d++) {
      const v = 10 ** d;
      parts.push(`<line x1="${X(v)}" y1="${top}" x2="${X(v)}" y2="${top + h}" stroke="#eee"/>`, `<text x="${X(v)}" y="${top + h + 18}" text-anchor="middle" font-size="12">${bytes(v)}</text>`);
    }
    for (let d = lx(ymin); d <= lx(ymax) + 1e-9; d++) {
      const v = 10 ** d;
      parts.push(`<line x1="${left}" y1="${Y(v)}" x2="${left + w}" y2="${Y(v)}" stroke="#eee"/>`, `<text x="${left - 6}" y="${Y(v) + 4}" text-anchor="end" font-size="12">${v >= 1000 ? `${v / 1000} ms` : `${v} µs`}</text>`);
    }
    parts.push(`<text x="${left + w / 2}" y="${top + h + 40}" text-anchor="middle" font-size="13">${esc(xlabel)}</text>`);
    series.forEach((s, i) => {
      const c = colors[s.name] || '#444';
      const path = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
      parts.push(`<path d="${path}" fill="none" stroke="${c}" stroke-width="2"/>`);
      for (const [x, y] of s.points) parts.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3.5" fill="${c}"><title>${esc(`${s.name}: ${bytes(x)} → ${us(y)}`)}</title></circle>`);
      // linear reference from the first point
      const [fx, fy] = s.points[0];
      const [lxv] = s.points[s.points.length - 1];
      const ly = Math.min(fy * (lxv / fx), ymax);
      const lxEnd = fx * (ly / fy);
      parts.push(`<path d="M${X(fx).toFixed(1)},${Y(fy).toFixed(1)} L${X(lxEnd).toFixed(1)},${Y(ly).toFixed(1)}" stroke="${c}" stroke-dasharray="4 4" stroke-width="1" opacity="0.6"/>`);
      parts.push(`<text x="${left + 10}" y="${top + 18 + i * 18}" font-size="12" fill="${c}">${esc(`${s.name}: slope ${s.slope.toFixed(2)} (${verdict(s.slope)})`)}</text>`);
    });
    parts.push(`<text x="${left + w - 8}" y="${top + h - 8}" text-anchor="end" font-size="11" fill="#666">dashed: linear from the first point</text>`);
  };
  panel(0, 'decide vs catalogue size (200-event visitor)', 'content items (log)', sc.catalogue);
  panel(W / 2, 'decide vs history (500 items)', 'events observed (log)', sc.history);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">\n<rect width="${W}" height="${H}" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}
