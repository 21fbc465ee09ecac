// Shared by the Node harnesses: options, timing (median and p99 per call) and
// the reference workload (`buyerpath workload`).
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `--quick` (short runs to check the harness), `--pkg DIR`, `--workload DIR`, `--json FILE`; a bare first argument is the package dir. */
export function options(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
  };
  const bare = argv[0] && !argv[0].startsWith('--') ? argv[0] : undefined;
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  return {
    quick,
    pkg: resolve(root, opt('--pkg', bare ?? 'pkg')),
    workload: resolve(root, opt('--workload', process.env.BUYERPATH_WORKLOAD ?? 'target/workload')),
    json: opt('--json', null),
    // Time per measured row: ~1 s in a full run, ~0.15 s with --quick.
    scale: quick ? 0.15 : 1,
  };
}

const now = () => process.hrtime.bigint();

function stats(samples, perSample) {
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return { median: q(0.5), p99: q(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length, n: samples.length * perSample };
}

/**
 * Times `fn` (sync): warm-up, then samples of `batch` calls for about `ms`
 * milliseconds (× the run's scale). Returns per-call median, p99 (of the
 * samples) and mean, in µs.
 */
export function measure(fn, { ms = 1000, batch = 1, warmup = 200, scale = 1, minSamples = 5 } = {}) {
  const wEnd = performance.now() + Math.max(20, warmup * scale);
  do fn(); while (performance.now() < wEnd);
  const samples = [];
  const stop = performance.now() + ms * scale;
  while (performance.now() < stop || samples.length < minSamples) {
    const t0 = now();
    for (let i = 0; i < batch; i++) fn();
    samples.push(Number(now() - t0) / 1000 / batch);
  }
  return stats(samples, batch);
}

/**
 * Times several contenders in turns, for comparing them: after each one's
 * warm-up, `rounds` rounds give every contender an equal slice of the time
 * (the order rotating from round to round). A machine that speeds up or slows
 * down during the run (a shared VM does) then weighs on all of them alike, and
 * their ratios stay fair where back-to-back windows would not.
 * `contenders`: `[{ fn, batch = 1, async = false }]`; returns, per
 * contender in the same order, its per-call median, p99 and mean in µs (at
 * least `rounds` samples each). Garbage one contender leaves may be collected
 * in another's slice: the turns even out the machine, not the heap.
 */
export async function measureTurns(contenders, { ms = 1000, rounds = 10, warmup = 200, scale = 1 } = {}) {
  const call = async (c) => {
    const t0 = now();
    const batch = c.batch ?? 1;
    if (c.async) for (let i = 0; i < batch; i++) await c.fn();
    else for (let i = 0; i < batch; i++) c.fn();
    return Number(now() - t0) / 1000 / batch;
  };
  for (const c of contenders) {
    const end = performance.now() + Math.max(20, warmup * scale);
    do await call(c); while (performance.now() < end);
  }
  const samples = contenders.map(() => []);
  const slice = (ms * scale) / rounds;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + r) % contenders.length;
      const stop = performance.now() + slice;
      do samples[i].push(await call(contenders[i])); while (performance.now() < stop);
    }
  }
  return contenders.map((c, i) => stats(samples[i], c.batch ?? 1));
}

/** The workload's files; a clear error when they were not generated. */
export function workload(dir) {
  const read = (name) => {
    const p = join(dir, name);
    if (!existsSync(p)) {
      throw new Error(`${p} is missing: generate the workload with \`cargo run --release -p buyerpath-cli -- workload --out ${dir}\``);
    }
    return readFileSync(p, 'utf8');
  };
  return {
    playbookText: (n) => read(`playbook-${n}.json`),
    visitors: (n) => JSON.parse(read(`visitors-${n}.json`)).visitors,
  };
}

/** The engine's scores in a decision, in the peers' shape. */
export function scoresOf(d) {
  return {
    qualified: d.qualified,
    gates: d.gates.map((g) => g.status),
    fit: { score: d.fit.score, tier: d.fit.tier },
    engagement: { score: d.engagement.score, points: d.engagement.points },
  };
}

export function writeJson(file, data) {
  if (!file) return;
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
}

export const fmt = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : us >= 100 ? `${us.toFixed(0)} µs` : us >= 10 ? `${us.toFixed(1)} µs` : `${us.toFixed(2)} µs`);

export function printRows(title, rows) {
  console.log(`\n${title}`);
  console.log(`${'operation'.padEnd(64)} ${'median'.padStart(10)} ${'p99'.padStart(10)} ${'calls'.padStart(8)}`);
  for (const r of rows) console.log(`${r.name.padEnd(64)} ${fmt(r.median).padStart(10)} ${fmt(r.p99).padStart(10)} ${String(r.n).padStart(8)}`);
}

/**
 * The package's condition evaluator: `evalCondition(attributes, condition)` (GrowthBook's
 * argument order) and the compiled handle `new CompiledCondition(condition)` with
 * `.eval(attributes)`; both take objects or JSON strings. Empty when the package has neither.
 */
export function conditionApi(m) {
  const api = {};
  // A condition the engine refuses (an invalid operand, an unknown operator) throws
  // where GrowthBook returns false: counted as false, and counted (api.throws).
  api.throws = 0;
  if (typeof m.evalCondition === 'function') {
    api.evalCondition = (c, a) => {
      try {
        return m.evalCondition(a, c);
      } catch {
        api.throws += 1;
        return false;
      }
    };
  }
  const Compiled = m.CompiledCondition || m.Condition;
  if (typeof Compiled === 'function') {
    api.compile = (c) => {
      try {
        return new Compiled(c);
      } catch {
        api.throws += 1;
        return null;
      }
    };
    api.eval = (h, a) => (h === null ? false : h.eval(a));
  }
  return api;
}
