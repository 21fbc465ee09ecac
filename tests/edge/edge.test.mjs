// The edge worker (www/edge/worker.mjs, bundled by `node scripts/build-www.mjs
// --edge`) in workerd through miniflare, with the built site as its assets and
// KV seeded from www/edge/dist/kv.json:
//   - the first HTML response already carries the picks in its slots, and the
//     decision is the one the package makes in Node for the same inputs;
//   - the signed state cookie round-trips; a tampered, foreign, garbage or
//     stale (replayed past its lifetime) one starts a fresh visitor with a 200;
//     one replayed within its lifetime repeats its messageIds (deduplicated);
//   - Sec-GPC: 1 sends no signal; consent none stores nothing, and a consent
//     given on such a page continues its visitor (POST /bp/consent);
//   - forwarding signals to a slow collector does not delay the response;
//   - the engine (a file from `buyerpath compile`, loaded by buyerpath/page)
//     follows the KV revision; organisation records are
//     reused for their TTL;
//   - the worker's added time per request is measured (reported, not asserted
//     beyond a generous sanity bound).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Miniflare, Response as MfResponse } from 'miniflare';
import { Engine } from '../../pkg/node.js';
import { Engine as PageEngine } from '../../pkg/page/node.js';
import { edgeOptions, seedKv, edgeDist, siteDist } from '../../www/edge/dev.mjs';

// The CLI writes engine files (the worker loads them with buyerpath/page).
const CLI = process.env.BUYERPATH_BIN || join(edgeDist, '..', '..', '..', 'target', 'release', 'buyerpath');
const FULL = readFileSync(join(edgeDist, '..', '..', '..', 'examples', 'acme', 'playbook.json'), 'utf8');
const engine = new Engine(FULL);
const SECRET = 'test-secret-0123456789';
const ORIGIN = 'http://lumora.test';
const HUDSON_CF = { country: 'US', region: 'New York', regionCode: 'NY', asOrganization: 'Hudson Ledger' };
// The KV's organisation records (the edge decides with the whole record).
const ORGS = JSON.parse(readFileSync(join(edgeDist, '..', 'orgs.json'), 'utf8'));
const PAGE_PLAYBOOK = readFileSync(join(siteDist, 'playbook-edge.json'), 'utf8');

// ------------------------------------------------------------------ a collector

function collector({ delayMs = 0, statuses = [] } = {}) {
  const received = [];
  const script = [...statuses]; // the first answers' statuses (then 200)
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    const body = raw.toString();
    let json = null;
    try {
      json = JSON.parse(body || 'null');
    } catch {
      // kept as bytes (raw)
    }
    received.push({ at: Date.now(), path: req.url, auth: req.headers.authorization, raw, body, json });
    const status = script.shift() ?? 200;
    const headers = { 'Content-Type': 'application/json', ...(status === 429 ? { 'Retry-After': '1' } : {}) };
    setTimeout(() => res.writeHead(status, headers).end(status === 200 ? '{"success":true}' : '{"error":"busy"}'), delayMs);
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () =>
      ok({
        url: `http://127.0.0.1:${server.address().port}`,
        received,
        close: () => new Promise((done) => (server.closeAllConnections(), server.close(done))),
      }),
    ),
  );
}

// ------------------------------------------------------------------ helpers

const basicAuth = (key) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** A worker with the demo switcher on, its own (trusted) key and the browsers' public key, and a collector. */
async function switcherEdge() {
  const fast = await collector();
  const edge = new Miniflare(
    edgeOptions({ STATE_SECRET: SECRET, COLLECTOR_URL: fast.url, DEMO_SWITCHER: 'on', WRITE_KEY: 'edge-trusted-key', BROWSER_WRITE_KEY: 'public-key' }),
  );
  await seedKv(edge);
  return { fast, edge };
}

let mf;
let slow;
const SLOW_MS = 1500;

before(async () => {
  slow = await collector({ delayMs: SLOW_MS });
  mf = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, COLLECTOR_URL: slow.url, DEMO_SWITCHER: 'off' }));
  await seedKv(mf);
});
after(async () => {
  await mf?.dispose();
  await slow?.close();
});

async function get(path, { cookie = '', cf = HUDSON_CF, headers = {}, on = mf } = {}) {
  const started = performance.now();
  const res = await on.dispatchFetch(`${ORIGIN}${path}`, { headers: { Cookie: cookie, Accept: 'text/html', ...headers }, cf });
  const html = await res.text();
  return { res, html, ms: performance.now() - started, edge: edgeJson(html), cookies: setCookies(res) };
}

function edgeJson(html) {
  const m = /<script type="application\/json" id="bp-edge">(.*?)<\/script>/s.exec(html);
  return m ? JSON.parse(m[1]) : null;
}

function setCookies(res) {
  const out = {};
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split('; ');
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = { value: pair.slice(eq + 1), attrs };
  }
  return out;
}

/** The picks in the slots of the HTML (from the markup itself). */
function slotsInHtml(html) {
  const out = {};
  const re = /<div class="slot[^"]*" data-bp-slot="([a-z]+)"[^>]*>(.*?)<\/div>/gs;
  for (const m of html.matchAll(re)) out[m[1]] = [...m[2].matchAll(/data-bp-content="([^"]+)"/g)].map((x) => x[1]);
  return out;
}

const slotsOf = (d) => Object.fromEntries(d.slots.map((s) => [s.slot, s.picks.map((p) => p.id)]));

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await wait(25);
  }
  return fn();
}

// ------------------------------------------------------------------ tests

test('the first HTML response already shows the picks, decided as the package decides in Node', async () => {
  const { res, html, edge } = await get('/pricing', { cookie: 'bp_consent=full' });
  assert.equal(res.status, 200);
  assert.ok(edge, 'the decision is injected for the browser layer');
  const d = edge.decision;
  assert.equal(d.fit.tier, 'A', 'Hudson Ledger from request.cf.asOrganization + KV');
  assert.equal(edge.context.company.domain, 'hudsonledger.com');
  assert.equal(edge.context.account.tier, 'tier1');
  // Every slot of the page is filled by the edge with the decision's picks.
  const inHtml = slotsInHtml(html);
  assert.deepEqual(Object.keys(inHtml).sort(), ['cta', 'hero', 'reading', 'sidebar']);
  assert.deepEqual(inHtml, slotsOf(d));
  assert.equal((html.match(/data-bp-by="edge"/g) || []).length, 4, 'the four slots were rendered at the edge');
  assert.ok(d.triggers.some((t) => t.id === 'tier_a_on_pricing'));
  // The same inputs through the package in Node give the same decision.
  const v = engine.visitor(d.visitor_id);
  const { company, account } = ORGS['hudson ledger'];
  const node = v.decide({ now: d.now, slots: engine.slots, context: { consent: 'full', page: { url: '/pricing', content_id: 'pricing' }, company, account } });
  v.free();
  assert.deepEqual(d, { ...node, signals: [] });
  // The signals went to the collector (after the response), not to the page.
  assert.deepEqual(edge.signals, []);
  assert.equal(edge.forwarded, node.signals.length);
  // Personalised HTML must not be cached by anyone else.
  assert.equal(res.headers.get('Cache-Control'), 'private, no-store');
  assert.equal(res.headers.get('ETag'), null);
  assert.match(res.headers.get('Server-Timing'), /bp;dur=/);
  // Filled in one pass over the page (www/edge/fill.mjs), not by HTMLRewriter.
  assert.equal(res.headers.get('X-Bp-Fill'), 'direct');
});

test('the page gets of the organisation\'s record only what its own playbook reads, and decides with it as with the whole record', async () => {
  const { edge } = await get('/pricing', { cookie: 'bp_consent=full' });
  const record = ORGS['hudson ledger'];
  const named = new Set(PAGE_PLAYBOOK.match(/"(company|account)\.[a-z_]+/g).map((m) => m.slice(1)));
  // What the engine reads by itself: the account's domain and stage, the industry.
  named.add('company.domain').add('account.stage').add('company.industry');
  for (const root of ['company', 'account']) {
    const want = Object.fromEntries(Object.entries(record[root]).filter(([k]) => named.has(`${root}.${k}`)));
    assert.deepEqual(edge.context[root], want, root);
  }
  // Enrichment the page's playbook never reads stays at the edge.
  for (const k of ['name', 'revenue', 'tech', 'funding_stage']) assert.equal(edge.context.company[k], undefined, k);
  assert.ok(record.company.revenue && record.company.tech);
  // The page's own engine (its state copy, fit from the edge) decides the
  // same with what it got as with the whole record.
  const page = new Engine(PAGE_PLAYBOOK);
  const decide = (ctx) => {
    const v = page.decode(edge.state);
    const d = v.decide({ now: edge.decision.now + 1000, slots: page.slots, context: { consent: 'full', page: { url: '/pricing', content_id: 'pricing' }, ...ctx } });
    v.free();
    return d;
  };
  assert.deepEqual(decide(edge.context), decide({ company: record.company, account: record.account }));
  page.free();
});

test('a page that shows some of the playbook\'s slots is decided for those: no recommendation reported for a slot it lacks', async () => {
  const page = PAGE('Only a hero');
  const bare = '<!doctype html><html><head><title>Legal</title></head><body><p>Terms</p></body></html>';
  const { edge } = await originEdge(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === '/playbook-edge.json') return new MfResponse(PAGE_PLAYBOOK, { headers: { 'Content-Type': 'application/json' } });
    return new MfResponse(path === '/no-slots' ? bare : page, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  });
  try {
    const r = await get('/only-hero', { cookie: 'bp_consent=full', on: edge });
    assert.equal(r.res.headers.get('X-Bp-Fill'), 'direct');
    assert.deepEqual(r.edge.decision.slots.map((s) => s.slot), ['hero']);
    const recommended = r.edge.signals.filter((s) => s.event === 'Content Recommended');
    assert.ok(recommended.length > 0, 'the hero\'s picks are reported');
    assert.deepEqual([...new Set(recommended.flatMap((s) => s.properties.slots.map((x) => x.slot)))], ['hero']);
    // The second request renders from the compiled copy: the same slots.
    const again = await get('/only-hero', { cookie: `bp_consent=full; bp=${r.cookies.bp.value}`, on: edge });
    assert.deepEqual(again.edge.decision.slots.map((s) => s.slot), ['hero']);
    // A page with no slot of the playbook: decided (its view, the
    // visitor's classification), no slot and nothing reported recommended.
    const none = await get('/no-slots', { cookie: `bp_consent=full; bp=${again.cookies.bp.value}`, on: edge });
    assert.equal(none.res.headers.get('X-Bp-Fill'), 'direct');
    assert.deepEqual(none.edge.decision.slots, []);
    assert.deepEqual(none.edge.signals.filter((s) => s.event === 'Content Recommended'), []);
  } finally {
    await edge.dispose();
  }
});

test('another site\'s Referer is the decision\'s page.referrer, as its host: the example\'s review-site trigger fires on it', async () => {
  const fired = async (referer) => {
    const { edge } = await get('/pricing', { cookie: 'bp_consent=full', headers: referer ? { Referer: referer } : {} });
    return edge.decision.triggers.map((t) => t.id).includes('review_site_referral');
  };
  assert.equal(await fired('https://www.g2.com/products/lumora/reviews?email=jane%40northbank.example'), true);
  assert.equal(await fired(`${ORIGIN}/blog/`), false, 'a link within the site is no referrer');
  assert.equal(await fired('https://www.google.com/'), false);
  assert.equal(await fired(''), false);
});

test('a page is compiled for the one pass on its first request; later requests render from that copy, for each visitor', async () => {
  const first = await get('/compare/lumora-vs-pipewatch', { cookie: 'bp_consent=anonymous' });
  assert.equal(first.res.headers.get('X-Bp-Fill'), 'direct');
  const visitors = [
    { cookie: 'bp_consent=anonymous' },
    { cookie: 'bp_consent=full', cf: { country: 'DE', asOrganization: 'Klinikum Nord' } },
  ];
  for (const v of visitors) {
    const r = await get('/compare/lumora-vs-pipewatch', v);
    assert.equal(r.res.status, 200);
    assert.equal(r.res.headers.get('X-Bp-Fill'), 'cached');
    assert.deepEqual(slotsInHtml(r.html), slotsOf(r.edge.decision), 'the slots show this request\'s decision');
    assert.equal((r.html.match(/data-bp-by="edge"/g) || []).length, Object.keys(slotsOf(r.edge.decision)).length);
    // Everything outside the slots and the inline data is the built page.
    const built = readFileSync(join(siteDist, 'compare', 'lumora-vs-pipewatch.html'), 'utf8');
    const strip = (h) => h.replace(/<script type="application\/json" id="bp-edge">.*?<\/script>/s, '').replace(/(data-bp-slot="[a-z]+")[^>]*>.*?<\/div>/gs, '$1>');
    assert.equal(strip(r.html), strip(built));
  }
});

test('a page the one pass declines, or one over its size cap, is filled by HTMLRewriter as it streams', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bp-edge-site-'));
  const site = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, DEMO_SWITCHER: 'off' }));
  try {
    cpSync(siteDist, dir, { recursive: true });
    const pricing = join(dir, 'pricing.html');
    // Single quotes: HTMLRewriter reads the slot, the one pass does not.
    writeFileSync(pricing, readFileSync(pricing, 'utf8').replace('data-bp-slot="hero"', "data-bp-slot='hero'"));
    // Over 1 MiB: streamed, never read whole.
    const trust = join(dir, 'trust.html');
    writeFileSync(trust, readFileSync(trust, 'utf8').replace('</body>', `<!-- ${'x'.repeat(1100 * 1024)} --></body>`));
    await site.setOptions({ ...edgeOptions({ STATE_SECRET: SECRET, DEMO_SWITCHER: 'off' }), assets: { ...edgeOptions().assets, directory: dir } });
    await seedKv(site);
    for (const path of ['/pricing', '/pricing', '/trust']) {
      const r = await get(path, { cookie: 'bp_consent=anonymous', on: site });
      assert.equal(r.res.status, 200);
      assert.equal(r.res.headers.get('X-Bp-Fill'), 'rewriter', path);
      assert.ok(r.edge, `${path}: the inline data is there`);
      const slots = slotsOf(r.edge.decision);
      assert.equal((r.html.match(/data-bp-by="edge"/g) || []).length, Object.keys(slots).length, `${path}: every slot filled`);
      if (path === '/trust') assert.ok(r.html.length > 1100 * 1024);
    }
  } finally {
    await site.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('static assets pass through; the full playbook stays at the edge', async () => {
  const js = await mf.dispatchFetch(`${ORIGIN}/pkg/browser.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('Content-Type'), /javascript/);
  assert.equal(js.headers.get('Set-Cookie'), null);
  await js.text();
  const full = await mf.dispatchFetch(`${ORIGIN}/playbook.json`);
  assert.equal(full.status, 404, 'the playbook with fit criteria is not served behind the edge');
  await full.text();
  const safe = await mf.dispatchFetch(`${ORIGIN}/playbook-edge.json`);
  const pb = await safe.json();
  assert.deepEqual(pb.fit.criteria, []);
  assert.ok(!JSON.stringify(pb).includes('datasentry.com'));
  const missing = await mf.dispatchFetch(`${ORIGIN}/no-such-page`);
  assert.equal(missing.status, 404);
  await missing.text();
});

test('the signed state cookie round-trips: same visitor, the previous page view counted', async () => {
  const first = await get('/blog/what-is-data-observability', { cookie: 'bp_consent=anonymous' });
  const { bp, bp_view: view } = first.cookies;
  assert.ok(bp && view, 'state and page-view cookies set');
  // The page view is kept for a week (previousView reads it that long): the
  // last page of a visit counts at the next.
  assert.ok(view.attrs.includes('Max-Age=604800'), view.attrs.join('; '));
  for (const a of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/']) assert.ok(bp.attrs.includes(a), `bp cookie: ${a}`);
  assert.ok(bp.value.length <= 1300, `state cookie ${bp.value.length} chars`);
  assert.equal(first.res.headers.get('X-Bp-State'), 'fresh');

  const second = await get('/compare/lumora-vs-pipewatch', { cookie: `bp_consent=anonymous; bp=${bp.value}; bp_view=${view.value}` });
  assert.equal(second.res.status, 200);
  assert.equal(second.res.headers.get('X-Bp-State'), 'ok');
  assert.equal(second.edge.decision.visitor_id, first.edge.decision.visitor_id, 'the same visitor');
  assert.equal(second.edge.decision.seq, 2);
  assert.ok(second.edge.decision.engagement.top.some((t) => t.rule === 'view_blog'), 'the blog view of the first page was observed');
  // The cookie decodes in Node with the secret (and only with it).
  const back = engine.decode(second.cookies.bp.value, { secret: SECRET });
  assert.equal(back.id, first.edge.decision.visitor_id);
  back.free();
  assert.throws(() => engine.decode(second.cookies.bp.value, { secret: 'another-secret' }), { code: 'state_bad_signature' });
  // The browser's copy of the state is unsigned and holds no secret.
  const copy = engine.decode(second.edge.state);
  assert.equal(copy.id, first.edge.decision.visitor_id);
  copy.free();
});

test('the last page of a visit counts at the next one, hours later (its dwell unknown)', async () => {
  const first = await get('/pricing', { cookie: 'bp_consent=anonymous' });
  const view = `${Date.now() - 3 * 3_600_000}:${encodeURIComponent('/pricing')}`;
  const back = await get('/blog/what-is-data-observability', { cookie: `bp_consent=anonymous; bp=${first.cookies.bp.value}; bp_view=${view}` });
  assert.equal(back.res.headers.get('X-Bp-State'), 'ok');
  assert.ok(back.edge.decision.engagement.top.some((t) => t.rule === 'view_pricing'), JSON.stringify(back.edge.decision.engagement));
});

test('a tampered, foreign-key, garbage or stale (replayed past its lifetime) state cookie starts a fresh visitor with a 200', async () => {
  const first = await get('/', { cookie: 'bp_consent=full' });
  const good = first.cookies.bp.value;
  const flipped = good.slice(0, 20) + (good[20] === 'A' ? 'B' : 'A') + good.slice(21);
  const v = engine.visitor('foreign-visitor');
  v.decide({ now: Date.now(), context: { consent: 'full' } });
  const otherKey = v.encode('not-the-edge-secret');
  const unsigned = v.encode();
  v.free();
  // A genuine edge cookie (right key) whose visitor was last seen 181 days
  // ago: an old cookie kept and presented again past its lifetime.
  const old = engine.visitor('replayed-visitor');
  const then = Date.now() - 181 * 86400000;
  old.observe({ type: 'page_view', ts: then, content_id: 'pricing', dwell_seconds: 60 });
  old.decide({ now: then, context: { consent: 'full' } });
  const stale = old.encode(SECRET);
  // The same, signed as a claim's state (the demo switcher's key).
  const staleClaim = old.encode(`${SECRET}:claimed`);
  old.free();
  assert.equal(engine.decode(stale, { secret: SECRET }).id, 'replayed-visitor', 'validly signed');
  for (const [label, value, code] of [
    ['stale (replayed past its lifetime)', stale, /^rejected:state_expired$/],
    ['a stale claim\'s state: stale, not a forgery', staleClaim, /^rejected:state_expired$/],
    ['tampered', flipped, /^rejected:/],
    ['signed with another key', otherKey, /^rejected:state_bad_signature$/],
    ['unsigned', unsigned, /^rejected:state_unsigned$/],
    ['garbage', '%%%not-a-state%%%', /^rejected:/],
    ['huge', 'A'.repeat(9000), /^rejected:/],
  ]) {
    const r = await get('/pricing', { cookie: `bp_consent=full; bp=${value}; bp_view=garbage; bp_ev=%7Bnot-json` });
    assert.equal(r.res.status, 200, label);
    assert.match(r.res.headers.get('X-Bp-State'), code, label);
    assert.notEqual(r.edge.decision.visitor_id, first.edge.decision.visitor_id, `${label}: a new visitor`);
    assert.equal(r.edge.decision.seq, 1, label);
    assert.ok(r.cookies.bp, `${label}: a fresh signed state is set`);
    assert.deepEqual(slotsInHtml(r.html), slotsOf(r.edge.decision), `${label}: the page is still personalised`);
  }
});

test('a cookie replayed within its lifetime is the same visitor again: its decisions repeat their messageIds, so the store keeps them once', async () => {
  const before = slow.received.length;
  const first = await get('/pricing', { cookie: 'bp_consent=full' });
  const cookie = `bp_consent=full; bp=${first.cookies.bp.value}`;
  const a = await get('/compare/lumora-vs-pipewatch', { cookie });
  const b = await get('/compare/lumora-vs-pipewatch', { cookie }); // the same cookie again
  assert.equal(a.res.headers.get('X-Bp-State'), 'ok');
  assert.equal(b.res.headers.get('X-Bp-State'), 'ok');
  assert.equal(b.edge.decision.visitor_id, a.edge.decision.visitor_id);
  assert.equal(b.edge.decision.seq, a.edge.decision.seq, 'the decision number repeats');
  const id = a.edge.decision.visitor_id;
  const ids = () =>
    slow.received
      .slice(before)
      .flatMap((r) => r.json.batch)
      .filter((e) => e.anonymousId === id && e.event === 'Content Recommended')
      .map((e) => e.messageId);
  assert.ok(await until(() => ids().length >= 3), 'signals forwarded');
  const seen = ids();
  assert.equal(new Set(seen).size, seen.length - 1, `the replayed page re-sends the same messageId: ${seen}`);
});

test('events the page hands over (bp_ev) are observed, then cleared', async () => {
  const first = await get('/', { cookie: 'bp_consent=full' });
  const now = Date.now();
  const events = encodeURIComponent(JSON.stringify([{ type: 'cta_click', ts: now - 2000, cta: 'pricing', content_id: 'pricing' }, { type: 'bogus', ts: now }, { type: 'cta_click', ts: 'yesterday' }]));
  const r = await get('/pricing', { cookie: `bp_consent=full; bp=${first.cookies.bp.value}; bp_view=${first.cookies.bp_view.value}; bp_ev=${events}` });
  assert.equal(r.res.status, 200);
  assert.ok(r.edge.decision.engagement.top.some((t) => t.rule === 'cta_pricing'), 'the pricing CTA click counted');
  assert.equal(r.cookies.bp_ev.value, '');
  assert.ok(r.cookies.bp_ev.attrs.includes('Max-Age=0'));
});

test('Sec-GPC: 1 sends no signal and caps consent at anonymous', async () => {
  const before = slow.received.length;
  const r = await get('/pricing', { cookie: 'bp_consent=full', headers: { 'Sec-GPC': '1' } });
  assert.equal(r.res.status, 200);
  assert.equal(r.edge.consent, 'anonymous');
  assert.equal(r.edge.gpc, true);
  assert.deepEqual(r.edge.signals, []);
  assert.equal(r.edge.forwarded, 0);
  assert.ok(!r.edge.decision.role.evidence.includes('title'));
  assert.ok(r.cookies.bp, 'first-party state is still kept (anonymous)');
  // The first-party batch path drops what a GPC browser would send.
  const batch = await mf.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', headers: { 'Sec-GPC': '1', 'Content-Type': 'application/json' }, body: '{"batch":[]}' });
  assert.equal(batch.status, 204);
  await wait(SLOW_MS + 300);
  assert.equal(slow.received.length, before, 'nothing reached the collector');
});

test('consent none: decided and rendered, but nothing stored and nothing sent', async () => {
  const forwarded = slow.received.length;
  const kept = (await get('/pricing', { cookie: 'bp_consent=full' })).cookies.bp.value;
  assert.ok(await until(() => slow.received.length > forwarded), 'its signals forwarded (before counting)');
  const before = slow.received.length;
  const r = await get('/pricing', { cookie: `bp_view=1; bp=${kept}` });
  assert.equal(r.res.status, 200);
  assert.equal(r.edge.consent, 'none');
  assert.deepEqual(slotsInHtml(r.html), slotsOf(r.edge.decision));
  // No cookie set; the state and view kept from before (a consent since
  // withdrawn or expired) expire.
  assert.deepEqual(Object.keys(r.cookies).sort(), ['bp', 'bp_view']);
  for (const c of Object.values(r.cookies)) assert.ok(c.value === '' && c.attrs.includes('Max-Age=0'), JSON.stringify(c));
  assert.equal(r.edge.forwarded, 0);
  assert.deepEqual(r.edge.signals, []);
  await wait(SLOW_MS + 300);
  assert.equal(slow.received.length, before);
  // The banner's "none" asks the edge to expire its HttpOnly cookies.
  const forget = await mf.dispatchFetch(`${ORIGIN}/bp/consent`, { method: 'POST', body: 'none' });
  assert.equal(forget.status, 204);
  const expired = setCookies(forget);
  for (const name of ['bp', 'bp_view', 'bp_ev', 'bp_consent']) assert.ok(expired[name]?.attrs.includes('Max-Age=0'), name);
});

test('consent none: a parent domain\'s bp cookie, which the host-only expiry cannot remove, is not expired on every page; this site\'s own is', async () => {
  const mine = (await get('/pricing', { cookie: 'bp_consent=full' })).cookies.bp.value;
  const other = new Engine(FULL).visitor('someone-else');
  const foreign = other.encode('another-deployment-secret');
  other.free();
  // This site's own, stale (idle past its lifetime): still its to expire.
  const old = engine.visitor('replayed-visitor');
  old.decide({ now: Date.now() - 181 * 86400000, context: { consent: 'full' } });
  const stale = old.encode(SECRET);
  old.free();
  // This site's own of another encoding version (a rollout's), and one of
  // that version another key signed: the engine checks the tag first.
  const versioned = (key) => {
    const body = Buffer.from(mine, 'base64url').subarray(0, -16);
    body[1] = 2;
    const tag = createHmac('sha256', key).update(body).digest().subarray(0, 16);
    return Buffer.concat([body, tag]).toString('base64url');
  };
  for (const [label, cookie, expired] of [
    ['mine, another version', `bp=${versioned(SECRET)}`, true],
    ['another version, another key', `bp=${versioned('another-deployment-secret')}`, false],
    ['a parent domain\'s', `bp=${foreign}`, false],
    ['another tool\'s', 'bp=whatever', false],
    ['a parent domain\'s, then mine', `bp=${foreign}; bp=${mine}`, true],
    ['mine, stale', `bp=${stale}`, true],
  ]) {
    const r = await get('/pricing', { cookie });
    assert.equal(r.res.status, 200, label);
    assert.equal(r.edge.consent, 'none', label);
    assert.deepEqual(Object.keys(r.cookies), expired ? ['bp'] : [], label);
    if (expired) assert.ok(r.cookies.bp.value === '' && r.cookies.bp.attrs.includes('Max-Age=0'), label);
  }
});

test('consent given on a page decided at none: its resume, posted to /bp/consent, is the visitor the next pages continue', async () => {
  const path = '/blog/what-is-data-observability';
  const landing = await get(path);
  assert.equal(landing.edge.consent, 'none');
  assert.deepEqual(landing.cookies, {}, 'nothing stored at none');
  assert.deepEqual(landing.edge.signals, []);
  assert.equal(landing.edge.forwarded, 0);
  const id = landing.edge.decision.visitor_id;
  const { resume } = landing.edge;
  assert.equal(typeof resume, 'string', 'the page holds its state signed');
  // Signed as the edge stores it: with its key, and only with it.
  const back = engine.decode(resume, { secret: SECRET });
  assert.equal(back.id, id);
  back.free();
  assert.throws(() => engine.decode(resume, { secret: 'another-secret' }), { code: 'state_bad_signature' });
  // Only at none; with GPC too (no signal, the consent as before).
  assert.equal((await get(path, { cookie: 'bp_consent=anonymous' })).edge.resume, undefined);
  const gpc = await get(path, { headers: { 'Sec-GPC': '1' } });
  assert.equal(gpc.edge.consent, 'none');
  assert.equal(gpc.edge.gpc, true);
  assert.deepEqual(gpc.edge.signals, []);
  assert.equal(typeof gpc.edge.resume, 'string');

  const post = (body, { cookie = 'bp_consent=anonymous', headers = {} } = {}) =>
    mf.dispatchFetch(`${ORIGIN}/bp/consent`, {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'same-origin', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const grant = { consent: 'anonymous', state: resume, path };
  // Refused, with nothing set: a forged, unsigned, foreign-key or stale state.
  const flipped = resume.slice(0, 20) + (resume[20] === 'A' ? 'B' : 'A') + resume.slice(21);
  const v = engine.visitor('forged-visitor');
  v.decide({ now: Date.now(), context: { consent: 'none' } });
  const otherKey = v.encode('not-the-edge-secret');
  v.free();
  const old = engine.visitor('replayed-visitor');
  old.decide({ now: Date.now() - 181 * 86400000, context: { consent: 'full' } });
  const stale = old.encode(SECRET);
  old.free();
  for (const [label, state] of [['tampered', flipped], ['unsigned', landing.edge.state], ['another key', otherKey], ['stale', stale], ['garbage', '%%%']]) {
    const r = await post({ ...grant, state });
    assert.equal(r.status, 400, label);
    const err = await r.json();
    assert.equal(err.code, 'invalid_state', label);
    assert.ok(typeof err.error === 'string' && typeof err.hint === 'string', label);
    assert.deepEqual(r.headers.getSetCookie(), [], `${label}: nothing set`);
  }
  // Another site's page (a form posted from elsewhere) is refused.
  for (const headers of [{ 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' }]) {
    const r = await post(grant, { headers });
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.deepEqual(r.headers.getSetCookie(), []);
  }
  const fromElsewhere = await mf.dispatchFetch(`${ORIGIN}/bp/consent`, { method: 'POST', headers: { Cookie: 'bp_consent=anonymous', Origin: 'https://evil.test' }, body: JSON.stringify(grant) });
  assert.equal(fromElsewhere.status, 403);
  assert.deepEqual(fromElsewhere.headers.getSetCookie(), []);
  // A state or a path a cookie header cannot hold: a 400, not a failure.
  for (const [label, body] of [
    ['a state with a line break', { ...grant, state: `${resume}\r\n` }],
    ['a state with a no-break space', { ...grant, state: `${resume}\u00a0` }],
    ['a lone surrogate in the path', { ...grant, path: '/\ud800' }],
  ]) {
    const r = await post(body);
    assert.equal(r.status, 400, label);
    assert.deepEqual(r.headers.getSetCookie(), [], `${label}: nothing set`);
  }
  // Not stored before the banner's cookie grants it.
  const early = await post(grant, { cookie: '' });
  assert.equal(early.status, 409);
  assert.deepEqual(early.headers.getSetCookie(), []);
  // Anything but a grant withdraws, whatever its shape: a body over the cap,
  // a form post, JSON that is no grant.
  for (const [label, body] of [['over the cap', { ...grant, path: `/${'a'.repeat(9000)}` }], ['a form post', 'consent=none'], ['no grant', {}], ['a JSON string', '"none"']]) {
    const r = await post(body);
    assert.equal(r.status, 204, label);
    for (const name of ['bp', 'bp_view', 'bp_ev', 'bp_consent']) assert.ok(setCookies(r)[name]?.attrs.includes('Max-Age=0'), `${label}: ${name} expired`);
  }

  const granted = await post(grant);
  assert.equal(granted.status, 204);
  const set = setCookies(granted);
  assert.deepEqual(Object.keys(set).sort(), ['bp', 'bp_view'], 'the state and the landing page\'s view; the banner owns bp_consent');
  assert.equal(set.bp.value, resume);
  for (const a of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/', `Max-Age=${180 * 86400}`]) assert.ok(set.bp.attrs.includes(a), `bp cookie: ${a}`);
  assert.ok(set.bp_view.attrs.includes('Max-Age=604800'));
  assert.match(set.bp_view.value, new RegExp(`:${encodeURIComponent(path)}$`));
  // A state the edge keeps already (another tab's grant) is not replaced.
  const again = await post({ ...grant, state: gpc.edge.resume }, { cookie: `bp_consent=anonymous; bp=${set.bp.value}` });
  assert.equal(again.status, 204);
  assert.deepEqual(again.headers.getSetCookie(), []);

  // The next page is the visitor who landed, the landing page's view counted.
  const before = slow.received.length;
  const next = await get('/pricing', { cookie: `bp_consent=anonymous; bp=${set.bp.value}; bp_view=${set.bp_view.value}` });
  assert.equal(next.res.headers.get('X-Bp-State'), 'ok');
  assert.equal(next.edge.decision.visitor_id, id, 'the same visitor');
  assert.equal(next.edge.decision.seq, 2);
  assert.ok(next.edge.decision.engagement.top.some((t) => t.rule === 'view_blog'), 'the landing page\'s view counted');
  assert.ok(await until(() => slow.received.slice(before).some((r) => r.json?.batch?.some((e) => e.anonymousId === id))), 'its signals forwarded under the landing visitor');
  // `none` as text (the banner's withdrawal) still expires the edge's cookies.
  const forget = await post('none', { headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });
  assert.equal(forget.status, 204);
  for (const name of ['bp', 'bp_view', 'bp_ev', 'bp_consent']) assert.ok(setCookies(forget)[name]?.attrs.includes('Max-Age=0'), name);
});

test('forwarding signals to a slow collector does not delay the response', async () => {
  const before = slow.received.length;
  const r = await get('/compare/lumora-vs-pipewatch', { cookie: 'bp_consent=full' });
  assert.ok(r.edge.forwarded > 0, 'this page view produced signals');
  assert.ok(r.ms < SLOW_MS / 2, `response in ${r.ms.toFixed(0)} ms while the collector takes ${SLOW_MS} ms`);
  assert.ok(await until(() => slow.received.length > before), 'the signals still reached the collector (waitUntil)');
  const got = slow.received.at(-1);
  assert.equal(got.path, '/v1/batch');
  assert.equal(got.auth, `Basic ${Buffer.from('demo-write-key:').toString('base64')}`);
  assert.equal(got.json.batch.length, r.edge.forwarded);
  assert.ok(got.json.batch.every((s) => s.anonymousId === r.edge.decision.visitor_id && s.context.consent === 'full'));
  console.log(`# page with ${r.edge.forwarded} signals forwarded: response ${r.ms.toFixed(1)} ms; collector answers after ${SLOW_MS} ms`);
});

test('firmographics the visitor chose (demo switcher) are forwarded as claims, never under the trusted key', async () => {
  const { fast, edge } = await switcherEdge();
  try {
    const chosen = await get('/compare/lumora-vs-pipewatch?as=fintech', { cookie: 'bp_consent=full', on: edge });
    assert.ok(chosen.edge.forwarded > 0, 'signals were forwarded');
    assert.ok(await until(() => fast.received.length >= 1));
    assert.equal(fast.received.at(-1).auth, basicAuth('public-key'), 'switcher-chosen firmographics go under the public key');
    const real = await get('/compare/lumora-vs-pipewatch', { cookie: 'bp_consent=full', on: edge });
    assert.ok(real.edge.forwarded > 0, 'signals were forwarded');
    assert.ok(await until(() => fast.received.length >= 2));
    assert.equal(fast.received.at(-1).auth, basicAuth('edge-trusted-key'), 'the edge\'s own firmographics go under its key');
  } finally {
    await edge.dispose();
    await fast.close();
  }
});

test('a browser revalidating a page (If-None-Match) gets it decided, not a 304; HEAD gets GET\'s headers without a decision', async () => {
  // The ETag of the page as built, as a browser holds it from a time the
  // edge served it so (personalisation off, an outage).
  const raw = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, PERSONALIZE: 'off' }));
  let tag;
  let cssTag;
  try {
    await seedKv(raw);
    const built = await raw.dispatchFetch(`${ORIGIN}/pricing`);
    await built.text();
    tag = built.headers.get('ETag');
    const css = await raw.dispatchFetch(`${ORIGIN}/styles.css`);
    await css.text();
    cssTag = css.headers.get('ETag');
  } finally {
    await raw.dispose();
  }
  assert.ok(tag && cssTag, 'the assets have ETags');
  const first = await get('/pricing', { cookie: 'bp_consent=full' });
  const cookie = `bp_consent=full; bp=${first.cookies.bp.value}; bp_view=${first.cookies.bp_view.value}`;
  const again = await get('/pricing', { cookie, headers: { 'If-None-Match': tag } });
  assert.equal(again.res.status, 200);
  assert.equal(again.res.headers.get('X-Bp-State'), 'ok', 'decided on the visitor\'s state');
  assert.ok(again.edge && again.edge.decision.slots.length > 0, 'the decision is in the page');
  assert.ok(again.cookies.bp && again.cookies.bp_view, 'the page view is counted: the state is written again');
  assert.equal(again.res.headers.get('ETag'), null);
  // An asset other than a page keeps its 304.
  const css = await mf.dispatchFetch(`${ORIGIN}/styles.css`, { headers: { 'If-None-Match': cssTag } });
  await css.text();
  assert.equal(css.status, 304);
  // HEAD: the headers GET sends for a page, and no side effect.
  const head = await mf.dispatchFetch(`${ORIGIN}/pricing`, { method: 'HEAD', headers: { Cookie: cookie } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('Cache-Control'), 'private, no-store');
  assert.equal(head.headers.get('Vary'), 'Cookie');
  assert.equal(head.headers.get('ETag'), null);
  assert.match(head.headers.get('Content-Type'), /text\/html/);
  assert.deepEqual(head.headers.getSetCookie(), [], 'no cookie: HEAD decides nothing');
});

test('without STATE_SECRET a page goes out as built, still private to the visitor for caches', async () => {
  const bare = new Miniflare(edgeOptions({ STATE_SECRET: undefined, DEMO_SWITCHER: 'off' }));
  try {
    await seedKv(bare);
    const r = await get('/pricing', { cookie: 'bp_consent=full', on: bare });
    assert.equal(r.res.status, 200);
    assert.equal(r.edge, null, 'not decided');
    assert.equal(r.res.headers.get('Cache-Control'), 'private, no-store');
    assert.equal(r.res.headers.get('ETag'), null);
    // Its script is told which playbook to load (/playbook.json is not served).
    assert.match(r.html, /<meta name="bp-playbook" content="\/playbook-edge.json">/);
  } finally {
    await bare.dispose();
  }
});

test('a claim (demo switcher) stays a claim on the visitor\'s later pages: their signals go under the public key too', async () => {
  const { fast, edge } = await switcherEdge();
  try {
    // A visitor who never used the switcher: the edge's own facts, the trusted key.
    const plain = await get('/pricing', { cookie: 'bp_consent=full', on: edge });
    const plainNext = await get('/compare/lumora-vs-pipewatch', { cookie: `bp_consent=full; bp=${plain.cookies.bp.value}`, on: edge });
    assert.equal(plainNext.res.headers.get('X-Bp-State'), 'ok');
    assert.ok(await until(() => fast.received.length >= 2));
    assert.ok(fast.received.every((r) => r.auth === basicAuth('edge-trusted-key')));
    // One who chose a title once: the role it gave stays in the state, and so
    // does the claim, on a page without ?as=.
    const claimed = await get(`/pricing?as=unknown&title=${encodeURIComponent('Chief Executive Officer')}`, { cookie: 'bp_consent=full', on: edge });
    const next = await get('/compare/lumora-vs-pipewatch', { cookie: `bp_consent=full; bp=${claimed.cookies.bp.value}`, on: edge });
    assert.equal(next.res.headers.get('X-Bp-State'), 'ok', 'the claimed state is read back');
    assert.equal(next.edge.preset, undefined, 'no switcher on this page');
    assert.ok(next.edge.forwarded > 0);
    assert.ok(await until(() => fast.received.length >= 4));
    assert.deepEqual(fast.received.slice(2).map((r) => r.auth), [basicAuth('public-key'), basicAuth('public-key')]);
    // The mark cannot be dropped: the next state is still signed as a claim.
    const third = await get('/pricing', { cookie: `bp_consent=full; bp=${next.cookies.bp.value}`, on: edge });
    assert.equal(third.res.headers.get('X-Bp-State'), 'ok');
    assert.ok(await until(() => fast.received.length >= 5));
    assert.equal(fast.received.at(-1).auth, basicAuth('public-key'));
  } finally {
    await edge.dispose();
    await fast.close();
  }
});

test('/v1/batch on the site origin is forwarded to the collector (first-party path)', async () => {
  const before = slow.received.length;
  const body = JSON.stringify({ batch: [{ type: 'track', event: 'Content Recommended', messageId: 'm-1', anonymousId: 'a', properties: {}, context: { consent: 'anonymous' } }], sentAt: new Date().toISOString() });
  const res = await mf.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Basic ZGVtby13cml0ZS1rZXk6' }, body });
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(slow.received.length, before + 1);
  assert.equal(slow.received.at(-1).body, body);
  assert.equal(slow.received.at(-1).auth, 'Basic ZGVtby13cml0ZS1rZXk6');
  const huge = await mf.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', body: 'x'.repeat(600 * 1024) });
  assert.equal(huge.status, 413);
  assert.equal((await huge.json()).code, 'body_too_large', 'said as the collector says it');
  // The cap counts bytes: 300 Ki euro signs are 900 KiB of UTF-8.
  const wide = await mf.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', body: `{"batch":[],"x":"${'€'.repeat(300 * 1024)}"}` });
  await wide.text();
  assert.equal(wide.status, 413);
  assert.equal(slow.received.length, before + 1, 'nothing over the cap reaches the collector');
  // The bytes go on as sent: a BOM and a broken UTF-8 sequence are the collector's to refuse.
  const odd = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"batch":[{"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]);
  const sent = await mf.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', body: odd });
  await sent.text();
  assert.ok(await until(() => slow.received.length === before + 2));
  assert.deepEqual(slow.received.at(-1).raw, odd, 'forwarded byte for byte');
  // A compressed body would go on without its coding: refused, said, not forwarded.
  const gz = await mf.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', headers: { 'Content-Encoding': 'gzip' }, body: gzipSync(body) });
  assert.equal(gz.status, 415);
  assert.equal((await gz.json()).code, 'unsupported_encoding');
  const plain = await mf.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', headers: { 'Content-Encoding': 'identity' }, body });
  await plain.text();
  assert.ok(await until(() => slow.received.length === before + 3), 'identity is no coding');
  assert.equal(slow.received.at(-1).body, body);
});

test('signals the edge forwards are sent again when the collector is busy (429, then 503)', async () => {
  const busy = await collector({ statuses: [429, 503] });
  const edge = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, COLLECTOR_URL: busy.url, DEMO_SWITCHER: 'off' }));
  try {
    await seedKv(edge);
    const r = await get('/pricing', { cookie: 'bp_consent=full', on: edge });
    assert.ok(r.edge.forwarded > 0);
    assert.ok(await until(() => busy.received.length === 3), `${busy.received.length} requests`);
    const [a, b, c] = busy.received;
    assert.equal(c.body, a.body, 'the same batch');
    assert.ok(b.at - a.at >= 900, 'Retry-After waited for');
    assert.equal(c.json.batch.length, r.edge.forwarded);
  } finally {
    await edge.dispose();
    await busy.close();
  }
});

test('/v1/batch with the collector unreachable: 502, not cached, with Retry-After', async () => {
  const gone = http.createServer();
  await new Promise((ok) => gone.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${gone.address().port}`;
  await new Promise((ok) => gone.close(ok));
  const edge = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, COLLECTOR_URL: url, DEMO_SWITCHER: 'off' }));
  try {
    await seedKv(edge);
    const res = await edge.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', body: '{"batch":[]}' });
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('Cache-Control'), 'no-store');
    assert.ok(Number(res.headers.get('Retry-After')) > 0);
    assert.deepEqual(await res.json(), { error: 'collector_unreachable' });
  } finally {
    await edge.dispose();
  }
});

test('/v1/batch with a collector that does not answer in time: 502 with Retry-After, before the layer gives up', async () => {
  const stuck = await collector({ delayMs: 5_000 });
  const edge = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, COLLECTOR_URL: stuck.url, DEMO_SWITCHER: 'off', COLLECTOR_TIMEOUT_MS: '300' }));
  try {
    await seedKv(edge);
    const started = Date.now();
    const res = await edge.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', body: '{"batch":[]}' });
    assert.equal(res.status, 502);
    assert.ok(Date.now() - started < 3_000, `${Date.now() - started} ms`);
    assert.ok(Number(res.headers.get('Retry-After')) > 0);
    assert.deepEqual(await res.json(), { error: 'collector_unreachable' });
  } finally {
    await edge.dispose();
    await stuck.close();
  }
});

test('a collector that redirects is not followed: the batch and the key stay here, the browser is told to retry', async () => {
  const elsewhere = await collector();
  const mover = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(307, { Location: `${elsewhere.url}/v1/batch` }).end());
  });
  await new Promise((ok) => mover.listen(0, '127.0.0.1', ok));
  const edge = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, COLLECTOR_URL: `http://127.0.0.1:${mover.address().port}`, DEMO_SWITCHER: 'off', WRITE_KEY: 'edge-trusted-key' }));
  try {
    await seedKv(edge);
    const res = await edge.dispatchFetch(`${ORIGIN}/v1/batch`, { method: 'POST', body: '{"batch":[]}' });
    assert.equal(res.status, 502);
    assert.deepEqual(await res.json(), { error: 'collector_redirected' });
    // The edge's own signals: forwarded once, not after the redirect.
    const page = await get('/pricing', { cookie: 'bp_consent=full', on: edge });
    assert.ok(page.edge.forwarded > 0);
    await wait(500);
    assert.equal(elsewhere.received.length, 0, 'nothing reached where the redirect pointed');
  } finally {
    await edge.dispose();
    await new Promise((ok) => mover.close(ok));
    await elsewhere.close();
  }
});

test('nothing a visitor sends can break out of the inline JSON', async () => {
  const demo = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, DEMO_SWITCHER: 'on' }));
  try {
    await seedKv(demo);
    const evil = '</script><script>alert(1)</script>';
    const r = await get(`/?as=fintech&title=${encodeURIComponent(evil)}&utm_source=${encodeURIComponent('<img src=x>')}`, { cookie: 'bp_consent=full', on: demo });
    assert.equal(r.res.status, 200);
    assert.ok(!r.html.includes('<script>alert(1)'), 'no injected script element');
    assert.equal(r.res.headers.get('X-Bp-Fill'), 'direct');
    assert.equal(r.edge.context.person.title, evil, 'the title survives as data');
    assert.equal(r.edge.preset, 'fintech');
    // Without a collector the signals ride to the page, which sends them to /v1/batch.
    assert.ok(r.edge.signals.length > 0);
    assert.equal(r.edge.forwarded, 0);
  } finally {
    await demo.dispose();
  }
});

test('the playbook comes from KV, cached per isolate by revision', async () => {
  const live = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, PLAYBOOK_TTL_SECONDS: '0', DEMO_SWITCHER: 'off', INSPECTOR: 'off' }));
  try {
    const kv = await seedKv(live);
    const a = await get('/', { cookie: 'bp_consent=full', on: live });
    assert.equal(a.res.headers.get('X-Bp-Playbook'), 'r1');
    // INSPECTOR off: a brief answer. The gates, the matched fit criteria and
    // the other explaining lists are left out of the decision; the picks are all there.
    const bd = a.edge.decision;
    for (const [where, obj, key] of [['decision', bd, 'gates'], ['fit', bd.fit, 'criteria'], ['engagement', bd.engagement, 'top'], ['stage', bd.stage, 'distribution'], ['role', bd.role, 'evidence'], ['role', bd.role, 'distribution']]) {
      assert.ok(!(key in obj), `INSPECTOR off: no ${where}.${key} in the page`);
    }
    assert.ok(bd.slots.length > 0 && bd.slots.every((s) => s.picks.every((p) => p.id && !('reasons' in p))), 'picks without their reasons');
    assert.ok(!a.html.includes('"gates"'), 'the page has no gate list');
    // Brief is about size, not secrecy (README): with no COLLECTOR_URL the
    // pending signals handed to the page still name the failed gates and the
    // matched fit criteria, as the collector stores them.
    const classified = a.edge.signals.find((s) => s.event === 'Visitor Classified');
    assert.ok(classified, 'a Visitor Classified signal is pending');
    assert.ok(Array.isArray(classified.properties.failed_gates), 'failed_gates is there');
    const reasons = classified.properties.fit_reasons;
    assert.ok(reasons.length > 0 && reasons.length <= 5 && reasons.every((r) => /^[a-z0-9_]+:-?[0-9.]+$/.test(r)), `fit_reasons as id:points: ${reasons}`);
    assert.deepEqual(slotsInHtml(a.html), slotsOf(bd), 'the slots show the brief decision');
    assert.equal(a.edge.decision.fit.tier, 'A');
    // Revision 2: the demo's title changes; the state written with r1 migrates.
    const pb = JSON.parse(FULL);
    pb.revision = 2;
    for (const c of pb.content) if (c.id === 'roi-calculator') c.title = 'What does bad data cost you? (ROI calculator)';
    // The engine file for revision 2, written by the CLI as a deploy would.
    const dir = mkdtempSync(join(tmpdir(), 'bp-edge-r2-'));
    try {
      writeFileSync(join(dir, 'playbook.json'), JSON.stringify(pb));
      execFileSync(CLI, ['compile', join(dir, 'playbook.json'), '-o', join(dir, 'engine.bpe')]);
      await kv.put('engine:2', Uint8Array.from(readFileSync(join(dir, 'engine.bpe'))).buffer);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await kv.put('playbook:revision', '2');
    const b = await get('/', { cookie: `bp_consent=full; bp=${a.cookies.bp.value}`, on: live });
    assert.equal(b.res.status, 200);
    assert.equal(b.res.headers.get('X-Bp-Playbook'), 'r2');
    assert.equal(b.res.headers.get('X-Bp-State'), 'migrated');
    assert.equal(b.edge.decision.playbook.revision, 2);
    // A broken KV never breaks the page: it is served as built.
    await kv.put('playbook:revision', '99');
    const c = await get('/', { cookie: 'bp_consent=full', on: live });
    assert.equal(c.res.status, 200);
    assert.equal(c.edge, null, 'no decision');
    assert.match(c.html, /data-bp-slot="cta"/);
    // Its script is told to load the browser-safe playbook (no 404 on /playbook.json).
    assert.match(c.html, /<meta name="bp-playbook" content="\/playbook-edge.json">/);
    // Not revalidatable: the asset's ETag names other bytes.
    assert.equal(c.res.headers.get('ETag'), null);
    assert.equal(c.res.headers.get('Cache-Control'), 'private, no-store');
  } finally {
    await live.dispose();
  }
});

test('a state that grows past the 4,000 characters a cookie holds is expired, not set (browsers would drop it and replay the old one)', async () => {
  // A playbook whose visitors hold points from 220 engagement rules: the state
  // runs to about 4,000 characters (README: ~50+ rules give a longer state).
  const pb = JSON.parse(FULL);
  pb.revision = 3;
  const extra = 220 - pb.engagement.rules.length;
  for (let i = 0; i < extra; i++) {
    pb.engagement.rules.push({ id: `extra_rule_${i}`, label: `Extra ${i}`, event: 'page_view', points: 1 + (i % 13) * 1.379, daily_cap: 50 + i * 3.1, half_life_days: 5 + (i % 40) });
  }
  const text = JSON.stringify(pb);
  const big = new Engine(text);
  const ids = pb.content.map((c) => c.id);
  const now = Date.now();
  // Signed states of 1 to 40 days of browsing that still fit a cookie.
  const states = [];
  for (let days = 1; days <= 40; days++) {
    const v = big.visitor('grown-visitor');
    try {
      for (let d = 0; d < days; d++) v.observe({ type: 'page_view', ts: now - (40 - d) * 86400e3, content_id: ids[d % ids.length], dwell_seconds: 30 });
      v.decide({ now, slots: ['cta'], context: { consent: 'full' } });
      const s = v.encode(SECRET);
      if (s.length > 4000) break;
      states.push(s);
    } finally {
      v.free();
    }
  }
  big.free();
  assert.ok(states.length > 0 && states.at(-1).length > 3900, `a state just under the limit: ${states.at(-1)?.length}`);

  const live = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, PLAYBOOK_TTL_SECONDS: '0', DEMO_SWITCHER: 'off', INSPECTOR: 'on' }));
  const dir = mkdtempSync(join(tmpdir(), 'bp-edge-r3-'));
  try {
    const kv = await seedKv(live);
    writeFileSync(join(dir, 'playbook.json'), text);
    execFileSync(CLI, ['compile', join(dir, 'playbook.json'), '-o', join(dir, 'engine.bpe')]);
    await kv.put('engine:3', Uint8Array.from(readFileSync(join(dir, 'engine.bpe'))).buffer);
    await kv.put('playbook:revision', '3');
    // Under the limit on the way in, over it once the edge has decided: the
    // largest of those states the edge's decision takes past 4,000
    // characters (how much a decision adds depends on the state).
    let r = null;
    let stored = null;
    for (const s of [...states].reverse()) {
      // With the page view before this one (its mark), as a visitor browsing on.
      const view = `bp_view=${Date.now() - 20_000}:${encodeURIComponent('/pricing')}`;
      const got = await get('/pricing', { cookie: `bp_consent=full; bp=${s}; ${view}`, on: live });
      if (got.cookies.bp && got.cookies.bp.value === '') {
        [r, stored] = [got, s];
        break;
      }
    }
    assert.ok(r !== null, 'a state under the limit that the decision takes over it');
    assert.ok(stored.length <= 4000 && stored.length > 3900, `just under the limit: ${stored.length}`);
    assert.equal(r.res.status, 200);
    assert.equal(r.res.headers.get('X-Bp-Playbook'), 'r3');
    assert.equal(r.res.headers.get('X-Bp-State'), 'ok', 'the state was read');
    assert.ok(r.edge.decision.slots.length > 0, 'the page is still decided');
    assert.ok(r.edge.decision.engagement.top.length > 0, 'from the stored history');
    const set = r.cookies.bp;
    assert.ok(set, 'the state cookie is answered');
    assert.equal(set.value, '', 'not set past 4,000 characters');
    assert.ok(set.attrs.includes('Max-Age=0'), `expired: ${set.attrs}`);
    assert.ok(!('bp_view' in r.cookies), 'no page-view mark for a state not kept');
    // The same visitor without the extra page view is kept: the guard is about length.
    const small = await get('/pricing', { cookie: 'bp_consent=full', on: live });
    assert.ok(small.cookies.bp.value.length > 0 && small.cookies.bp.value.length <= 4000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await live.dispose();
  }
});

test('organisation records from KV are reused per isolate for ORG_TTL_SECONDS, then read again', async () => {
  const mk = (ttl) => new Miniflare(edgeOptions({ STATE_SECRET: SECRET, ORG_TTL_SECONDS: ttl, DEMO_SWITCHER: 'off', INSPECTOR: 'off' }));
  const cached = mk('300');
  const fresh = mk('0');
  try {
    for (const on of [cached, fresh]) {
      const kv = await seedKv(on);
      const a = await get('/', { cookie: 'bp_consent=full', on });
      assert.equal(a.edge.context.company.domain, 'hudsonledger.com');
      // The record changes in KV (the company was re-enriched).
      const record = JSON.parse(await kv.get('org:hudson ledger'));
      record.company.domain = 'hudson-ledger.example';
      await kv.put('org:hudson ledger', JSON.stringify(record));
      const b = await get('/', { cookie: 'bp_consent=full', on });
      const want = on === cached ? 'hudsonledger.com' : 'hudson-ledger.example';
      assert.equal(b.edge.context.company.domain, want, on === cached ? 'within the TTL: the record read before' : 'TTL 0: read again');
      // An organisation without a record, or with a broken one, stays unknown, cached or not.
      await kv.put('org:broken inc', '{"company": ');
      for (const org of ['Nobody Inc', 'Broken Inc', 'Broken Inc']) {
        const u = await get('/', { cookie: 'bp_consent=full', on, cf: { ...HUDSON_CF, asOrganization: org } });
        assert.equal(u.res.status, 200);
        assert.equal(u.edge.context.company.domain, undefined, org);
      }
    }
  } finally {
    await cached.dispose();
    await fresh.dispose();
  }
});

test('measure: the worker\'s added time per page (decide + rewrite), median', async () => {
  const passthrough = new Miniflare(edgeOptions({ STATE_SECRET: SECRET, PERSONALIZE: 'off' }));
  try {
    await seedKv(passthrough);
    const warm = await get('/compare/lumora-vs-pipewatch', { cookie: 'bp_consent=anonymous' });
    let cookie = `bp_consent=anonymous; bp=${warm.cookies.bp.value}; bp_view=${warm.cookies.bp_view.value}`;
    const personalised = [];
    const plain = [];
    const inWorker = [];
    const lookups = [];
    for (let i = 0; i < 5; i += 1) await get('/pricing', { on: passthrough });
    for (let i = 0; i < 80; i += 1) {
      const r = await get('/pricing', { cookie });
      cookie = `bp_consent=anonymous; bp=${r.cookies.bp.value}; bp_view=${r.cookies.bp_view.value}`;
      personalised.push(r.ms);
      const timing = r.res.headers.get('Server-Timing');
      inWorker.push(Number(/bp;dur=([\d.]+)/.exec(timing)[1]));
      lookups.push(Number(/kv;dur=([\d.]+)/.exec(timing)[1]));
      plain.push((await get('/pricing', { on: passthrough })).ms);
    }
    const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const added = median(personalised) - median(plain);
    // The engine's share, timed precisely: the same work in Node on the same
    // Wasm and engine file (workerd's clock only ticks in whole milliseconds).
    const kvEntries = JSON.parse(readFileSync(join(edgeDist, 'kv.json'), 'utf8'));
    const revision = kvEntries.find((e) => e.key === 'playbook:revision').value;
    const edgeEngine = PageEngine.fromBytes(Buffer.from(kvEntries.find((e) => e.key === `engine:${revision}`).value, 'base64'));
    const state = /bp=([^;]+)/.exec(cookie)[1];
    const work = [];
    for (let i = 0; i < 300; i += 1) {
      const t = performance.now();
      const v = edgeEngine.decode(state, { secret: SECRET });
      v.observeJson(JSON.stringify({ type: 'page_view', ts: Date.now() - 20000, url: '/pricing', content_id: 'pricing', dwell_seconds: 20 }));
      const d = JSON.parse(v.decideJson(JSON.stringify({ now: Date.now(), slots: edgeEngine.slots, context: { consent: 'anonymous', page: { url: '/pricing', content_id: 'pricing' }, ...warm.edge.context } })));
      v.encode(SECRET);
      v.encode();
      JSON.stringify({ decision: d });
      v.free();
      work.push(performance.now() - t);
    }
    console.log(
      `# edge, /pricing, warm isolate, returning visitor (80 requests): median wall time ${median(personalised).toFixed(2)} ms personalised vs ${median(plain).toFixed(2)} ms pass-through → ${added.toFixed(2)} ms added, ` +
        `of which KV + firmographics ${median(lookups).toFixed(2)} ms and the engine ${median(inWorker).toFixed(2)} ms (Server-Timing, whole ms); ` +
        `the engine's work alone (decode, observe, decide, 2 encodes, JSON) in Node on the same Wasm: median ${median(work).toFixed(3)} ms`,
    );
    // Cloudflare's free plan allows 10 ms of CPU per request; a generous bound against regressions.
    assert.ok(added < 50, `added ${added.toFixed(2)} ms`);
  } finally {
    await passthrough.dispose();
  }
});

// ------------------------------------------------------------------ another origin

/** The edge in front of an origin of our own (`handler(request)` → Response), with the origin's requests recorded. */
async function originEdge(handler) {
  const seen = [];
  const options = edgeOptions({ STATE_SECRET: SECRET, DEMO_SWITCHER: 'off' });
  delete options.assets;
  options.serviceBindings = {
    ASSETS: async (req) => {
      seen.push({ method: req.method, path: new URL(req.url).pathname, range: req.headers.get('Range') });
      return handler(req);
    },
  };
  const edge = new Miniflare(options);
  await seedKv(edge);
  return { edge, seen };
}

const PAGE = (title, extra = '') =>
  `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><div class="slot" data-bp-slot="hero">built</div>${extra}</body></html>`;

test('another origin: markup HTMLRewriter cannot read gets the page as built, not an empty 200', async () => {
  // Single quotes make the one pass decline; `<select><style>` stops HTMLRewriter's parser.
  const page = PAGE('Odd', "<div data-bp-slot='reading'>r</div><select><style>p{}</style></select><p>THE FOOTER</p>");
  const { edge } = await originEdge(async () => new MfResponse(page, { headers: { 'Content-Type': 'text/html; charset=utf-8' } }));
  try {
    const r = await get('/odd', { cookie: 'bp_consent=full', on: edge });
    assert.equal(r.res.status, 200);
    assert.ok(r.html.includes('THE FOOTER'), `the whole page: ${r.html.length} characters`);
    assert.equal(r.res.headers.get('Cache-Control'), 'private, no-store');
  } finally {
    await edge.dispose();
  }
});

test('another origin: caching and integrity headers of the built bytes go, a page is its own URL\'s, and a Range or a bare 304 gets the whole page', async () => {
  const { edge, seen } = await originEdge(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === '/logo.png') {
      // A 304 need not say its type (RFC 9110).
      if (req.headers.get('If-None-Match')) return new MfResponse(null, { status: 304, headers: { ETag: '"img"' } });
      return new MfResponse('PNG', { headers: { 'Content-Type': 'image/png', ETag: '"img"' } });
    }
    const body = PAGE(path === '/a' ? 'PAGE A' : 'PAGE B');
    const headers = {
      'Content-Type': 'text/html; charset=utf-8',
      ETag: '"build-42"', // one build id for every page, as some origins send
      'Cache-Control': 'public, max-age=600',
      'CDN-Cache-Control': 'public, max-age=3600',
      'Cloudflare-CDN-Cache-Control': 'max-age=3600',
      'Surrogate-Control': 'max-age=3600',
      Expires: 'Wed, 01 Jan 2031 00:00:00 GMT',
      Age: '500',
      'Accept-Ranges': 'bytes',
      'Content-Digest': 'sha-256=:AAAA:',
      Vary: 'Accept-Language',
    };
    if (req.headers.get('Range')) return new MfResponse(body.slice(0, 20), { status: 206, headers: { ...headers, 'Content-Range': `bytes 0-19/${body.length}` } });
    return new MfResponse(body, { headers });
  });
  try {
    for (const [path, title] of [['/a', 'PAGE A'], ['/b', 'PAGE B'], ['/a', 'PAGE A'], ['/b', 'PAGE B']]) {
      const r = await get(path, { cookie: 'bp_consent=full', on: edge });
      assert.ok(r.html.includes(`<h1>${title}</h1>`), `${path}: its own page (${r.res.headers.get('X-Bp-Fill')})`);
      const h = r.res.headers;
      for (const name of ['CDN-Cache-Control', 'Cloudflare-CDN-Cache-Control', 'Surrogate-Control', 'Expires', 'Age', 'Accept-Ranges', 'Content-Digest', 'ETag']) {
        assert.equal(h.get(name), null, `${path}: ${name}`);
      }
      assert.equal(h.get('Cache-Control'), 'private, no-store');
      assert.equal(h.get('Vary'), 'Accept-Language, Cookie');
    }
    const ranged = await get('/a', { cookie: 'bp_consent=full', on: edge, headers: { Range: 'bytes=0-19' } });
    assert.equal(ranged.res.status, 200);
    assert.ok(ranged.edge && ranged.html.includes('</html>'), 'the whole page, decided');
    // An image's bare 304: its type is asked by a HEAD, and it is not downloaded.
    seen.length = 0;
    const img = await edge.dispatchFetch(`${ORIGIN}/logo.png`, { headers: { 'If-None-Match': '"img"' } });
    await img.arrayBuffer();
    assert.equal(img.status, 304);
    assert.deepEqual(seen.map((x) => x.method), ['GET', 'HEAD']);
  } finally {
    await edge.dispose();
  }
});

test('another origin: a 206 that does not say its type is passed through, not fetched again whole', async () => {
  // Bytes, so that no Content-Type is added: nothing says this is a page.
  const body = new TextEncoder().encode(PAGE('Untyped'));
  const { edge, seen } = await originEdge(async (req) =>
    req.headers.get('Range')
      ? new MfResponse(body.slice(0, 20), { status: 206, headers: { 'Content-Range': `bytes 0-19/${body.length}` } })
      : new MfResponse(body),
  );
  try {
    const res = await edge.dispatchFetch(`${ORIGIN}/untyped`, { headers: { Range: 'bytes=0-19', Cookie: 'bp_consent=full' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('Content-Type'), null);
    assert.equal(res.headers.get('Content-Range'), `bytes 0-19/${body.length}`);
    assert.equal((await res.arrayBuffer()).byteLength, 20);
    assert.deepEqual(seen, [{ method: 'GET', path: '/untyped', range: 'bytes=0-19' }], 'one request to the origin');
  } finally {
    await edge.dispose();
  }
});

test('another origin: a page in another charset gets inline data and slots that read the same', async () => {
  const { edge } = await originEdge(async () => new MfResponse(PAGE('Latin'), { headers: { 'Content-Type': 'text/html; charset=iso-8859-1' } }));
  try {
    const r = await get('/latin', { cookie: 'bp_consent=full', on: edge });
    assert.equal(r.res.headers.get('X-Bp-Fill'), 'rewriter');
    const script = /<script type="application\/json" id="bp-edge">(.*?)<\/script>/s.exec(r.html)[1];
    assert.match(script, /^[\x00-\x7f]*$/, 'the inline JSON is ASCII');
    assert.doesNotMatch(script, /&#/, 'no character reference inside the script');
    assert.ok(r.edge.decision.slots.length > 0);
    assert.match(r.html.slice(r.html.indexOf('data-bp-slot="hero"')), /^[^<]*>[\x00-\x7f]*<\/div>/, 'the slot\'s markup is ASCII');
    // What is not ASCII in the decision (the criteria's band labels: `200–5,000
    // employees`) reads back whole.
    const labels = JSON.stringify(r.edge.decision.fit.criteria);
    assert.match(labels, /–/, 'the decision holds non-ASCII text (else this shows nothing)');
    assert.doesNotMatch(labels, /\ufffd|&#/);
  } finally {
    await edge.dispose();
  }
});

test('every bp cookie sent is tried: a parent domain\'s first does not start the visitor afresh', async () => {
  const first = await get('/pricing', { cookie: 'bp_consent=full' });
  const mine = first.cookies.bp.value;
  const foreign = new Engine(FULL).visitor('someone-else').encode('another-deployment-secret');
  const r = await get('/pricing', { cookie: `bp_consent=full; bp=${foreign}; bp=${mine}` });
  assert.equal(r.res.headers.get('X-Bp-State'), 'ok');
  assert.equal(r.edge.decision.visitor_id, first.edge.decision.visitor_id);
  const none = await get('/pricing', { cookie: `bp_consent=full; bp=${foreign}` });
  assert.equal(none.res.headers.get('X-Bp-State'), 'rejected:state_bad_signature');
});

test('junk bp cookies ahead of this site\'s own (another domain\'s, sent first) do not push it out, and cost no decode', async () => {
  const first = await get('/pricing', { cookie: 'bp_consent=full' });
  const mine = first.cookies.bp.value;
  const r = await get('/pricing', { cookie: `bp_consent=full; bp=x; bp=y; bp=z; bp=w; bp=${'A'.repeat(5000)}; bp=${mine}` });
  assert.equal(r.res.headers.get('X-Bp-State'), 'ok');
  assert.equal(r.edge.decision.visitor_id, first.edge.decision.visitor_id);
  // None accepted: the first junk one's refusal is said.
  const junk = await get('/pricing', { cookie: 'bp_consent=full; bp=x; bp=%%%' });
  assert.equal(junk.res.headers.get('X-Bp-State'), 'rejected:state_not_base64');
});

test('X-Bp-State: the state used when a later bp cookie is accepted; else this site\'s own cookie\'s rejection over a parent domain\'s', async () => {
  const first = await get('/pricing', { cookie: 'bp_consent=full' });
  const mine = first.cookies.bp.value;
  const other = new Engine(FULL).visitor('someone-else');
  const foreign = other.encode('another-deployment-secret');
  const unsigned = other.encode();
  other.free();
  // This site's own state, idle past its lifetime (signed with its key).
  const old = engine.visitor('replayed-visitor');
  const then = Date.now() - 181 * 86400000;
  old.decide({ now: then, context: { consent: 'full' } });
  const stale = old.encode(SECRET);
  old.free();
  for (const [label, cookie, state] of [
    ['unsigned, then mine', `bp=${unsigned}; bp=${mine}`, 'ok'],
    ['foreign, stale, then mine', `bp=${foreign}; bp=${stale}; bp=${mine}`, 'ok'],
    ['foreign, then stale', `bp=${foreign}; bp=${stale}`, 'rejected:state_expired'],
    ['stale, then foreign', `bp=${stale}; bp=${foreign}`, 'rejected:state_expired'],
    ['unsigned, then foreign: the first', `bp=${unsigned}; bp=${foreign}`, 'rejected:state_unsigned'],
  ]) {
    const r = await get('/pricing', { cookie: `bp_consent=full; ${cookie}` });
    assert.equal(r.res.headers.get('X-Bp-State'), state, label);
  }
});

test('another site cannot post the consent withdrawal (it would wipe the visitor\'s consent)', async () => {
  for (const [headers, status] of [
    [{ 'Sec-Fetch-Site': 'cross-site' }, 403],
    [{ 'Sec-Fetch-Site': 'same-site', Origin: 'https://blog.lumora.test' }, 403],
    [{ Origin: 'https://evil.example' }, 403],
    [{ Origin: 'null' }, 403],
    [{ 'Sec-Fetch-Site': 'same-origin', Origin: ORIGIN }, 204],
    [{ Origin: ORIGIN }, 204],
    [{}, 204],
  ]) {
    const res = await mf.dispatchFetch(`${ORIGIN}/bp/consent`, { method: 'POST', body: 'none', headers });
    await res.arrayBuffer();
    assert.equal(res.status, status, JSON.stringify(headers));
    assert.equal(res.headers.getSetCookie().length > 0, status === 204);
  }
});

test('the site assets the worker serves are the built site', () => {
  assert.ok(readFileSync(join(siteDist, 'index.html'), 'utf8').includes('data-bp-slot="hero"'));
});

test('another origin\'s pages: one with no <head> tag gets its decision at the top of <body>, and one with a path over 256 bytes is decided too', async () => {
  const options = edgeOptions({ STATE_SECRET: SECRET, DEMO_SWITCHER: 'off' });
  delete options.assets;
  const page = '<!doctype html><html><title>t</title><body><div data-bp-slot="hero">built</div></body></html>';
  options.serviceBindings = { ASSETS: async () => new MfResponse(page, { headers: { 'Content-Type': 'text/html; charset=utf-8' } }) };
  const origin = new Miniflare(options);
  try {
    await seedKv(origin);
    const bare = await get('/no-head', { cookie: 'bp_consent=full', on: origin });
    assert.ok(bare.edge, 'the decision is in the page');
    assert.match(bare.html, /<body><script type="application\/json" id="bp-edge">/);
    const long = `/blog/${encodeURIComponent('ü'.repeat(45))}`; // 276 bytes as a request's path
    const r = await get(long, { cookie: 'bp_consent=full', on: origin });
    assert.ok(r.edge, 'decided');
    assert.ok(r.cookies.bp_view.value.length > 300, 'its page view kept for the next page, encoded again');
    const next = await get('/no-head', { cookie: `bp_consent=full; bp=${r.cookies.bp.value}; bp_view=${r.cookies.bp_view.value}`, on: origin });
    assert.equal(next.res.headers.get('X-Bp-State'), 'ok');
    assert.equal(next.edge.decision.seq, 2);
  } finally {
    await origin.dispose();
  }
});

test('a prefetch or prerender of a page is declined (503): no state moved on, no cookie, no signal; the navigation is decided', async () => {
  const { fast, edge } = await switcherEdge();
  try {
    const first = await get('/', { cookie: 'bp_consent=full', on: edge });
    assert.ok(first.edge.forwarded > 0 && (await until(() => fast.received.length === 1)), 'the first page\'s signals were forwarded');
    const events = encodeURIComponent(JSON.stringify([{ type: 'cta_click', ts: Date.now() - 1000, cta: 'pricing', content_id: 'pricing' }]));
    const cookie = `bp_consent=full; bp=${first.cookies.bp.value}; bp_view=${first.cookies.bp_view.value}; bp_ev=${events}`;
    for (const headers of [
      { 'Sec-Purpose': 'prefetch' },
      { 'Sec-Purpose': 'prefetch;prerender' },
      { 'Sec-Purpose': 'prefetch;anonymous-client-ip' },
      { Purpose: 'prefetch' },
      { 'X-Purpose': 'prefetch' },
      { 'X-Moz': 'prefetch' },
    ]) {
      const label = JSON.stringify(headers);
      const r = await edge.dispatchFetch(`${ORIGIN}/pricing`, { headers: { Cookie: cookie, ...headers } });
      // Declined as browsers drop a prefetch (and Cloudflare declines one):
      // a prefetch served undecided and used for the navigation would leave
      // the page to its script, on another visitor than the edge's.
      assert.equal(r.status, 503, label);
      assert.equal(await r.text(), '', label);
      assert.deepEqual(r.headers.getSetCookie(), [], `${label}: no cookie set or expired`);
      assert.equal(r.headers.get('X-Bp-State'), null, label);
      assert.equal(r.headers.get('Cache-Control'), 'no-store', label);
      assert.equal(r.headers.get('Vary'), 'Sec-Purpose', label);
    }
    // Another resource than a page is served as ever.
    const css = await edge.dispatchFetch(`${ORIGIN}/styles.css`, { headers: { 'Sec-Purpose': 'prefetch' } });
    assert.equal(css.status, 200);
    await css.text();
    await wait(500);
    assert.equal(fast.received.length, 1, 'no signal forwarded for a prefetch');
    // The navigation itself: decided on the state the prefetches left alone,
    // with the click the page handed over still to count.
    const real = await get('/pricing', { cookie, on: edge });
    assert.equal(real.res.headers.get('X-Bp-State'), 'ok');
    assert.ok(real.edge.decision.engagement.top.some((t) => t.rule === 'cta_pricing'), 'the click counted once the page is seen');
    assert.ok(real.cookies.bp && real.cookies.bp_ev.value === '');
    assert.ok(await until(() => fast.received.length === 2), 'its signals forwarded');
  } finally {
    await edge.dispose();
    await fast.close();
  }
});

test('another origin: a page with neither <head> nor <body> tag gets its decision where the implied head ends; a prefetch of it is declined', async () => {
  const bare = '<!doctype html><html><meta charset="utf-8"><title>t</title><div data-bp-slot="hero">built</div><p>THE END</p></html>';
  const { edge } = await originEdge(async (req) => {
    const path = new URL(req.url).pathname;
    const headers = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': path === '/no-store' ? 'no-store' : 'public, max-age=600' };
    return new MfResponse(path === '/bare' ? bare : PAGE('P'), { headers });
  });
  try {
    const r = await get('/bare', { cookie: 'bp_consent=full', on: edge });
    assert.ok(r.edge, 'the decision is in the page');
    assert.match(r.html, /<title>t<\/title><script type="application\/json" id="bp-edge">.*<\/script><div data-bp-slot="hero" data-bp-rendered=/s);
    assert.equal((r.html.match(/data-bp-by="edge"/g) || []).length, 1, 'its slot filled');
    assert.ok(r.html.endsWith('<p>THE END</p></html>'));
    // A prefetch of an origin's page is declined too.
    const p = await edge.dispatchFetch(`${ORIGIN}/bare`, { headers: { Cookie: 'bp_consent=full', 'Sec-Purpose': 'prefetch;prerender' } });
    assert.equal(p.status, 503);
    assert.equal(p.headers.get('Cache-Control'), 'no-store');
  } finally {
    await edge.dispose();
  }
});

test('wrangler.toml: WRITE_KEY and STATE_SECRET are secrets only (a var of the same name conflicts); local runs get them as bindings', () => {
  const toml = readFileSync(join(edgeDist, '..', 'wrangler.toml'), 'utf8');
  const vars = toml.split(/^\[vars\]$/m)[1].split(/^\[/m)[0];
  for (const name of ['WRITE_KEY', 'STATE_SECRET']) {
    assert.doesNotMatch(vars, new RegExp(`^\\s*${name}\\s*=`, 'm'), `${name} is not a [vars] entry`);
    assert.match(toml, new RegExp(`wrangler secret put ${name}`), `${name}: set with wrangler secret put`);
  }
  const { bindings } = edgeOptions();
  assert.equal(bindings.WRITE_KEY, 'demo-write-key');
  assert.ok(bindings.STATE_SECRET);
});
