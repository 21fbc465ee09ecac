// The collector's dashboard (/dashboard/) in Chromium, against a real
// `buyerpath serve` and its SQLite file, with more accounts than it shows:
//   - the table shows the best-ranked 200 and says how many there are;
//   - next and previous page through the rest, and the search box narrows
//     the table to the accounts whose name holds what was typed;
//   - opening a row adds its details without building the table again, and
//     closing it removes them;
//   - no page error, and account names from the outside world stay text.
// And against a second collector holding what a marketing-ops audit found
// hard to read (a 206-character name, a dozen triggers, a competitor, an
// account quiet for 200 days, SQLs without an MQL):
//   - the table fits a 1,360 px window, names shortened with the full name
//     at hand, a disqualified account last with its failed gates on the row;
//   - the 10-second refresh keeps the keyboard focus, draws nothing again
//     when nothing changed and never runs twice at once;
//   - stages and roles by their labels, the surge rule by the Surge column.
// And against a third holding ids without spaces (a 120-character account
// id, a stage the playbook has no label for, a long trigger id):
//   - the table still fits, the ids cut or wrapped with the whole at hand;
//   - the funnel's labels are inside the chart, a cut one whole in a <title>;
//   - no id twice in the document; the as-of box keeps the store's
//     milliseconds and sends them back;
//   - an engagement bar is as long on any page (a fixed scale, not the
//     page's largest value).
//
// And the demo site's page template (the site links to the dashboard): its
// logo, in the header and the footer, names its gradient once per use.
//
// Needs target/release/buyerpath (cargo build --release -p buyerpath-cli).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, requireSetup, root, dist, screenshotPath } from './helpers.mjs';
import { page as sitePage } from '../../www/src/templates.mjs';

requireSetup();
const BIN = join(root, 'target', 'release', 'buyerpath');
if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build --release -p buyerpath-cli`);

const ACCOUNTS = 600;
const DAY = 86_400_000;
const collectors = [];
let url;
let audit;
let wide;
let wideData;
let browser;

/** A `buyerpath serve` on a free port with its own SQLite file. */
async function startCollector() {
  const tmp = mkdtempSync(join(tmpdir(), 'bp-dashboard-'));
  const proc = spawn(BIN, ['serve', '--addr', '127.0.0.1:0', '--www', dist, '--db', join(tmp, 'signals.sqlite')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  collectors.push({ proc, tmp });
  return new Promise((resolve, reject) => {
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
}

async function send(to, events) {
  for (let i = 0; i < events.length; i += 200) {
    const res = await fetch(`${to}/v1/batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from('demo-write-key:').toString('base64')}` },
      body: JSON.stringify({ batch: events.slice(i, i + 200) }),
    });
    assert.equal(res.status, 200, await res.text());
  }
}

const LONG_NAME = `${'northwind-very-long-subsidiary-name-'.repeat(6)}`.slice(0, 198) + '.example';

/** What the audit found hard to read, as signals of the example playbook. */
function auditEvents(now) {
  const events = [];
  const push = (event, visitor, at, properties) => events.push({
    type: 'track', event, messageId: `audit-${events.length}`, anonymousId: visitor, timestamp: new Date(at).toISOString(), properties,
    context: { playbook: { id: 'lumora-b2b', revision: 1 } },
  });
  const classified = (visitor, account, at, p) => push('Visitor Classified', visitor, at, {
    account, fit_tier: 'A', fit_score: 85, qualified: true, failed_gates: [], engagement_score: 50,
    stage: 'solution_exploration', role: 'end_user', seniority_weight: 1, lifecycle: 'engaged', ...p,
  });
  classified('v-long', LONG_NAME, now - 3 * DAY, { engagement_score: 70 });
  classified('v-quiet', 'quiet.example', now - 200 * DAY, { engagement_score: 95 });
  classified('v-rival', 'rival.example', now - DAY, { engagement_score: 99, qualified: false, failed_gates: ['competitors'] });
  classified('v-new', 'new.example', now - 2 * DAY, { engagement_score: 60 });
  classified('v-trig', 'trig.example', now - 20 * DAY, { engagement_score: 10, role: 'economic_buyer' });
  classified('v-trig', 'trig.example', now - DAY, { engagement_score: 40, role: 'economic_buyer' });
  // trigger_10 five times, trigger_2 three times, ten more once.
  for (let i = 1; i <= 12; i++) {
    for (let k = 0; k < (i === 10 ? 5 : i === 2 ? 3 : 1); k++) push('Sales Trigger Fired', 'v-trig', now - DAY + i * 1000 + k, { account: 'trig.example', trigger: `trigger_${i}` });
  }
  // Two visitors move to the same stage one after the other.
  classified('v-h1', 'history.example', now - 30 * DAY, { stage: 'problem_identification', engagement_score: 20 });
  classified('v-h2', 'history.example', now - 29 * DAY, { stage: 'problem_identification', engagement_score: 20, role: 'technical_evaluator' });
  for (const [v, at] of [['v-h1', now - 10 * DAY], ['v-h2', now - 9 * DAY]]) {
    classified(v, 'history.example', at, { stage: 'requirements_building', engagement_score: 30, role: v === 'v-h2' ? 'technical_evaluator' : 'end_user' });
    push('Stage Changed', v, at, { account: 'history.example', from: 'problem_identification', to: 'requirements_building', moved_back: false, confidence: 0.8 });
  }
  // SQLs that came without an MQL (a hand-raise straight to SQL).
  push('SQL Reached', 'v-h1', now - 5 * DAY, { account: 'history.example' });
  push('SQL Reached', 'v-trig', now - DAY, { account: 'trig.example' });
  return events;
}

// A 120-character account id without a space, a stage id the playbook has
// no label for (shown as is), a trigger id as long.
const LONG_ID = `acct_${'9f3c2b7e1d4a6058'.repeat(8)}`.slice(0, 120);
const LONG_STAGE = 'post_purchase_expansion_and_multi_year_renewal_negotiation_stage';
const LONG_TRIGGER = 'a_very_long_trigger_identifier_without_any_spaces_in_it_at_all';

/** Ids without spaces; the last signal at a time with milliseconds (.250). */
function wideEvents(now) {
  const last = Math.floor((now - DAY) / 1000) * 1000 + 250;
  const events = [];
  const push = (event, visitor, at, properties) => events.push({
    type: 'track', event, messageId: `wide-${events.length}`, anonymousId: visitor, timestamp: new Date(at).toISOString(), properties,
    context: { playbook: { id: 'lumora-b2b', revision: 1 } },
  });
  const classified = (visitor, account, at, p) => push('Visitor Classified', visitor, at, {
    account, fit_tier: 'A', fit_score: 85, qualified: true, failed_gates: [], engagement_score: 50,
    stage: 'solution_exploration', role: 'end_user', seniority_weight: 1, ...p,
  });
  classified('v-id', LONG_ID, last - 3 * DAY, { engagement_score: 70, stage: 'validation' });
  classified('v-stage', 'stage.example', last - 2 * DAY, { engagement_score: 30, stage: LONG_STAGE });
  push('Sales Trigger Fired', 'v-id', last - DAY, { account: LONG_ID, trigger: LONG_TRIGGER });
  for (let i = 9; i >= 0; i--) classified(`v-${i}`, `plain-${i}.example`, last - i * 1000, { engagement_score: i * 11 });
  return { events, last: new Date(last).toISOString() };
}

/** Whether the page scrolls sideways, and the accounts table within its box. */
async function widths(page) {
  return page.evaluate(() => {
    const wrap = document.querySelector('#accounts').closest('.table-wrap');
    return { page: document.documentElement.scrollWidth, window: window.innerWidth, table: wrap.scrollWidth, box: wrap.clientWidth };
  });
}

async function openDashboard(page, at) {
  await page.goto(`${at}/dashboard/`);
  await page.waitForFunction(() => document.querySelectorAll('#accounts tr.account').length > 0);
}

const row = (account) => `#accounts tr.account[data-account="${account}"]`;

/** Polls `fn` in the page from Node (a page under page.clock has its timers
 * and animation frames stopped, and waitForFunction polls with them). */
async function until(page, fn, what) {
  const end = Date.now() + 15_000;
  while (!(await page.evaluate(fn))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  url = await startCollector();
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
  await send(url, events);
  audit = await startCollector();
  await send(audit, auditEvents(Date.now()));
  wide = await startCollector();
  wideData = wideEvents(Date.now());
  await send(wide, wideData.events);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  for (const { proc, tmp } of collectors) {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the dashboard shows the first 200 of 600 accounts and opens a row in place', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/dashboard/`);
  await page.waitForFunction(() => document.querySelectorAll('#accounts tr.account').length > 0);
  assert.equal(await page.$$eval('#accounts tr.account', (rows) => rows.length), 200);
  assert.match(await page.textContent('#accounts-hint'), /accounts 1–200 of 600/);
  assert.match(await page.textContent('#kpis'), /600\s*Accounts/);
  // Open the second row: its details follow it, and the rows are the same
  // elements as before (the table was not built again).
  await page.evaluate(() => {
    for (const r of document.querySelectorAll('#accounts tr.account')) r.dataset.mark = '1';
  });
  // Sent with the public key: every fit is a browser's claim, and says so.
  assert.equal(await page.$$eval('#accounts tr.account .tier.asserted', (b) => b.length), 200);
  assert.match(await page.textContent('#accounts tr.account .tier'), /\(asserted by a browser\)/);
  await page.click('#accounts tr.account:nth-of-type(2)');
  assert.equal(await page.$$eval('#accounts tr.details', (d) => d.length), 1);
  assert.match(await page.textContent('#accounts tr.details'), /\(asserted by a browser\).*playbook lumora-b2b r1/);
  assert.equal(await page.$eval('#accounts tr.details', (d) => d.previousElementSibling.querySelector('button.expander').getAttribute('aria-expanded')), 'true');
  assert.equal(await page.$$eval('#accounts tr.account[data-mark="1"]', (rows) => rows.length), 200, 'no row rebuilt');
  await page.click('#accounts button[aria-expanded="true"]');
  assert.equal(await page.$$eval('#accounts tr.details', (d) => d.length), 0);
  assert.equal(await page.$$eval('#accounts [aria-expanded="true"]', (d) => d.length), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'markup in a name is text');
  // The revision picker names the playbook's revision, and signals without one as such (not "rnull").
  const options = await page.$$eval('#revision option', (o) => o.map((x) => x.textContent));
  assert.ok(options.includes('lumora-b2b r1'), `${options}`);
  assert.ok(options.every((o) => !/null|undefined/.test(o)), `${options}`);
  assert.equal(await page.$eval('#revision', (s) => s.value), 'lumora-b2b r1', 'the playbook revision is shown first');
  assert.deepEqual(errors, []);
  await page.close();
});

test('next page shows the next 200 accounts, and the search narrows the table', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await openDashboard(page, url);
  const ranks = () => page.$$eval('#accounts tr.account td:first-child', (c) => c.map((x) => Number(x.textContent)));
  const accounts = () => page.$$eval('#accounts tr.account', (r) => r.map((x) => x.dataset.account));
  const previous = page.getByRole('button', { name: 'Previous page' });
  const next = page.getByRole('button', { name: 'Next page' });
  assert.ok(await previous.isDisabled());
  // The second page: ranks 201–400, the rows the API lists from offset 200.
  const api = await (await fetch(`${url}/api/accounts?limit=200&offset=200`)).json();
  await next.click();
  await page.waitForFunction(() => document.querySelector('#accounts tr.account td')?.textContent === '201');
  const second = await ranks();
  assert.equal(second.length, 200);
  assert.deepEqual(second, Array.from({ length: 200 }, (_, i) => 201 + i));
  assert.deepEqual(await accounts(), api.accounts.map((a) => a.account));
  assert.match(await page.textContent('#accounts-hint'), /accounts 201–400 of 600/);
  assert.ok(await previous.isEnabled());
  await previous.click();
  await page.waitForFunction(() => document.querySelector('#accounts tr.account td')?.textContent === '1');
  // A double click goes one page on, not two: the second click asks for the
  // page after the one shown, which the first asked for already.
  await next.dblclick();
  await page.waitForFunction(() => document.querySelector('#accounts tr.account td')?.textContent === '201');
  await page.waitForTimeout(500);
  assert.equal((await ranks())[0], 201);
  await previous.click();
  await page.waitForFunction(() => document.querySelector('#accounts tr.account td')?.textContent === '1');
  // The search: a labelled box; the table keeps only names holding it, from the first page.
  await next.click();
  await page.waitForFunction(() => document.querySelector('#accounts tr.account td')?.textContent === '201');
  await page.getByLabel('Search accounts').fill('ACCOUNT-59');
  await page.waitForFunction(() => document.querySelectorAll('#accounts tr.account').length === 11);
  const found = await accounts();
  assert.ok(found.every((a) => a.includes('account-59')), `${found}`);
  assert.ok(found.includes('account-59.example') && found.includes('account-599.example'), `${found}`);
  assert.match(await page.textContent('#accounts-hint'), /11 matching “ACCOUNT-59” \(of 600\)/);
  assert.ok(await page.locator('#accounts-pager').isHidden(), 'one page: no pager');
  assert.match(await page.textContent('#kpis'), /600\s*Accounts/, 'the key figure counts every account');
  // Cleared: every account again, from the first.
  await page.getByLabel('Search accounts').fill('');
  await page.waitForFunction(() => document.querySelectorAll('#accounts tr.account').length === 200);
  assert.equal((await ranks())[0], 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a long name, a dozen triggers and a competitor fit a 1,360 px window', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await openDashboard(page, audit);
  let w = await widths(page);
  assert.ok(w.page <= w.window && w.table <= w.box, `no sideways scroll: ${JSON.stringify(w)}`);
  // The name is shortened on screen, whole in the title and the details.
  const name = await page.$eval(row(LONG_NAME), (r) => {
    const n = r.querySelector('.expander .name');
    return { width: n.getBoundingClientRect().width, cut: n.scrollWidth > n.clientWidth, title: r.querySelector('.expander').title, ellipsis: getComputedStyle(n).textOverflow };
  });
  assert.equal(LONG_NAME.length, 206);
  assert.ok(name.width < 300 && name.cut, JSON.stringify(name));
  assert.equal(name.ellipsis, 'ellipsis');
  assert.equal(name.title, LONG_NAME);
  // Most fired first, numbers in order, eight shown.
  const chips = await page.$$eval(`${row('trig.example')} td.triggers .chip`, (c) => c.map((x) => x.textContent));
  assert.deepEqual(chips, ['trigger_10 ×5', 'trigger_2 ×3', 'trigger_1', 'trigger_3', 'trigger_4', 'trigger_5', 'trigger_6', 'trigger_7', '+4 more']);
  // The competitor ranks after every prospect, and the row says why.
  const last = await page.$eval('#accounts tbody tr.account:last-of-type', (r) => r.dataset.account);
  assert.equal(last, 'rival.example');
  const badge = page.locator(`${row('rival.example')} .badge.disqualified`);
  assert.equal(await badge.textContent(), 'Disqualified: competitors');
  assert.ok(await badge.isVisible());
  // 200 days quiet: at the bottom of the prospects, engagement about 1.
  const quiet = await page.$eval(row('quiet.example'), (r) => r.querySelector('td.num').textContent);
  assert.equal(quiet, '5');
  // Opened, the details wrap instead of widening the table.
  await page.click(`${row(LONG_NAME)} button.expander`);
  await page.click(`${row('trig.example')} button.expander`);
  await page.click(`${row('history.example')} button.expander`);
  w = await widths(page);
  assert.ok(w.page <= w.window && w.table <= w.box, `no sideways scroll when open: ${JSON.stringify(w)}`);
  assert.equal(await page.$eval(`#accounts tr.details[data-account="${LONG_NAME}"] .full-name`, (p) => p.textContent), LONG_NAME);
  await page.screenshot({ path: screenshotPath('dashboard-audit.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('figures say what they mean: surge rule, labels, SQL without an MQL', async () => {
  const page = await browser.context.newPage();
  await openDashboard(page, audit);
  // The surge rule describes the Surge column, in view under the table.
  const rule = await page.$eval('#surge-col', (th) => document.getElementById(th.getAttribute('aria-describedby')).textContent);
  assert.match(rule, /rose by ≥ 20 points/);
  assert.match(rule, /seen before those 7 days/);
  assert.equal(await page.textContent(`${row('new.example')} td:nth-child(9)`), 'new');
  // Stage history by label, two visitors arriving in turn on one line.
  await page.click(`${row('history.example')} button.expander`);
  const history = await page.$$eval('#accounts tr.details[data-account="history.example"] .timeline li', (l) => l.map((x) => x.textContent));
  assert.equal(history.length, 2, `${history}`);
  assert.match(history[0], /Problem identification/);
  assert.match(history[1], /Requirements building×2/);
  const details = await page.textContent('#accounts tr.details[data-account="history.example"]');
  assert.doesNotMatch(details, /requirements_building|problem_identification/);
  assert.match(details, /Economic buyer \(signs the budget\): not seen yet/);
  const moves = await page.textContent('#transitions tbody');
  assert.match(moves, /Problem identification\s*Requirements building/);
  assert.doesNotMatch(moves, /_/);
  // The funnel's label column fits its widest label: none is cut.
  const labels = await page.$$eval('#funnel-chart svg text[text-anchor="end"]', (t) => t.map((x) => x.textContent));
  assert.ok(labels.includes('Validation and consensus creation'), `${labels}`);
  assert.ok(labels.every((l) => !l.endsWith('…')), `${labels}`);
  // MQL → SQL with no MQL: the SQLs that came without one are counted.
  assert.match(await page.textContent('#kpis'), /2 SQL without an MQL/);
  // The time is UTC, on screen.
  assert.equal(await page.locator('.controls .tz').textContent(), 'UTC');
  assert.ok(await page.locator('.controls .tz').isVisible());
  await page.close();
});

test('the refresh keeps the focus, skips an unchanged table and never overlaps', async () => {
  const page = await browser.context.newPage();
  await page.clock.install();
  // The first answer held back: the table says it is loading meanwhile.
  let release;
  const held = new Promise((r) => (release = r));
  let inFlight = 0;
  let most = 0;
  let asked = 0;
  let answered = 0;
  await page.route('**/api/accounts?**', async (route) => {
    asked += 1;
    inFlight += 1;
    most = Math.max(most, inFlight);
    if (asked === 1) await held;
    const res = await route.fetch();
    await route.fulfill({ response: res });
    inFlight -= 1;
    answered += 1;
  });
  // A refresh has been answered and drawn (it draws in the same task).
  const refreshed = async (n) => {
    const end = Date.now() + 15_000;
    while (answered < n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(answered >= n, `refresh ${n} answered`);
    await page.waitForTimeout(300);
  };
  await page.goto(`${audit}/dashboard/`);
  assert.equal(await page.textContent('#accounts tbody'), 'Loading accounts…');
  assert.equal(await page.getAttribute('#accounts', 'aria-busy'), 'true');
  // Ticks while the first load is in flight start no second one.
  await page.clock.runFor(10_000);
  await page.clock.runFor(10_000);
  assert.equal(asked, 1, 'one request while the first is in flight');
  release();
  await until(page, () => document.querySelectorAll('#accounts tr.account').length > 0, 'the rows');
  // The ticks meanwhile asked for one more refresh, after the first.
  await refreshed(2);
  assert.equal(await page.getAttribute('#accounts', 'aria-busy'), null);
  assert.equal(most, 1, 'never two refreshes at once');

  // The expander is a button with the account's name and its state.
  const button = page.getByRole('button', { name: 'Details of trig.example' });
  assert.equal(await button.getAttribute('aria-expanded'), 'false');
  await button.focus();
  await page.keyboard.press('Enter');
  assert.equal(await button.getAttribute('aria-expanded'), 'true');
  assert.equal(await page.$$eval('#accounts tr.details', (d) => d.length), 1);

  // Nothing changed: the refresh draws nothing again, the focus stays.
  await page.evaluate(() => { for (const r of document.querySelectorAll('#accounts tr')) r.dataset.mark = '1'; });
  await page.clock.runFor(10_000);
  await refreshed(3);
  assert.equal(await page.$$eval('#accounts tr:not([data-mark])', (r) => r.length), 0, 'no row drawn again');
  const focused = () => page.evaluate(() => {
    const a = document.activeElement;
    return a === document.body ? 'body' : `${a.tagName} ${a.closest('tr')?.dataset.account}`;
  });
  assert.equal(await focused(), 'BUTTON trig.example');

  // A new signal: the table is drawn again, the focus goes back to the same
  // account's button, its details still open.
  await send(audit, [{ type: 'track', event: 'Sales Trigger Fired', messageId: 'audit-late', anonymousId: 'v-trig', timestamp: new Date().toISOString(),
    properties: { account: 'trig.example', trigger: 'trigger_13' }, context: { playbook: { id: 'lumora-b2b', revision: 1 } } }]);
  await page.clock.runFor(10_000);
  await refreshed(4);
  assert.equal(await page.$$eval('#accounts tr.account:not([data-mark])', (r) => r.length), 6, 'drawn again');
  assert.equal(await focused(), 'BUTTON trig.example');
  assert.equal(most, 1, 'never two refreshes at once');
  assert.equal(await button.getAttribute('aria-expanded'), 'true');
  assert.match(await page.textContent(`${row('trig.example')} td.triggers`), /\+5 more/);
  await page.close();
});

test('ids without spaces fit: the table, the funnel labels, one id per element', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await openDashboard(page, wide);
  const fits = async (when) => {
    const w = await widths(page);
    assert.ok(w.page <= w.window && w.table <= w.box, `no sideways scroll ${when}: ${JSON.stringify(w)}`);
  };
  await fits('closed');
  // The id is cut like a long name, whole in the title.
  const name = await page.$eval(row(LONG_ID), (r) => {
    const n = r.querySelector('.expander .name');
    return { cut: n.scrollWidth > n.clientWidth, width: n.getBoundingClientRect().width, title: r.querySelector('.expander').title };
  });
  assert.ok(name.cut && name.width < 300, JSON.stringify(name));
  assert.equal(name.title, LONG_ID);
  // The trigger's chip wraps within its cell after its underscores, the
  // whole id on screen (ids differ at their ends) and in the title.
  const chip = await page.$eval(`${row(LONG_ID)} td.triggers .chip`, (c) => ({
    cut: c.scrollWidth > c.clientWidth, inside: c.getBoundingClientRect().right <= c.closest('td').getBoundingClientRect().right + 0.5, title: c.title,
    text: c.textContent, lines: c.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(c).fontSize), // one line of 12px text is ~18px
    breaks: c.querySelectorAll('wbr').length,
  }));
  assert.ok(!chip.cut && chip.inside && chip.lines, JSON.stringify(chip));
  assert.ok(chip.text.startsWith(LONG_TRIGGER) && chip.breaks > 0, JSON.stringify(chip));
  assert.ok(chip.title.startsWith(LONG_TRIGGER), chip.title);
  // The stage without a label wraps within its cell (none runs into the next).
  const stages = await page.$$eval('#accounts tr.account td.stage', (cells) => cells.map((c) => ({ text: c.textContent, over: c.scrollWidth - c.clientWidth, title: c.title })));
  assert.ok(stages.every((c) => c.over <= 0), JSON.stringify(stages));
  assert.ok(stages.some((c) => c.text === LONG_STAGE && c.title === LONG_STAGE), JSON.stringify(stages));
  // Opened, still within the window; the details hold the whole id.
  await page.click(`${row(LONG_ID)} button.expander`);
  await page.click(`${row('stage.example')} button.expander`);
  await fits('open');
  assert.equal(await page.$eval(`#accounts tr.details[data-account="${LONG_ID}"] .full-name`, (p) => p.textContent), LONG_ID);
  // The funnel's labels start inside the chart; the long one is cut, whole
  // in the <title> of its group.
  const funnel = await page.$eval('#funnel-chart svg', (s) => ({
    left: Math.min(...[...s.querySelectorAll('text')].map((t) => t.getBBox().x)),
    titles: [...s.querySelectorAll('g > title')].map((t) => ({ full: t.textContent, shown: t.parentNode.querySelector('text').textContent })),
    labels: [...s.querySelectorAll('text[text-anchor="end"]')].map((t) => t.textContent),
  }));
  assert.ok(funnel.left >= 0, `a label starts left of the chart: ${JSON.stringify(funnel)}`);
  const cut = funnel.titles.find((t) => t.full === LONG_STAGE);
  assert.ok(cut && cut.shown.endsWith('…') && LONG_STAGE.startsWith(cut.shown.slice(0, -1)), JSON.stringify(funnel.titles));
  assert.ok(funnel.labels.includes('Validation and consensus creation'), 'the example playbook\'s labels whole');
  // Every id once in the document.
  const ids = await page.$$eval('[id]', (els) => els.map((e) => e.id));
  assert.deepEqual(ids.filter((x, i) => ids.indexOf(x) !== i), [], 'an id twice');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the as-of box keeps the store\'s milliseconds, and sends them back', async () => {
  const page = await browser.context.newPage();
  await openDashboard(page, wide);
  const api = await (await fetch(`${wide}/api/accounts?limit=1`)).json();
  assert.equal(api.as_of, wideData.last);
  assert.match(api.as_of, /\.250Z$/);
  // datetime-local writes .250 as .25 (the shortest form): the same instant.
  const shown = await page.inputValue('#as-of');
  assert.match(shown, /\.25$/, shown);
  assert.equal(new Date(`${shown}Z`).toISOString(), api.as_of);
  // A time with milliseconds typed in is asked for as typed.
  const back = new Date(Date.parse(api.as_of) - 60_000 + 7).toISOString().slice(0, 23);
  const asked = page.waitForRequest((r) => r.url().includes('/api/accounts?') && new URL(r.url()).searchParams.get('as_of') === `${back}Z`);
  await page.fill('#as-of', back);
  await asked;
  await page.close();
});

test('an account\'s engagement bar is as long on any page', async () => {
  const page = await browser.context.newPage();
  await openDashboard(page, url);
  const bars = () => page.$$eval('#accounts tr.account', (rows) => rows.map((r) => ({
    account: r.dataset.account,
    value: r.querySelector('td:nth-child(4)').textContent,
    width: Number(r.querySelectorAll('td:nth-child(4) svg rect')[1].getAttribute('width')),
  })));
  // A row in the middle of the first and of the second page, then alone
  // (the search keeps only it: the largest value shown is its own).
  const first = (await bars())[120];
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.waitForFunction(() => document.querySelector('#accounts tr.account td')?.textContent === '201');
  const second = (await bars())[120];
  for (const one of [first, second]) {
    assert.match(one.account, /^account-\d+\.example$/);
    await page.getByLabel('Search accounts').fill(one.account);
    await page.waitForFunction((a) => {
      const rows = document.querySelectorAll('#accounts tr.account');
      return rows.length === 1 && rows[0].dataset.account === a;
    }, one.account);
    const [alone] = await bars();
    assert.equal(alone.value, one.value);
    assert.ok(Math.abs(alone.width - one.width) < 0.01, `${one.account}: ${one.width} on its page, ${alone.width} alone`);
    assert.ok(alone.width < 90, 'not the full bar');
  }
  // More engagement, a longer bar, whatever the page.
  const ordered = [first, second].sort((x, y) => parseFloat(x.value) - parseFloat(y.value));
  assert.ok(parseFloat(ordered[0].value) === parseFloat(ordered[1].value) ? ordered[0].width === ordered[1].width : ordered[0].width < ordered[1].width, JSON.stringify(ordered));
  await page.close();
});

test('the site\'s page template has every id once, the logo\'s gradients included', () => {
  const html = sitePage({ path: '/', title: 'Lumora', main: '<main id="main"></main>' });
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(ids.filter((x, i) => ids.indexOf(x) !== i), [], 'an id twice');
  // Two logos, each filled from a gradient of its own that the page defines.
  const refs = [...html.matchAll(/url\(#([^)]+)\)/g)].map((m) => m[1]);
  assert.equal((html.match(/class="logo-mark"/g) || []).length, 2);
  assert.ok(refs.length >= 2 && new Set(refs).size === refs.length, `${refs}`);
  for (const r of refs) assert.ok(ids.includes(r), `url(#${r}) has no element`);
});
