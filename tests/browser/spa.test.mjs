// A single-page app in Chromium: the browser layer with `spa: true` follows
// the real History API (pushState, back) and the real animation frames, so
// each route the app renders is a page view decided and reported as a
// page's, with its own slots, and the page's query (its campaign) is read
// once per page view.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSiteServer, listen } from '../../www/tools/static-server.mjs';
import { dist, launch, requireSetup } from './helpers.mjs';

// The app: a shell whose router renders each route's content id and slots
// after the URL changes (as React Router or Next.js do), on push and on back.
const APP = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><meta name="buyerpath:content" content="pricing"><title>SPA</title></head>
<body><main id="view"></main>
<script type="module">
  import { Engine } from '/pkg/browser.js';
  import { start } from '/pkg/layer/index.js';
  const routes = {
    '/app/pricing': { content: 'pricing', slots: ['hero'] },
    '/app/blog': { content: 'blog-what-is-data-observability', slots: ['reading', 'cta'] },
  };
  function render() {
    const r = routes[location.pathname];
    document.querySelector('meta[name="buyerpath:content"]').setAttribute('content', r.content);
    document.getElementById('view').replaceChildren(...r.slots.map((id) => {
      const el = document.createElement('div');
      el.dataset.bpSlot = id;
      return el;
    }));
  }
  // The router renders on the next frame after the URL changes.
  window.go = (path) => { history.pushState({}, '', path); requestAnimationFrame(render); };
  addEventListener('popstate', () => requestAnimationFrame(render));
  render();
  window.decisions = [];
  const playbook = await (await fetch('/playbook.json')).text();
  window.bp = start({
    Engine, playbook, endpoint: location.origin, writeKey: 'wk', consent: 'full', spa: true,
    context: { company: { domain: 'northbank.example', industry: 'financial_services', employees: 1200, country: 'US', region: 'NY' } },
    onDecision: (d) => window.decisions.push({ slots: d.slots.map((s) => [s.slot, s.picks.length]) }),
    onError: (e) => console.error('buyerpath', e && e.code, e && e.message),
  });
</script></body></html>`;

let site;
let dir;
let browser;
before(async () => {
  requireSetup();
  dir = mkdtempSync(join(tmpdir(), 'bp-spa-'));
  symlinkSync(join(dist, 'pkg'), join(dir, 'pkg'));
  copyFileSync(join(dist, 'playbook.json'), join(dir, 'playbook.json'));
  // The app's shell at each route's URL, as an SPA's server answers a reload.
  mkdirSync(join(dir, 'app'));
  for (const route of ['pricing', 'blog']) writeFileSync(join(dir, 'app', `${route}.html`), APP);
  const batches = [];
  const server = createSiteServer({ root: dir, batches });
  site = { ...(await listen(server, 0)), batches };
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (site) await site.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sent = () => site.batches.flatMap((b) => b.json.batch || []);

test('spa: true in Chromium: each route is a page view, decided for its own slots and reported; back is a route too; a query change is not', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.url}/app/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring`);
  await page.waitForFunction(() => window.decisions && window.decisions.length === 1, null, { timeout: 30000 });

  await page.evaluate(() => window.go('/app/blog'));
  await page.waitForFunction(() => window.decisions.length === 2, null, { timeout: 10000 });
  assert.deepEqual((await page.evaluate(() => window.decisions[1].slots)).map(([s]) => s), ['reading', 'cta'], 'the new route\'s slots');
  assert.ok(await page.evaluate(() => document.querySelector('[data-bp-slot="reading"]').children.length > 0), 'rendered into the route\'s slot');

  // A query-only change (a URL cleaner's replaceState) is the same page.
  await page.evaluate(() => history.replaceState({}, '', '/app/blog?ref=x'));
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.decisions.length), 2);

  await page.goBack({ waitUntil: 'commit' }).catch(() => {});
  await page.waitForFunction(() => window.decisions.length === 3, null, { timeout: 10000 });
  assert.deepEqual((await page.evaluate(() => window.decisions[2].slots)).map(([s]) => s), ['hero']);

  // Leaving: the held view and the queue go out.
  await page.close({ runBeforeUnload: true });
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline && sent().filter((e) => e.event === 'Content Recommended').length < 3) await new Promise((r) => setTimeout(r, 100));
  const recommended = sent().filter((e) => e.event === 'Content Recommended');
  assert.deepEqual(
    recommended.map((e) => e.properties.slots.map((s) => s.slot)),
    [['hero'], ['reading', 'cta'], ['hero']],
    'each route\'s picks, reported as a page\'s',
  );
  const paths = recommended.map((e) => e.context.page && e.context.page.path);
  assert.ok(paths[0] === paths[2] && paths[0] !== paths[1], `each route's page: ${paths}`);
  // Each route's URL's campaign: the landing URL's, none on the route
  // without one, and the landing URL's again back on it (as a load would).
  const campaigns = recommended.map((e) => (e.context.campaign || {}).name || null);
  assert.deepEqual(campaigns, ['spring', null, 'spring']);
  assert.deepEqual(errors, []);
});
