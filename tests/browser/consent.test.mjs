// Consent in headless Chromium: with `none` (chosen, or never answered) the
// site still adapts the page, but stores nothing (no cookie, no localStorage,
// no sessionStorage) and sends nothing (zero requests to /v1/batch), across
// navigation, CTA clicks, a download, the ROI calculator and the demo form.
// Withdrawing consent erases what an earlier choice stored. Behind the edge,
// a consent given on the landing page keeps the visitor who landed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Miniflare } from 'miniflare';
import { launch, serveSite, requireSetup, ready, slotsInDom, slotsOf, fakeCollector } from './helpers.mjs';
import { edgeOptions, seedKv } from '../../www/edge/dev.mjs';

requireSetup();

let site;
let browser;
const requests = [];

before(async () => {
  site = await serveSite();
  browser = await launch();
  browser.context.on('request', (r) => requests.push({ url: r.url(), method: r.method() }));
});
after(async () => {
  await browser?.close();
  await site?.close();
});

async function storage(page) {
  const cookies = await browser.context.cookies();
  const web = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
  return { cookies: cookies.length, ...web };
}

async function nothingStored(page, label) {
  assert.deepEqual(await storage(page), { cookies: 0, local: 0, session: 0, cookie: '' }, `${label}: nothing stored`);
}

async function journey(page, choose) {
  await page.clock.install({ time: new Date('2026-11-10T14:00:00Z') });
  await page.goto(`${site.url}/?as=fintech`);
  await ready(page);
  if (choose) await page.click('#bp-consent [data-consent="none"]');
  await nothingStored(page, 'home');
  // Decisions are still made and rendered, in memory.
  const d = await page.evaluate(() => window.bpDemo.decision);
  assert.deepEqual(await slotsInDom(page), slotsOf(d));
  assert.equal(d.fit.tier, 'A');
  assert.deepEqual(d.signals, [], 'consent none produces no signal');

  for (const path of ['/blog/why-pipelines-fail-silently', '/compare/lumora-vs-pipewatch', '/trust/dpa', '/roi-calculator', '/pricing']) {
    await page.clock.fastForward(40_000);
    await page.goto(`${site.url}${path}?as=fintech`);
    await ready(page);
    assert.ok(await page.isVisible('#bp-consent'), `${path}: the banner asks again (the choice "none" is not remembered)`);
    if (path === '/trust/dpa') await page.click('[data-bp-download="security-dpa"]');
    if (path === '/roi-calculator') {
      await page.click('#roi-form button[type="submit"]');
      await page.waitForSelector('#roi-result:not([hidden])');
    }
    await nothingStored(page, path);
  }
  // A CTA click (a hand-raise signal) and the demo form with an e-mail.
  await page.click('.plan-featured a[data-bp-cta="demo"]');
  await page.waitForURL(/\/demo/);
  await ready(page);
  await page.fill('form[data-bp-form="demo_request"] input[name="email"]', 'bob.none@example.com');
  await page.selectOption('select[name="budget"]', '$250k+');
  await page.selectOption('select[name="timeline"]', 'this quarter');
  await page.click('form[data-bp-form="demo_request"] button[type="submit"]');
  await page.waitForSelector('form[data-bp-form="demo_request"] .form-done:not([hidden])');
  const after = await page.evaluate(() => window.bpDemo.decision);
  assert.equal(after.lifecycle.stage, 'sql', 'the hand-raise is still understood, in memory');
  assert.deepEqual(after.signals, []);
  await page.clock.fastForward(60_000);
  await page.goto(`${site.url}/?as=fintech`); // pagehide: the beacon path too
  await ready(page);
  await page.clock.fastForward(10_000);
  await nothingStored(page, 'end');
}

test('consent none (chosen): nothing stored, zero requests to /v1/batch', async () => {
  requests.length = 0;
  const page = await browser.context.newPage();
  await journey(page, true);
  await page.close();
  assert.equal(site.batches.length, 0, 'no batch reached the server');
  assert.deepEqual(requests.filter((r) => r.url.includes('/v1/batch')), [], 'the browser made no request to /v1/batch');
});

test('consent never answered behaves as none', async () => {
  requests.length = 0;
  const page = await browser.context.newPage();
  await journey(page, false);
  await page.close();
  assert.equal(site.batches.length, 0);
  assert.deepEqual(requests.filter((r) => r.url.includes('/v1/batch')), []);
});

test('withdrawing consent erases what was stored; GPC caps full at anonymous', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${site.url}/blog?as=fintech`);
  await ready(page);
  await page.click('#bp-consent [data-consent="full"]');
  await page.waitForFunction(() => localStorage.getItem('bp_state'));
  const stored = await storage(page);
  assert.ok(stored.local >= 1 && stored.cookie.includes('bp_consent=full'), 'full consent stores the state and remembers the choice');
  await page.click('#bp-privacy-open');
  await page.click('#bp-consent [data-consent="none"]');
  await nothingStored(page, 'after withdrawing');
  await page.close();

  // Two tabs: consent withdrawn in one reaches the other at once, which then
  // stores nothing more and sends nothing more (it used to write its state
  // and queue back, and send a `full` signal 5 s after the withdrawal).
  const tabA = await browser.context.newPage();
  await tabA.goto(`${site.url}/pricing?as=fintech`);
  await ready(tabA);
  await tabA.click('#bp-consent [data-consent="full"]');
  await tabA.waitForFunction(() => localStorage.getItem('bp_state'));
  const tabB = await browser.context.newPage();
  await tabB.goto(`${site.url}/blog?as=fintech`);
  await ready(tabB);
  await tabB.click('#bp-privacy-open');
  await tabB.click('#bp-consent [data-consent="none"]');
  await tabA.waitForFunction(() => window.bpDemo.consent === 'none', null, { timeout: 5000 });
  const batchesAtWithdrawal = site.batches.length;
  await tabA.click('.plan-featured a[data-bp-cta="demo"]');
  await tabA.waitForURL(/\/demo/);
  await ready(tabA);
  await tabA.close({ runBeforeUnload: true });
  await tabB.waitForTimeout(6000); // past the sender's 5 s batch timer
  await nothingStored(tabB, 'after withdrawing in the other tab');
  assert.equal(site.batches.length, batchesAtWithdrawal, 'the other tab sent nothing after the withdrawal');
  await tabB.close();
  await browser.context.clearCookies();

  // Global Privacy Control: the browser asks not to share.
  const gpc = await browser.context.newPage();
  await gpc.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  await gpc.clock.install({ time: new Date('2026-11-10T14:00:00Z') });
  const sentBefore = site.batches.length;
  await gpc.goto(`${site.url}/pricing?as=fintech`);
  await ready(gpc);
  await gpc.click('#bp-consent [data-consent="full"]');
  await gpc.waitForFunction(() => window.bpDemo.consent === 'anonymous');
  // The banner shows the level in force, as it does after a reload.
  assert.equal(await gpc.textContent('#bp-consent-label'), 'anonymous');
  assert.deepEqual(await gpc.$$eval('#bp-consent [aria-pressed="true"]', (els) => els.map((e) => e.dataset.consent)), ['anonymous']);
  const d = await gpc.evaluate(() => window.bpDemo.decision);
  assert.ok(!d.role.evidence.includes('title'), 'GPC: no title used');
  assert.ok(d.signals.length > 0, 'signals are produced (anonymous)...');
  await gpc.clock.fastForward(40_000);
  await gpc.goto(`${site.url}/docs/quickstart?as=fintech`); // and the page left
  await ready(gpc);
  await gpc.clock.fastForward(10_000);
  await gpc.close();
  await browser.context.clearCookies();
  assert.equal(site.batches.length, sentBefore, '...but with GPC none is sent');
});

test('the banner is a named region, first in the page and the tab order; after a choice the focus is not lost to <body>', async () => {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  await page.goto(`${site.url}/pricing?as=fintech`);
  await ready(page);
  const region = page.getByRole('region', { name: 'How much may this site remember?' });
  assert.equal(await region.count(), 1, 'a region landmark named by its heading');
  assert.equal(await region.getAttribute('id'), 'bp-consent');
  assert.match(await page.evaluate(() => document.getElementById(document.getElementById('bp-consent').getAttribute('aria-describedby')).textContent), /^Lumora adapts/);
  assert.equal(await page.evaluate(() => document.body.firstElementChild.id), 'bp-consent', 'first in the page');
  assert.equal(await page.getAttribute('#bp-privacy-open', 'aria-expanded'), 'true', 'the demo bar\'s button says the banner is open');
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return el.id || el.dataset.consent || el.tagName.toLowerCase();
  });
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'none', 'the first stop of the tab order is the banner\'s first choice');
  await page.keyboard.press('Enter');
  assert.ok(await page.isHidden('#bp-consent'));
  assert.equal(await focused(), 'main', 'after the choice, the main content has the focus');
  assert.equal(await page.getAttribute('#bp-privacy-open', 'aria-expanded'), 'false');
  await page.keyboard.press('Tab');
  assert.ok(await page.evaluate(() => document.querySelector('main').contains(document.activeElement)), 'the tab order goes on in the main content');
  // Reopened from the demo bar: the focus goes to the banner, and back to the button after a choice.
  await page.focus('#bp-privacy-open');
  await page.keyboard.press('Enter');
  assert.ok(await page.isVisible('#bp-consent'));
  assert.equal(await page.getAttribute('#bp-privacy-open', 'aria-expanded'), 'true');
  assert.equal(await focused(), 'none', 'the choice in force');
  await page.keyboard.press('Enter');
  assert.ok(await page.isHidden('#bp-consent'));
  assert.equal(await focused(), 'bp-privacy-open', 'back to the button that opened it');
  await nothingStored(page, 'after choosing none by keyboard');
  await page.close();
});

test('a tampered inspector history in sessionStorage is dropped entry by entry: no page error', async () => {
  for (const stored of ['[null]', '[{"seq":1,"engagement":"abc"}]', '[1,"x",{"visitor":"v","seq":1,"engagement":50,"stage":"s","page":"/","triggers":[7]}]']) {
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && errors.push(m.text()));
    await page.goto(`${site.url}/styles.css`);
    await page.evaluate((s) => {
      document.cookie = 'bp_consent=full; Path=/';
      sessionStorage.setItem('bp_demo_history', s);
    }, stored);
    await page.goto(`${site.url}/pricing?as=fintech`);
    await ready(page);
    await page.click('#bp-inspector-toggle');
    await page.waitForSelector('#bp-inspector [data-inspector="stage-id"]');
    assert.deepEqual(errors, [], stored);
    const history = await page.evaluate(() => JSON.parse(sessionStorage.getItem('bp_demo_history')));
    assert.ok(history.length >= 1 && history.every((e) => typeof e.engagement === 'number' && e.triggers.every((t) => typeof t === 'string')), JSON.stringify(history));
    await page.close();
    await browser.context.clearCookies();
  }
});

test('behind the edge, consent given on the landing page keeps one visitor: the landing page, the banner\'s choice and the next page share one anonymous id', async () => {
  // A collector for the edge's signals and the browser's batches (proxied by the edge).
  const store = await fakeCollector();
  const received = store.received;
  const edge = new Miniflare({ ...edgeOptions({ STATE_SECRET: 'browser-test-secret', COLLECTOR_URL: store.url }), host: '127.0.0.1', port: 0 });
  try {
    await seedKv(edge);
    // `localhost` is a secure context: Chromium keeps the edge's `Secure` cookies over http.
    const at = `http://localhost:${(await edge.ready).port}`;
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    await page.goto(`${at}/blog/what-is-data-observability`);
    await ready(page);
    const landing = await page.evaluate(() => ({ mode: window.bpDemo.mode, consent: window.bpDemo.consent, id: window.bpDemo.decision.visitor_id }));
    assert.deepEqual([landing.mode, landing.consent], ['edge', 'none']);
    assert.deepEqual(await browser.context.cookies(), [], 'nothing stored before the choice');
    const posted = page.waitForResponse((r) => r.url().endsWith('/bp/consent'), { timeout: 5000 }).catch(() => null);
    await page.click('#bp-consent [data-consent="anonymous"]');
    const grant = await posted; // (before the next page is asked for)
    await page.waitForFunction(() => window.bpDemo.decision.signals.length > 0 || window.bpDemo.decision.seq > 1);
    const accepted = await page.evaluate(() => window.bpDemo.decision.visitor_id);
    assert.equal(accepted, landing.id, 'the layer decides again for the landing visitor');

    const next = page.waitForResponse((r) => r.url() === `${at}/pricing`);
    await page.goto(`${at}/pricing`);
    await ready(page);
    assert.equal((await next).headers()['x-bp-state'], 'ok', 'the next page decodes the stored state');
    const second = await page.evaluate(() => window.bpDemo.decision);
    assert.equal(second.visitor_id, landing.id, 'the same visitor at the next page');
    assert.ok(second.engagement.top.some((t) => t.rule === 'view_blog'), 'the landing page\'s view counted');
    assert.equal(grant?.status(), 204, 'the page posted its resume, which the edge took');
    await page.goto(`${at}/compare/lumora-vs-pipewatch`); // pagehide: the browser's batch leaves
    await ready(page);
    await page.close();
    // The landing page's (sent by its layer once consent was given) and the next pages' (by the edge).
    const shown = () => received.filter((e) => e.event === 'Content Recommended').map((e) => e.context.page.path);
    for (let i = 0; i < 200 && shown().length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(shown().sort(), ['/blog/what-is-data-observability', '/compare/lumora-vs-pipewatch', '/pricing']);
    assert.deepEqual([...new Set(received.map((e) => e.anonymousId))], [landing.id], 'one anonymous id in the collector');
  } finally {
    await browser.context.clearCookies();
    await edge.dispose();
    await store.close();
  }
});
