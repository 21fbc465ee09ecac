// The collector's dashboard (/dashboard/) in Chromium, against a real
// `buyerpath serve` and its SQLite file, with more accounts than it shows:
//   - the table shows the best-ranked 200 and says how many there are;
//   - opening a row adds its details without building the table again, and
//     closing it removes them;
//   - no page error, and account names from the outside world stay text.
//
// Needs target/release/buyerpath (cargo build --release -p buyerpath-cli).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, requireSetup, root, dist } from './helpers.mjs';

requireSetup();
const BIN = join(root, 'target', 'release', 'buyerpath');
if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build --release -p buyerpath-cli`);

const ACCOUNTS = 600;
let tmp;
let proc;
let url;
let browser;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bp-dashboard-'));
  proc = spawn(BIN, ['serve', '--addr', '127.0.0.1:0', '--www', dist, '--db', join(tmp, 'signals.sqlite')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`buyerpath serve did not start:\n${out}`)), 15_000);
    proc.stderr.on('data', (d) => (out += d));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  // One classified visitor per account; the first name is markup.
  const start = Date.now() - 86_400_000;
  const events = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const account = i === 0 ? '<img src=x onerror="window.pwned=1">.com' : `account-${i}.example`;
    events.push({
      type: 'track',
      event: 'Visitor Classified',
      messageId: `m-${i}`,
      anonymousId: `v-${i}`,
      timestamp: new Date(start + i * 1000).toISOString(),
      properties: { account, stage: 'solution_exploration', engagement_score: i % 100, fit_tier: 'ABCD'[i % 4], fit_score: 90 - (i % 4) * 20, role: 'end_user', seniority_weight: 1 },
      context: { playbook: { id: 'lumora-b2b', revision: 1 } },
    });
  }
  // A host's own event, sent without a playbook in its context.
  events.push({ type: 'track', event: 'Content Viewed', messageId: 'm-host', anonymousId: 'v-host', timestamp: new Date(start).toISOString(), properties: {} });
  for (let i = 0; i < events.length; i += 200) {
    const res = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from('demo-write-key:').toString('base64')}` },
      body: JSON.stringify({ batch: events.slice(i, i + 200) }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the dashboard shows the first 200 of 600 accounts and opens a row in place', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/dashboard/`);
  await page.waitForFunction(() => document.querySelectorAll('#accounts tr.account').length > 0);
  assert.equal(await page.$$eval('#accounts tr.account', (rows) => rows.length), 200);
  assert.match(await page.textContent('#accounts-hint'), /the first 200 of 600 accounts/);
  assert.match(await page.textContent('#kpis'), /600\s*Accounts/);
  // Open the second row: its details follow it, and the rows are the same
  // elements as before (the table was not built again).
  await page.evaluate(() => {
    for (const r of document.querySelectorAll('#accounts tr.account')) r.dataset.mark = '1';
  });
  await page.click('#accounts tr.account:nth-of-type(2)');
  assert.equal(await page.$$eval('#accounts tr.details', (d) => d.length), 1);
  assert.equal(await page.$eval('#accounts tr.details', (d) => d.previousElementSibling.getAttribute('aria-expanded')), 'true');
  assert.equal(await page.$$eval('#accounts tr.account[data-mark="1"]', (rows) => rows.length), 200, 'no row rebuilt');
  await page.click('#accounts tr[aria-expanded="true"]');
  assert.equal(await page.$$eval('#accounts tr.details', (d) => d.length), 0);
  assert.equal(await page.$$eval('#accounts tr[aria-expanded="true"]', (d) => d.length), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'markup in a name is text');
  // The revision picker names the playbook's revision, and signals without one as such (not "rnull").
  const options = await page.$$eval('#revision option', (o) => o.map((x) => x.textContent));
  assert.ok(options.includes('lumora-b2b r1'), `${options}`);
  assert.ok(options.every((o) => !/null|undefined/.test(o)), `${options}`);
  assert.equal(await page.$eval('#revision', (s) => s.value), 'lumora-b2b r1', 'the playbook revision is shown first');
  assert.deepEqual(errors, []);
  await page.close();
});
