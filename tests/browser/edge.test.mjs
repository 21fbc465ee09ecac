// The site behind the edge worker (workerd through miniflare), in headless
// Chromium: the page arrives decided, the browser layer continues from the
// edge's decision without deciding again (and without re-rendering a slot),
// and what the page sees (a CTA click) reaches the edge on the next request.
//
// Requires: scripts/setup-browser.sh, node scripts/build-www.mjs --edge.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { launch, requireSetup, ready, slotsInDom, slotsOf, screenshotPath, fakeCollector } from './helpers.mjs';
import { edgeOptions, seedKv, edgeDist } from '../../www/edge/dev.mjs';

requireSetup();
if (!existsSync(join(edgeDist, 'worker.js'))) throw new Error('www/edge/dist is missing: run node scripts/build-www.mjs --edge');

let mf;
let browser;
let origin;

before(async () => {
  mf = new Miniflare({ ...edgeOptions({ STATE_SECRET: 'browser-test-secret' }), host: '127.0.0.1', port: 0 });
  await seedKv(mf);
  const url = await mf.ready;
  // `localhost` is a secure context: Chromium keeps the edge's `Secure` cookies over http.
  origin = `http://localhost:${url.port}`;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await mf?.dispose();
});

test('the edge decides before the page arrives; the layer continues without deciding again', async () => {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(`${origin}/?as=fintech`);
  await ready(page);
  await page.click('#bp-consent [data-consent="full"]');
  // The next page is decided at the edge with consent full.
  await page.goto(`${origin}/blog/dbt-tests-are-not-enough?as=fintech`);
  await ready(page);
  const first = await page.evaluate(() => ({
    mode: window.bpDemo.mode,
    decision: window.bpDemo.decision,
    calls: window.bpDemo.sessions[0].calls,
    by: Array.from(document.querySelectorAll('[data-bp-slot]'), (el) => el.getAttribute('data-bp-by')),
    edge: JSON.parse(document.getElementById('bp-edge').textContent),
  }));
  assert.equal(first.mode, 'edge');
  assert.deepEqual(first.calls, [{ edge: true }], 'the first decide returned the edge decision: no decision in the browser');
  assert.equal(first.decision.seq, first.edge.decision.seq);
  assert.deepEqual(first.by, ['edge', 'edge', 'edge', 'edge'], 'no slot re-rendered by the browser (no flicker)');
  assert.deepEqual(await slotsInDom(page), slotsOf(first.edge.decision));
  assert.equal(first.decision.fit.tier, 'A');
  const cookies = await browser.context.cookies();
  const state = cookies.find((c) => c.name === 'bp');
  assert.ok(state && state.httpOnly && state.secure && state.sameSite === 'Lax', 'signed HttpOnly state cookie');
  assert.equal(await page.evaluate(() => document.cookie.includes('bp=')), false, 'page scripts cannot read the state cookie');

  // A pricing CTA click: the page hands it to the edge (bp_ev), which counts it.
  await page.click('.main-nav a[data-bp-cta="pricing"]');
  await page.waitForURL(/\/pricing/);
  await ready(page);
  const second = await page.evaluate(() => window.bpDemo.decision);
  assert.equal(second.visitor_id, first.decision.visitor_id, 'the same visitor across requests');
  assert.ok(second.seq > first.decision.seq);
  assert.ok(second.engagement.top.some((t) => t.rule === 'cta_pricing'), 'the click reached the edge');
  assert.ok(second.engagement.top.some((t) => t.rule === 'view_blog'), 'the blog view was counted, with its dwell');
  assert.ok(second.triggers.some((t) => t.id === 'tier_a_on_pricing'));
  assert.ok(!(await browser.context.cookies()).some((c) => c.name === 'bp_ev' && c.value), 'bp_ev cleared by the edge');

  await page.click('#bp-inspector-toggle');
  assert.match(await page.textContent('[data-inspector="meta"]'), /decided at the edge/);
  assert.equal(await page.getAttribute('[data-inspector="stage-id"]', 'data-stage'), second.stage.id);
  await page.screenshot({ path: screenshotPath('edge-pricing-inspector.png') });
  await page.close();
  await browser.context.clearCookies();
});

test('behind an edge that forwards its own signals, a tracked event that changes nothing about the visitor keeps the slots and reports nothing again', async () => {
  // A collector for the edge to forward to.
  const store = await fakeCollector();
  const batches = store.received;
  const edge = new Miniflare({ ...edgeOptions({ STATE_SECRET: 'browser-test-secret', COLLECTOR_URL: store.url }), host: '127.0.0.1', port: 0 });
  try {
    await seedKv(edge);
    const at = `http://localhost:${(await edge.ready).port}`;
    await browser.context.addCookies([{ name: 'bp_consent', value: 'anonymous', url: at }]);
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    await page.goto(`${at}/webinars/taming-warehouse-costs`);
    await ready(page);
    const situation = () =>
      page.evaluate(() => {
        const d = window.bpDemo.decision;
        return JSON.stringify([d.qualified, d.fit.tier, d.stage.id, d.role.id, d.lifecycle.stage, d.action.id]);
      });
    const before = { slots: await slotsInDom(page), situation: await situation() };
    const edgeReported = () => batches.filter((e) => e.event === 'Content Recommended').length;
    for (let i = 0; i < 50 && edgeReported() === 0; i++) await page.waitForTimeout(50);
    assert.equal(edgeReported(), 1, 'the edge reported the page');
    const seq = await page.evaluate(() => window.bpDemo.decision.seq);
    await page.click('[data-bp-video]');
    await page.waitForFunction((s) => window.bpDemo.decision.seq > s, seq);
    assert.equal(await situation(), before.situation, 'nothing about the visitor changed (else this test shows nothing)');
    assert.deepEqual(await slotsInDom(page), before.slots, 'the slots keep what the edge put there');
    await page.evaluate(() => window.dispatchEvent(new Event('pagehide')));
    await page.waitForTimeout(500);
    assert.equal(edgeReported(), 1, 'the page was not reported again');
    await page.close();
  } finally {
    await browser.context.clearCookies();
    await edge.dispose();
    await store.close();
  }
});

test('without the inspector turned on, the edge sends a brief decision: the page renders it and the inspector says which lists a brief answer lacks', async () => {
  const quiet = new Miniflare({ ...edgeOptions({ STATE_SECRET: 'browser-test-secret', INSPECTOR: 'off' }), host: '127.0.0.1', port: 0 });
  try {
    await seedKv(quiet);
    const url = await quiet.ready;
    const at = `http://localhost:${url.port}`;
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    await page.goto(`${at}/?as=fintech`);
    await ready(page);
    await page.click('#bp-consent [data-consent="full"]');
    await page.goto(`${at}/pricing?as=fintech`);
    await ready(page);
    const got = await page.evaluate(() => ({
      decision: window.bpDemo.decision,
      calls: window.bpDemo.sessions[0].calls,
      edge: JSON.parse(document.getElementById('bp-edge').textContent),
    }));
    assert.deepEqual(got.calls, [{ edge: true }], 'the layer took the edge decision');
    assert.ok(!('gates' in got.edge.decision) && !('criteria' in got.edge.decision.fit), 'a brief answer');
    assert.equal(got.decision.fit.tier, 'A');
    assert.deepEqual(await slotsInDom(page), slotsOf(got.edge.decision), 'the slots show the brief decision');
    await page.click('#bp-inspector-toggle');
    assert.equal(await page.getAttribute('[data-inspector="stage-id"]', 'data-stage'), got.decision.stage.id);
    assert.equal(await page.textContent('[data-inspector="fit-tier"]'), 'tier A');
    const notes = await page.$$eval('[data-inspector="brief"]', (els) => els.map((e) => e.textContent));
    assert.ok(notes.length >= 4 && notes.every((n) => n.endsWith('are not in a brief answer (the edge sends them with INSPECTOR = "on").')), notes.join(' | '));
    await page.screenshot({ path: screenshotPath('edge-pricing-inspector-brief.png') });
    await page.close();
    await browser.context.clearCookies();
  } finally {
    await quiet.dispose();
  }
});

test('with no engine in KV the page is served as built and decides in the browser from the browser-safe playbook, without a 404', async () => {
  const empty = new Miniflare({ ...edgeOptions({ STATE_SECRET: 'browser-test-secret' }), host: '127.0.0.1', port: 0 });
  try {
    // KV left empty: no `playbook:revision`, no engine.
    const url = await empty.ready;
    const at = `http://localhost:${url.port}`;
    const page = await browser.context.newPage();
    const failed = [];
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${at}/pricing?as=fintech`);
    await ready(page);
    const got = await page.evaluate(() => ({
      edge: document.getElementById('bp-edge'),
      named: document.querySelector('meta[name="bp-playbook"]')?.content,
      decided: Boolean(window.bpDemo && window.bpDemo.decision),
    }));
    assert.equal(got.edge, null, 'no edge decision');
    assert.equal(got.named, '/playbook-edge.json');
    assert.ok(got.decided, 'the browser decided');
    assert.deepEqual(failed, [], 'no request failed');
    await page.close();
    await browser.context.clearCookies();
  } finally {
    await empty.dispose();
  }
});
