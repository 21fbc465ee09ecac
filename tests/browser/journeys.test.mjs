// A scripted journey per demo visitor, in headless Chromium, against the built
// site on a local static server. On every page:
//   - the slots in the DOM are exactly the picks of the page's decision;
//   - the decision is the one the package makes in Node for the same calls
//     (the page records what the layer asked of the engine: the state it
//     started from, each event and decide request), byte for byte;
//   - the inspector shows the decision's stage;
// and per visitor, what a good salesperson would expect (tier-A fintech gets
// the pricing trigger and, after the demo form, sales; a student or a
// competitor is never offered a demo; a customer is routed to the CSM...).
//
// Requires: scripts/setup-browser.sh, node scripts/build-www.mjs.
// Screenshots: target/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../pkg/node.js';
import { launch, serveSite, requireSetup, ready, slotsInDom, slotsOf, sitePlaybook, screenshotPath } from './helpers.mjs';

requireSetup();

// 2026-11-10, a Tuesday afternoon (the live webinar runs until 2026-12-15).
const START = new Date('2026-11-10T14:00:00Z');
const SALES_CTAS = ['demo-request', 'free-trial', 'contact-sales'];

let site;
let browser;
const engine = new Engine(sitePlaybook('playbook.json'));

before(async () => {
  site = await serveSite();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await site?.close();
});

/** A visitor id outside the 5 % holdout, so that the picks are personalised. */
function visitorId(name) {
  for (let n = 1; n < 100; n += 1) {
    const id = `test-${name}-${n}`;
    const v = engine.visitor(id);
    const d = v.decide({ now: START.getTime(), slots: ['hero'] });
    v.free();
    if (!d.holdout) return id;
  }
  throw new Error('no id outside the holdout');
}

async function freshPage(name) {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  const id = visitorId(name);
  // The layer takes the anonymous id from crypto.randomUUID().
  await page.addInitScript((fixed) => {
    crypto.randomUUID = () => fixed;
  }, id);
  await page.clock.install({ time: START });
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  return page;
}

/** Replays one page's recorded engine calls in Node and compares every decision. */
function replay(sessions) {
  let decisions = 0;
  for (const s of sessions) {
    const v = s.initial.state ? engine.decode(s.initial.state) : engine.visitor(s.initial.id);
    let k = 0;
    for (const call of s.calls) {
      if (call.observe) v.observe(call.observe);
      if (call.decide) {
        const d = v.decide(call.decide);
        assert.deepEqual(s.decisions[k], d, `decision ${k} of the page replays identically in Node`);
        k += 1;
        decisions += 1;
      }
    }
    v.free();
  }
  return decisions;
}

/** Checks the page's current state; returns its decision. */
async function check(page, label) {
  await ready(page);
  const { decision, sessions } = await page.evaluate(() => ({ decision: window.bpDemo.decision, sessions: window.bpDemo.sessions }));
  assert.ok(replay(sessions) >= 1, `${label}: at least one decision replayed`);
  assert.deepEqual(await slotsInDom(page), slotsOf(decision), `${label}: the slots show the decision's picks`);
  // The inspector shows the same stage.
  await page.click('#bp-inspector-toggle');
  const stage = await page.getAttribute('[data-inspector="stage-id"]', 'data-stage');
  assert.equal(stage, decision.stage.id, `${label}: the inspector shows the decided stage`);
  assert.equal(await page.textContent('[data-inspector="fit-tier"]'), `tier ${decision.fit.tier}`);
  await page.click('#bp-inspector-toggle');
  return decision;
}

/**
 * Reads the page for `seconds` (the held page view goes out at 30 s, a batch
 * every 5 s). The fake clock runs those seconds at once, so the collector's
 * answers to the batches they sent are then awaited, as they would have
 * arrived while a real reader read: without that, a slow machine navigates
 * before the answer, and the next page sends the batch again (see the
 * delivery assertions below, and tests/browser/delivery.test.mjs for
 * navigations that do cut a batch short).
 */
async function read(page, seconds = 40) {
  await page.clock.fastForward(seconds * 1000);
  await page.waitForFunction(() => {
    const stored = localStorage.getItem('bp_queue');
    return stored === null || stored === '[]';
  }, null, { polling: 20, timeout: 10000 });
}

async function visit(page, path, as, label) {
  await page.goto(`${site.url}${path}${path.includes('?') ? '&' : '?'}as=${as}`);
  return check(page, label || path);
}

async function consentTo(page, level) {
  await page.click(`#bp-consent [data-consent="${level}"]`);
  await page.waitForFunction((l) => window.bpDemo.consent === l, level);
}

const ctaOf = (d) => d.slots.find((s) => s.slot === 'cta').picks.map((p) => p.id);
const readingOf = (d) => d.slots.find((s) => s.slot === 'reading').picks.map((p) => p.id);

test('fintech (tier-A target, New York): blog → comparison → pricing → docs → demo request', async () => {
  const page = await freshPage('fintech');
  await page.goto(`${site.url}/?as=fintech`);
  await ready(page);
  await consentTo(page, 'full');
  const home = await check(page, 'home');
  assert.equal(home.fit.tier, 'A');
  assert.equal(home.qualified, true);
  assert.equal(home.role.id, 'technical_evaluator', 'VP Eng evaluates technically');
  assert.ok(home.role.evidence.includes('title'), 'full consent: the title is used');
  await read(page);

  const blog = await visit(page, '/blog/dbt-tests-are-not-enough', 'fintech');
  await read(page, 45);
  const compare = await visit(page, '/compare/lumora-vs-pipewatch', 'fintech');
  assert.ok(compare.engagement.score > blog.engagement.score, 'reading raises engagement');
  await read(page, 45);
  const pricing = await visit(page, '/pricing', 'fintech');
  assert.ok(pricing.triggers.some((t) => t.id === 'tier_a_on_pricing'), 'tier-A account on the pricing page fires the trigger');
  await read(page, 45);
  const docs = await visit(page, '/docs/quickstart', 'fintech');
  assert.ok(docs.engagement.score > pricing.engagement.score);
  assert.notDeepEqual(slotsOf(docs), slotsOf(home), 'the picks moved with the journey');
  // A CTA click on the page's "Book a demo" is a hand-raise signal.
  await read(page, 20);

  await page.goto(`${site.url}/demo?as=fintech`);
  await check(page, 'demo page');
  await page.fill('form[data-bp-form="demo_request"] input[name="email"]', 'alice.marker@hudsonledger.com');
  await page.selectOption('select[name="budget"]', '$50k-$250k');
  await page.selectOption('select[name="authority"]', 'decision maker');
  await page.selectOption('select[name="pain"]', 'data quality');
  await page.selectOption('select[name="timeline"]', 'this quarter');
  await page.click('form[data-bp-form="demo_request"] button[type="submit"]');
  await page.waitForFunction(() => window.bpDemo.decision.lifecycle.stage === 'sql');
  const sql = await check(page, 'after the demo request');
  assert.equal(sql.lifecycle.stage, 'sql');
  assert.equal(sql.action.id, 'talk_to_sales');
  assert.equal(sql.stage.id, 'supplier_selection', 'a demo request is supplier-selection evidence');
  const submitted = await page.evaluate(() => window.bpDemo.sessions.flatMap((s) => s.calls).find((c) => c.observe && c.observe.type === 'form_submit').observe);
  assert.deepEqual(Object.keys(submitted.fields).sort(), ['authority', 'budget', 'pain', 'timeline'], 'only the data-bp-bant fields are read');
  await read(page, 10); // the sender's 5 s batch timer

  // Back on the home page: personalised for a sales-ready tier-A buyer.
  await read(page);
  const back = await visit(page, '/', 'fintech', 'home again');
  assert.equal(back.action.id, 'talk_to_sales');
  assert.ok(!ctaOf(back).includes('free-trial'));
  await page.screenshot({ path: screenshotPath('home-fintech.png') });
  await page.click('#bp-inspector-toggle');
  await page.screenshot({ path: screenshotPath('inspector-fintech.png') });
  await page.locator('#bp-inspector').screenshot({ path: screenshotPath('inspector-fintech-panel.png') }).catch(() => {});

  // What left for the collector: Segment batches, the write key, consent
  // stamped, unique message ids, and never the e-mail address.
  await read(page, 10);
  await page.evaluate(() => document.getElementById('bp-inspector').scrollTo(0, 1e6));
  await page.screenshot({ path: screenshotPath('inspector-fintech-signals.png') });
  assert.ok(site.batches.length > 0, 'signals were sent to /v1/batch');
  const events = site.batches.flatMap((b) => b.json.batch);
  for (const b of site.batches) {
    assert.equal(b.headers.authorization, `Basic ${Buffer.from('demo-write-key:').toString('base64')}`);
    assert.ok(!b.body.includes('alice.marker'), 'the e-mail field is never read');
  }
  assert.ok(events.every((e) => e.type === 'track' && e.context.consent === 'full'));
  // Delivery is at least once: a batch still in flight when the page goes
  // away was not confirmed, so the next page sends it again and the store
  // keeps one copy (it dedupes by messageId). A repeated id must therefore be
  // that same event, byte for byte, never a new event under an old id.
  const byId = new Map();
  for (const e of events) {
    const seen = byId.get(e.messageId);
    if (seen === undefined) byId.set(e.messageId, { text: JSON.stringify(e), copies: 1 });
    else {
      assert.equal(JSON.stringify(e), seen.text, `messageId ${e.messageId} sent again with other content`);
      seen.copies += 1;
    }
  }
  // Sent again only after a navigation cut it short: never every batch twice.
  assert.ok([...byId.values()].every((x) => x.copies <= 2), 'no signal sent more than twice');
  for (const name of ['SQL Reached', 'Sales Trigger Fired', 'Visitor Classified']) assert.ok(events.some((e) => e.event === name), `${name} sent`);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + document.cookie + JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes('alice.marker'));
  await page.close();
  site.batches.length = 0;
});

test('small agency (30 people, Boston): blogs and careers — never qualified, nurtured', async () => {
  const page = await freshPage('agency');
  await page.goto(`${site.url}/?as=agency`);
  await ready(page);
  await consentTo(page, 'full');
  const home = await check(page, 'home');
  await read(page);
  const a = await visit(page, '/blog/what-is-data-observability', 'agency');
  await read(page);
  const b = await visit(page, '/blog/hidden-cost-of-bad-data', 'agency');
  await read(page);
  const c = await visit(page, '/careers', 'agency');
  for (const d of [home, a, b, c]) {
    assert.equal(d.fit.tier, 'D');
    assert.equal(d.qualified, false);
    assert.ok(d.gates.some((g) => g.id === 'company_size' && g.status === 'fail'), 'the size gate fails');
    assert.equal(d.action.id, 'nurture');
    assert.ok(!ctaOf(d).includes('free-trial') && !ctaOf(d).includes('contact-sales'), 'no sales CTA is picked for them');
    assert.notEqual(d.lifecycle.stage, 'mql');
  }
  await page.close();
  site.batches.length = 0;
});

test('hospital in Germany (anonymous consent): early research, no title used', async () => {
  const page = await freshPage('hospital');
  await page.goto(`${site.url}/?as=hospital`);
  await ready(page);
  await consentTo(page, 'anonymous');
  const home = await check(page, 'home');
  await read(page);
  const a = await visit(page, '/blog/what-is-data-observability', 'hospital');
  await read(page, 45);
  const b = await visit(page, '/resources/data-quality-maturity-model', 'hospital');
  await read(page, 45);
  const c = await visit(page, '/customers/meridian-health', 'hospital');
  for (const d of [home, a, b, c]) {
    assert.equal(d.fit.tier, 'C');
    assert.equal(d.qualified, true);
    assert.ok(!d.role.evidence.includes('title'), 'anonymous consent: the job title is not used');
    assert.ok(!readingOf(d).includes('guide-fintech-compliance'), 'the fintech guide is for financial services only');
  }
  assert.ok(c.engagement.score > home.engagement.score);
  const events = site.batches.flatMap((x) => x.json.batch);
  assert.ok(events.every((e) => e.context.consent === 'anonymous'));
  assert.ok(!JSON.stringify(events).includes('Head of Data'), 'no title in any signal');
  await page.close();
  site.batches.length = 0;
});

test('student (education, Brazil): gates fail, never a demo, trial or sales contact', async () => {
  const page = await freshPage('student');
  await page.goto(`${site.url}/?as=student`);
  await ready(page);
  await consentTo(page, 'full');
  const seen = [await check(page, 'home')];
  for (const path of ['/blog/what-is-data-observability', '/careers', '/pricing']) {
    await read(page);
    seen.push(await visit(page, path, 'student'));
  }
  for (const d of seen) {
    assert.equal(d.qualified, false);
    for (const gate of ['territory', 'industries_served', 'education']) assert.equal(d.gates.find((g) => g.id === gate).status, 'fail', gate);
    assert.ok(!ctaOf(d).some((id) => SALES_CTAS.includes(id)), `no sales CTA: ${ctaOf(d)}`);
    assert.deepEqual(d.triggers, []);
  }
  await page.close();
  site.batches.length = 0;
});

test('competitor (DataSentry): comparisons and pricing — the competitor gate holds', async () => {
  const page = await freshPage('competitor');
  await page.goto(`${site.url}/?as=competitor`);
  await ready(page);
  await consentTo(page, 'full');
  const seen = [await check(page, 'home')];
  for (const path of ['/compare/lumora-vs-datasentry', '/compare/lumora-vs-pipewatch', '/pricing']) {
    await read(page, 60);
    seen.push(await visit(page, path, 'competitor'));
  }
  for (const d of seen) {
    assert.equal(d.gates.find((g) => g.id === 'competitors').status, 'fail', 'www.DataSentry.com is on the (hashed) competitor list');
    assert.equal(d.qualified, false);
    assert.ok(!ctaOf(d).some((id) => SALES_CTAS.includes(id)), `no sales CTA: ${ctaOf(d)}`);
    assert.deepEqual(d.triggers, []);
    assert.notEqual(d.lifecycle.stage, 'mql');
  }
  await page.close();
  site.batches.length = 0;
});

test('existing customer (Meridian Health): release notes, docs, the lineage module — routed to the CSM', async () => {
  const page = await freshPage('customer');
  await page.goto(`${site.url}/?as=customer`);
  await ready(page);
  await consentTo(page, 'full');
  const seen = [await check(page, 'home')];
  for (const path of ['/blog/whats-new-november-2026', '/docs/alerting', '/platform/lineage']) {
    await read(page, 50);
    seen.push(await visit(page, path, 'customer'));
  }
  const customerStages = ['onboarding', 'adoption', 'support', 'expansion'];
  for (const d of seen) {
    assert.equal(d.action.id, 'customer_success');
    assert.deepEqual(ctaOf(d), ['contact-customer-success']);
    assert.ok(customerStages.includes(d.stage.id), d.stage.id);
    const all = d.slots.flatMap((s) => s.picks.map((p) => p.format));
    assert.ok(!all.includes('comparison') && !all.includes('case_study') && !all.includes('demo'), 'no prospect content for a customer');
  }
  assert.ok(seen.at(-1).triggers.some((t) => t.id === 'customer_expansion_interest'), 'the CSM hears about expansion interest');
  await page.screenshot({ path: screenshotPath('lineage-customer.png') });
  await page.close();
  site.batches.length = 0;
});

test('the visitor switcher re-decides and re-renders in place', async () => {
  const page = await freshPage('switcher');
  await page.goto(`${site.url}/`);
  await ready(page);
  await consentTo(page, 'none');
  const unknown = await check(page, 'unknown visitor');
  await page.selectOption('#bp-preset', 'customer');
  await page.waitForFunction(() => window.bpDemo.decision.action.id === 'customer_success');
  const customer = await check(page, 'switched to the customer');
  assert.deepEqual(ctaOf(customer), ['contact-customer-success']);
  assert.notDeepEqual(slotsOf(customer), slotsOf(unknown));
  assert.match(page.url(), /[?&]as=customer/);
  await page.selectOption('#bp-preset', 'fintech');
  await page.waitForFunction(() => window.bpDemo.decision.fit.tier === 'A');
  const fintech = await check(page, 'switched to the fintech');
  assert.equal(fintech.role.id, 'unknown', 'consent none: the job title is not used');
  await page.fill('#bp-title', 'CFO');
  await page.press('#bp-title', 'Enter');
  await page.waitForFunction(() => /title=CFO/.test(location.search));
  await check(page, 'title changed');
  // Internal links keep the chosen visitor.
  await page.click('.main-nav a[href="/blog"]');
  await page.waitForURL(/\/blog\?as=fintech&title=CFO/);
  const blog = await check(page, 'blog index');
  assert.equal(blog.fit.tier, 'A');
  await page.close();
});

test('the static demo server says where the dashboard its pages link to is (the collector), instead of a bare 404', async () => {
  for (const path of ['/dashboard/', '/dashboard']) {
    const r = await fetch(`${site.url}${path}`);
    assert.equal(r.status, 404, path);
    const html = await r.text();
    assert.match(html, /The dashboard needs the collector/, path);
    assert.match(html, /\.\/dev demo/, path);
  }
  const head = await fetch(`${site.url}/dashboard/`, { method: 'HEAD' });
  assert.equal(head.status, 404);
});
