// Delivery to the real collector, in headless Chromium: signals produced while
// the collector cannot be reached are kept (in the layer's stored queue) and
// reach the database after it comes back, each exactly once; a page closed
// with a batch still waiting sends it on the way out (or on the next visit).
//
// The site and the collector are one `buyerpath serve` (a temporary SQLite
// file), reached through a small reverse proxy in this file that can make
// `/v1/batch` unreachable: while "offline" it drops the connection of every
// batch without forwarding it, so the browser sees a network error. A proxy,
// not `page.route()` or `context.setOffline()`: Chromium sends the beacon and
// the keepalive fetch of a page that is going away after the page is gone,
// where route interception does not apply and `page.on('request')` does not
// see them (measured: a routed-away `/v1/batch` beacon still reached the
// collector), and going offline would stop the pages loading too. So attempts
// are recorded twice: by `on('request')` (what the page itself sent) and by
// the proxy (everything that left the browser, beacons included).
//
// The collector serves files by their exact path, so the proxy retries an
// extensionless page path that the collector answers 404 with `.html` (what
// www/tools/static-server.mjs and the edge do) for the site's own links.
//
// Requires: scripts/setup-browser.sh, node scripts/build-www.mjs,
// cargo build --release -p buyerpath-cli, and the sqlite3 command.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, requireSetup, ready, root, dist } from './helpers.mjs';

requireSetup();
const BIN = join(root, 'target', 'release', 'buyerpath');
if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build --release -p buyerpath-cli`);
const SQLITE = process.env.SQLITE3 || '/usr/bin/sqlite3';
if (!existsSync(SQLITE)) throw new Error(`${SQLITE} is missing: run scripts/setup-browser.sh (or set SQLITE3 to a sqlite3 binary)`);

const START = new Date('2026-11-10T14:00:00Z');
const ESSENTIAL = ['MQL Reached', 'SQL Reached', 'Sales Trigger Fired', 'Stage Changed'];

let tmp;
let collector; // { proc, url }
let proxy; // { url, offline, attempts, close }
let db;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts `buyerpath serve` on a free port; resolves to its URL. */
function startCollector() {
  const proc = spawn(BIN, ['serve', '--addr', '127.0.0.1:0', '--www', dist, '--db', db], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`buyerpath serve did not start in 15 s:\n${out}`)), 15_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`buyerpath serve exited (${code}):\n${out}`));
    });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1] });
      }
    });
  });
}

/** SIGTERM (it commits what is queued), then SIGKILL after 15 s; by PID. */
async function stopCollector(c) {
  if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise((r) => c.proc.once('exit', r));
  process.kill(c.proc.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(c.proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

/** The reverse proxy in front of the collector (see the top of the file). */
async function startProxy(upstream) {
  const target = new URL(upstream);
  const state = { offline: false, attempts: [], forwardedWhileOffline: 0 };
  const forward = (req, path, body) =>
    new Promise((resolve, reject) => {
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path, headers: req.headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const pathname = req.url.split('?')[0];
      if (pathname === '/v1/batch') {
        let json = null;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          // recorded as is
        }
        const offline = state.offline;
        state.attempts.push({ offline, beacon: Boolean(json && 'writeKey' in json), batch: (json && json.batch) || [] });
        if (offline) {
          req.socket.destroy(); // unreachable: no answer at all
          return;
        }
      }
      try {
        let r = await forward(req, req.url, body);
        if (r.status === 404 && req.method === 'GET' && !/\.[a-z0-9]+$/i.test(pathname) && !pathname.endsWith('/')) {
          r = await forward(req, `${pathname}.html${req.url.slice(pathname.length)}`, body);
        }
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

/** Rows of a query on the collector's database (read-only; WAL allows it while it writes). */
function sql(query) {
  const out = execFileSync(SQLITE, ['-readonly', '-json', db, query], { encoding: 'utf8', timeout: 10_000 });
  return out.trim() ? JSON.parse(out) : [];
}

const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;

/** message_id → how many rows, for these ids. */
function countsOf(ids) {
  const list = [...ids];
  if (list.length === 0) return new Map();
  const rows = sql(`SELECT message_id, COUNT(*) AS n FROM events WHERE message_id IN (${list.map(quote).join(',')}) GROUP BY message_id`);
  return new Map(rows.map((r) => [r.message_id, r.n]));
}

async function health() {
  const res = await fetch(`${collector.url}/api/health`);
  return res.json();
}

/** Waits (moving the page's clock on, for the sender's timers) until every id is stored. */
async function until(page, ids, label, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const counts = countsOf(ids);
    if ([...ids].every((id) => counts.has(id))) return counts;
    if (Date.now() > end) {
      const missing = [...ids].filter((id) => !counts.has(id));
      assert.fail(`${label}: ${missing.length} of ${ids.size} signals never reached the database: ${missing.slice(0, 5).join(', ')}`);
    }
    if (page && !page.isClosed()) await page.clock.fastForward(2_000).catch(() => {});
    await sleep(250);
  }
}

/** A fresh Chromium profile with consent `anonymous` remembered (the banner's cookie). */
async function browserWithConsent() {
  const browser = await launch();
  await browser.context.addCookies([{ name: 'bp_consent', value: 'anonymous', url: proxy.url }]);
  return browser;
}

/** What the page's sender tried to send, seen from the page (fetch requests). */
function watchPage(context) {
  const seen = { requests: [], failed: 0, finished: 0, ids: new Set() };
  context.on('request', (r) => {
    if (!r.url().endsWith('/v1/batch')) return;
    let batch = [];
    try {
      batch = JSON.parse(r.postData() || '{}').batch || [];
    } catch {
      // not JSON: nothing to record
    }
    const entry = { offline: proxy.offline, batch, outcome: 'pending' };
    seen.requests.push(entry);
    for (const e of batch) seen.ids.add(e.messageId);
    r.__bp = entry;
  });
  context.on('requestfailed', (r) => {
    if (r.__bp) r.__bp.outcome = 'failed';
  });
  context.on('requestfinished', (r) => {
    if (r.__bp) r.__bp.outcome = 'finished';
  });
  return seen;
}

/** The signals this page's decisions produced so far (they are what the layer enqueues). */
async function produced(page) {
  return page.evaluate(() => window.bpDemo.sessions.flatMap((s) => s.decisions).flatMap((d) => (d && d.signals) || []));
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bp-delivery-'));
  db = join(tmp, 'signals.sqlite');
  collector = await startCollector();
  proxy = await startProxy(collector.url);
});

after(async () => {
  await proxy?.close();
  await stopCollector(collector);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('collector unreachable for a whole journey: every signal arrives once it is back, each exactly once', { timeout: 180_000 }, async (t) => {
  const browser = await browserWithConsent();
  const seen = watchPage(browser.context);
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.clock.install({ time: START });
  const made = new Map(); // messageId → signal, as the decisions produced them
  const keep = async () => {
    for (const s of await produced(page)) made.set(s.messageId, s);
  };

  proxy.offline = true;
  for (const path of ['/blog/dbt-tests-are-not-enough', '/compare/lumora-vs-pipewatch', '/pricing', '/docs/quickstart']) {
    await page.goto(`${proxy.url}${path}?as=fintech`);
    await ready(page);
    assert.equal(await page.evaluate(() => window.bpDemo.consent), 'anonymous');
    await keep();
    await page.clock.fastForward(40_000); // reading: the 5 s batch goes out and fails, retries back off
  }
  // A hand-raise while offline: the CTA decides again, then the page leaves.
  await page.click('.header-actions a[data-bp-cta="demo"]');
  await page.waitForURL(/\/demo/);
  await ready(page);
  await keep();
  await page.clock.fastForward(20_000);

  // Nothing got through while the collector was unreachable.
  assert.equal(sql('SELECT COUNT(*) AS n FROM events')[0].n, 0, 'no signal stored while offline');
  assert.equal((await health()).since_start.accepted, 0, 'the collector accepted nothing while offline');
  const offlineAttempts = proxy.attempts.filter((a) => a.offline);
  // About one attempt a page (5 pages); a loaded machine may let a page go
  // before its request leaves, so the bound keeps a margin.
  assert.ok(offlineAttempts.length >= 3, `the sender kept trying (${offlineAttempts.length} attempts)`);
  assert.ok(offlineAttempts.every((a) => !a.beacon), 'no beacon while the collector does not answer: it would be lost unnoticed');
  const pageOffline = seen.requests.filter((r) => r.offline);
  assert.ok(pageOffline.length >= 3, `${pageOffline.length} requests seen by the pages`);
  assert.deepEqual(pageOffline.filter((r) => r.outcome === 'finished'), [], 'no request succeeded while offline');
  const queued = await page.evaluate(() => JSON.parse(localStorage.getItem('bp_queue') || '[]').map((e) => e.messageId));
  for (const id of made.keys()) assert.ok(queued.includes(id), `signal ${made.get(id).event} ${id} is still queued`);

  // The network is back: one more page.
  proxy.offline = false;
  await page.goto(`${proxy.url}/?as=fintech`);
  await ready(page);
  await keep();

  const tried = new Set([...seen.ids, ...proxy.attempts.flatMap((a) => a.batch.map((e) => e.messageId))]);
  for (const id of seen.ids) assert.ok(proxy.attempts.some((a) => a.batch.some((e) => e.messageId === id)), 'the proxy saw what the page sent');
  for (const id of made.keys()) tried.add(id);
  const counts = await until(page, tried, 'after the network came back');
  assert.deepEqual([...counts.values()].filter((n) => n !== 1), [], 'each signal stored exactly once');
  assert.equal(counts.size, tried.size);

  // What the layer sent is what the decisions produced, and the store has it as sent.
  const rows = sql(`SELECT message_id, event, anonymous_id, payload FROM events WHERE message_id IN (${[...tried].map(quote).join(',')})`);
  for (const r of rows) {
    const p = JSON.parse(r.payload);
    assert.equal(p.context.consent, 'anonymous');
    if (made.has(r.message_id)) assert.equal(r.event, made.get(r.message_id).event);
  }
  const events = rows.map((r) => r.event);
  assert.ok(events.includes('Sales Trigger Fired'), 'the tier-A pricing trigger (essential) arrived');
  assert.ok(events.some((e) => ESSENTIAL.includes(e)));
  assert.ok(!events.includes('Signals Dropped'), 'nothing was dropped (the queue stayed within its bound)');
  assert.equal(new Set(rows.map((r) => r.anonymous_id)).size, 1, 'one visitor');
  // The queue drains once delivered.
  await page.clock.fastForward(10_000);
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('bp_queue') || '[]').length === 0, null, { timeout: 15_000 });
  const h = await health();
  assert.equal(h.since_start.accepted, tried.size);
  t.diagnostic(
    `${tried.size} signals (${[...new Set(events)].join(', ')}); ${offlineAttempts.length} attempts refused while offline ` +
      `(${pageOffline.length} seen by the page); ${h.since_start.duplicates} duplicates deduplicated by the collector`,
  );
  await page.close();
  await browser.close();
});

test('a page closed with a batch waiting: the beacon delivers it', { timeout: 60_000 }, async () => {
  const browser = await browserWithConsent();
  const page = await browser.context.newPage();
  await page.clock.install({ time: START });
  await page.clock.pauseAt(new Date(START.getTime() + 1_000)); // the 5 s batch timer does not fire
  const before = proxy.attempts.length;
  await page.goto(`${proxy.url}/pricing?as=fintech`);
  await ready(page);
  const ids = new Set((await produced(page)).map((s) => s.messageId));
  assert.ok(ids.size >= 1, 'the decision produced signals');
  assert.equal(proxy.attempts.length, before, 'nothing sent yet: the batch is waiting');
  assert.deepEqual(countsOf(ids), new Map());
  await page.close({ runBeforeUnload: true }); // pagehide
  const counts = await until(null, ids, 'after the page closed', 15_000);
  assert.ok([...counts.values()].every((n) => n === 1));
  const sent = proxy.attempts.slice(before);
  assert.ok(sent.some((a) => a.beacon), 'sent by sendBeacon');
  await browser.close();
});

test('a page closed mid-batch while the collector is down: the next visit delivers it', { timeout: 90_000 }, async (t) => {
  const browser = await browserWithConsent();
  let page = await browser.context.newPage();
  await page.clock.install({ time: START });
  proxy.offline = true;
  try {
    await page.goto(`${proxy.url}/compare/lumora-vs-pipewatch?as=fintech`);
    await ready(page);
    const ids = new Set((await produced(page)).map((s) => s.messageId));
    assert.ok(ids.size >= 1);
    await page.clock.fastForward(6_000); // the batch goes out and fails
    await page.close({ runBeforeUnload: true }); // the last flush cannot be confirmed
    await sleep(500);
    assert.deepEqual(countsOf(ids), new Map(), 'nothing arrived while down');
    proxy.offline = false;

    page = await browser.context.newPage();
    await page.clock.install({ time: new Date(START.getTime() + 60_000) });
    await page.goto(`${proxy.url}/docs/alerting?as=fintech`);
    await ready(page);
    for (const s of await produced(page)) ids.add(s.messageId);
    const counts = await until(page, ids, 'on the next visit');
    assert.ok([...counts.values()].every((n) => n === 1));
    t.diagnostic(`${ids.size} signals delivered by the next visit`);
  } finally {
    proxy.offline = false;
  }
  await page.close();
  await browser.close();
});
