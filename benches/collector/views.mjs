// The collector's views at scale: fills a fresh SQLite file with N signals
// (the shared journey vectors' signals, replayed for many visitors and
// accounts over 90 days) through `/v1/import`, restarts the collector on it,
// and times what a dashboard user waits for: the views after the start-up
// read, and again after each of a few commits of new signals.
//
//   node benches/collector/views.mjs [--events 1000000] [--bin target/release/buyerpath] [--keep FILE]
//
// Checks that the funnel counts every signal stored (it throws otherwise);
// `./dev test` runs it on 2,000 signals to keep it working.
// Prints one line per measurement and a Markdown table at the end. Loopback
// only; the database is in a temporary directory, removed at the end
// (`--keep FILE` also keeps the filled store in FILE and starts from it the
// next time, with the same --events).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const EVENTS = Number(arg('events', '1000000'));
const BIN = arg('bin', 'target/release/buyerpath');
const KEY = 'Basic ' + Buffer.from('demo-write-key:').toString('base64');
const BATCH = 400;
const CONCURRENCY = 4;
const DAY = 86_400_000;

// The signals of each vector's journey, in order.
const journeys = readdirSync('tests/vectors')
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join('tests/vectors', f), 'utf8')))
  .map((v) => v.decisions.flatMap((d) => d.signals))
  .filter((s) => s.length > 0);

// A seeded stream of numbers (mulberry32): the same store every run.
let seed = 42;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const below = (n) => Math.floor(rand() * n);
const START = Date.now() - 90 * DAY;

function* signals(n, prefix, start, span) {
  let made = 0;
  for (let visitor = 0; made < n; visitor++) {
    const journey = journeys[below(journeys.length)];
    const account = `acct${below(Math.max(1, Math.floor(n / 50)))}.example`;
    let t = start + below(span);
    for (const s of journey) {
      if (made >= n) return;
      t += 1000 + below(6 * 3_600_000);
      made++;
      const messageId = createHash('sha256').update(`${prefix}-${made}`).digest('hex').slice(0, 32);
      yield {
        ...s,
        messageId,
        anonymousId: `${prefix}-v${visitor}`,
        originalTimestamp: new Date(Math.min(t, Date.now() - 60_000)).toISOString(),
        properties: { ...s.properties, account },
      };
    }
  }
}

async function post(url, events) {
  const r = await fetch(`${url}/v1/import`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: KEY },
    body: JSON.stringify({ batch: events }),
  });
  if (r.status !== 200) throw new Error(`import: ${r.status} ${await r.text()}`);
}

async function fill(url, stream) {
  let batch = [];
  const inflight = new Set();
  let sent = 0;
  for (const e of stream) {
    batch.push(e);
    if (batch.length === BATCH) {
      const p = post(url, batch).then(() => inflight.delete(p));
      inflight.add(p);
      sent += batch.length;
      batch = [];
      if (inflight.size >= CONCURRENCY) await Promise.race(inflight);
      if (sent % 100_000 === 0) process.stderr.write(`  ${sent} events stored\n`);
    }
  }
  if (batch.length) await post(url, batch);
  await Promise.all(inflight);
}

function start(db) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve', '--addr', '127.0.0.1:0', '--db', db], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m && !child.url) {
        child.url = m[1];
        child.started = performance.now();
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

async function stop(child) {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

async function timed(url, path) {
  const t = performance.now();
  const r = await fetch(url + path);
  const body = await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
  return { ms: performance.now() - t, bytes: body.byteLength };
}

const rss = (pid) => {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
};

// `--keep FILE` keeps the filled store in FILE, and a later run with the same
// FILE starts from it (for profiling the views without filling it again).
const KEEP = arg('keep', null);
const dir = mkdtempSync(join(tmpdir(), 'bp-views-'));
const db = KEEP ? copied(KEEP) : join(dir, 'views.sqlite');
const rows = [];

// A copy of the kept store (the commits below would change the kept one).
function copied(kept) {
  const copy = join(dir, 'views.sqlite');
  if (existsSync(kept)) copyFileSync(kept, copy);
  return copy;
}

try {
  let s;
  if (!KEEP || !existsSync(KEEP)) {
    s = await start(db);
    const t0 = performance.now();
    process.stderr.write(`storing ${EVENTS} signals through /v1/import\n`);
    await fill(s.url, signals(EVENTS, 'r', START, 90 * DAY));
    const seconds = (performance.now() - t0) / 1000;
    rows.push(['store the signals (/v1/import, batches of 400)', `${seconds.toFixed(1)} s`, `${Math.round(EVENTS / seconds)} events/s`]);
    await stop(s);
    if (KEEP) copyFileSync(db, KEEP);
  }

  s = await start(db);
  // The first view waits for the start-up read of every signal.
  await timed(s.url, '/api/accounts?limit=200');
  rows.push(['start, then the first `/api/accounts?limit=200` (reads every signal)', `${((performance.now() - s.started) / 1000).toFixed(1)} s`, '']);
  const views = ['/api/accounts?limit=200', '/api/funnel', '/api/accounts'];
  const after = Object.fromEntries(views.map((v) => [v, []]));
  for (let round = 0; round < 3; round++) {
    await fill(s.url, signals(BATCH, `new${round}`, Date.now() - 30 * DAY, 30 * DAY));
    for (const v of views) {
      const t = await timed(s.url, v);
      after[v].push(t);
      process.stderr.write(`  after commit ${round + 1}: ${v} ${t.ms.toFixed(0)} ms, ${t.bytes} B\n`);
    }
  }
  for (const v of views) {
    const median = [...after[v]].sort((a, b) => a.ms - b.ms)[1];
    rows.push([`\`${v}\` after a commit of ${BATCH} signals (median of 3)`, `${(median.ms / 1000).toFixed(2)} s`, `${median.bytes.toLocaleString('en')} B`]);
  }
  // Nothing lost, nothing counted twice: the funnel counts every signal stored.
  const funnel = await (await fetch(`${s.url}/api/funnel`)).json();
  const counted = funnel.revisions.reduce((n, r) => n + r.signals, 0);
  if (counted !== EVENTS + 3 * BATCH) {
    throw new Error(`the funnel counts ${counted} signals, ${EVENTS + 3 * BATCH} were stored`);
  }
  const cached = await timed(s.url, '/api/funnel');
  rows.push(['`/api/funnel` again, no commit since (cached)', `${cached.ms.toFixed(1)} ms`, '']);
  const mem = rss(s.pid);
  if (mem) rows.push(['collector resident memory after the views', `${(mem / 2 ** 30).toFixed(2)} GiB`, '']);
  await stop(s);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\n| ${EVENTS.toLocaleString('en')} signals | time | |\n|---|---:|---:|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
