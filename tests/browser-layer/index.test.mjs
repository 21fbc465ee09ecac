import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as layer from '../../pkg-template/layer/index.js';
import { start, defaultRender, safeHref, newId } from '../../pkg-template/layer/index.js';
import { fakeClock, fakeFetch, fakeLocalStorage, fakeNavigator, fakePage, settle } from './fakes.mjs';

// A stand-in for the Wasm engine with the same surface. Its state string is
// `v1.` + base64url JSON of the id, the events seen, the number of
// decisions made (the engine's signal messageIds derive from that number)
// and the job title. Like the engine, a decision below `full` forgets the
// form fields (BANT answers) and the title; one at `full` keeps the title.
class FakeVisitor {
  constructor(id, events, decided = 0, title = undefined) {
    this.id = id;
    this.events = events;
    this.decided = decided;
    this.title = title;
    this.requests = [];
  }
  observe(ev) {
    if (ev.cta === 'x'.repeat(65)) throw Object.assign(new Error('value too long'), { code: 'too_long', path: '$.cta' });
    this.events.push(ev);
  }
  decide(req) {
    this.requests.push(structuredClone(req));
    const consent = req.context.consent;
    if (FakeEngine.failing) throw Object.assign(new Error('decision refused'), { code: 'too_long', path: '$.context' });
    if (consent === 'full') {
      if (req.context.person && req.context.person.title) this.title = req.context.person.title;
    } else {
      this.events = this.events.map(({ fields, ...e }) => e);
      this.title = undefined;
    }
    const n = (this.decided += 1);
    const slots = (req.slots || ['hero']).map((slot) => ({
      slot,
      default: false,
      picks:
        slot === 'empty'
          ? []
          : [
              { id: 'compare-x', title: 'Lumora vs <img src=x onerror=alert(1)>', url: '/compare/x', format: 'comparison', cta: 'read', score: 1, reasons: [] },
              { id: 'evil', title: 'Evil', url: 'javascript:alert(1)', format: 'blog', cta: '', score: 0.5, reasons: [] },
            ],
    }));
    // Like the engine: no signals at consent none; a decision after a click
    // or a form reports a hand-raise (the layer sends a page's Content
    // Recommended once, for the picks it shows).
    const last = this.events[this.events.length - 1];
    const event = last && (last.type === 'cta_click' || last.type === 'form_submit') ? 'SQL Reached' : 'Content Recommended';
    // No slots (`[]`): nothing recommended, as the engine.
    const signals =
      consent === 'none' || (event === 'Content Recommended' && slots.length === 0)
        ? []
        : [{ type: 'track', event, anonymousId: this.id, messageId: `${this.id}-${n}`, properties: { n }, context: { consent } }];
    return { slots, action: { id: 'nurture', label: 'Nurture' }, signals, seq: n };
  }
  encode(secret) {
    const body = `v1.${Buffer.from(JSON.stringify({ id: this.id, events: this.events, decided: this.decided, title: this.title })).toString('base64url')}`;
    return secret ? `${body}.${secret}` : body; // a stand-in for the HMAC
  }
}

class FakeEngine {
  constructor(playbook) {
    const p = typeof playbook === 'string' ? JSON.parse(playbook) : playbook;
    if (!p || !p.id) throw Object.assign(new Error('bad playbook'), { code: 'missing_field', path: '$.id', hint: 'add an id' });
    this.decodes = [];
    if (Array.isArray(p.slots)) this.slots = p.slots; // the real engine always has them
    // The real engine always has it too: each catalogue item's [url, id].
    if (Array.isArray(p.content)) this.contentUrls = () => p.content.map((c) => [c.url, c.id]);
    FakeEngine.last = this;
  }
  visitor(id) {
    return new FakeVisitor(id, []);
  }
  decode(state, opts) {
    this.decodes.push({ state, opts });
    if (!state.startsWith('v1.')) throw Object.assign(new Error('foreign state'), { code: 'bad_state' });
    const [body, sig] = state.slice(3).split('.');
    if (opts && opts.secret && sig !== opts.secret) throw Object.assign(new Error('bad signature'), { code: 'bad_signature' });
    const { id, events, decided, title } = JSON.parse(Buffer.from(body, 'base64url').toString());
    return new FakeVisitor(id, events, decided, title);
  }
}

const stateOf = (id, events = []) => `v1.${Buffer.from(JSON.stringify({ id, events })).toString('base64url')}`;
const decodeState = (s) => JSON.parse(Buffer.from(s.slice(3).split('.')[0], 'base64url').toString());

function setup({ consent = 'anonymous', stored, href, referrer, frames, prerendering, content = 'pricing', slotsHtml = true, localStorage = fakeLocalStorage(), ...opts } = {}) {
  const clock = fakeClock();
  const { document, window } = fakePage({ href, content, referrer, frames, prerendering });
  if (slotsHtml) {
    document.body.append(
      document.el('ul', { 'data-bp-slot': 'hero' }, document.el('li', {}, document.el('a', { href: '/fallback' }))),
      document.el('div', { 'data-bp-slot': 'sidebar' }),
      document.el('div', { 'data-bp-slot': 'empty' }, document.el('p', {})),
    );
  }
  if (stored) localStorage.map.set('bp_state', stored);
  const fetch = fakeFetch();
  const navigator = fakeNavigator();
  const errors = [];
  const decisions = [];
  const bp = start({
    Engine: FakeEngine,
    playbook: '{"id":"acme"}',
    endpoint: 'https://collect.example.com',
    writeKey: 'wk',
    consent,
    context: { company: { industry: 'insurance' } },
    document,
    window,
    localStorage,
    fetch,
    navigator,
    crypto: { randomUUID: () => '11111111-2222-4333-8444-555555555555' },
    now: clock.now,
    random: () => 1,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    onError: (e) => errors.push(e),
    onDecision: (d) => decisions.push(d),
    BroadcastChannel: null, // each test's tabs are its own (fakeBroadcast)
    ...opts,
  });
  return { bp, clock, document, window, localStorage, fetch, navigator, errors, decisions };
}

const slotEl = (document, id) => document.querySelectorAll('[data-bp-slot]').find((e) => e.getAttribute('data-bp-slot') === id);
const sent = ({ fetch, navigator }) => [...fetch.requests.flatMap((r) => r.body.batch), ...navigator.beacons.flatMap((b) => b.body.batch)];

test('re-exports the building blocks', () => {
  for (const name of ['start', 'createStore', 'createSender', 'autoTrack', 'defaultRender']) assert.equal(typeof layer[name], 'function', name);
});

test('decides once at start with consent, page (path only) and the host context', () => {
  const { bp, clock } = setup({ href: 'https://www.example.com/pricing?email=a%40b.c#x' });
  const [req] = bp.visitor.requests;
  assert.equal(bp.visitor.requests.length, 1);
  assert.deepEqual(req, {
    now: clock.now(),
    slots: ['hero', 'sidebar', 'empty'], // the slots found on the page
    context: { company: { industry: 'insurance' }, consent: 'anonymous', page: { content_id: 'pricing', url: '/pricing' } },
  });
  assert.equal(bp.decision.seq, 1);
});

test('another site\'s referrer is each decision\'s page.referrer, as its host only; a link within the site is none', () => {
  const referrerOf = (referrer) => setup({ referrer }).bp.visitor.requests[0].context.page.referrer;
  assert.equal(referrerOf('https://www.g2.com/products/lumora/reviews?email=a%40b.c#x'), 'www.g2.com');
  assert.equal(referrerOf('https://www.example.com/blog/post'), undefined, 'the site\'s own page');
  assert.equal(referrerOf(''), undefined);
  assert.equal(referrerOf('not a url'), undefined);
  // Events do not carry it (the engine's events have no referrer).
  const { bp } = setup({ referrer: 'https://www.g2.com/' });
  bp.track({ type: 'custom', name: 'x' });
  assert.equal(bp.visitor.requests.at(-1).context.page.referrer, 'www.g2.com');
  assert.ok(bp.visitor.events.length > 0 && bp.visitor.events.every((e) => !('referrer' in e)), JSON.stringify(bp.visitor.events));
});

test('a page the host passes in context is used, still without its query string', () => {
  const { bp } = setup({ context: { page: { content_id: 'pricing-eu', url: '/eu/pricing?email=a%40b.c#x' } } });
  assert.deepEqual(bp.visitor.requests[0].context.page, { content_id: 'pricing-eu', url: '/eu/pricing' });
});

test('the page URL\'s UTM parameters are the campaign of each decision on the page, as the edge reads them', () => {
  const q4 = { source: 'linkedin', medium: 'paid', name: 'q4-launch' };
  const { bp, document } = setup({ href: 'https://www.example.com/pricing?utm_source=linkedin&utm_medium=paid&utm_campaign=q4-launch' });
  assert.deepEqual(bp.visitor.requests[0].context, { company: { industry: 'insurance' }, consent: 'anonymous', page: { content_id: 'pricing', url: '/pricing' }, campaign: q4 });
  document.dispatch('click', { target: slotEl(document, 'hero').querySelector('a[data-bp-cta]') });
  bp.track({ type: 'custom', name: 'roi_calculated' });
  assert.equal(bp.visitor.requests.length, 3);
  for (const req of bp.visitor.requests) assert.deepEqual(req.context.campaign, q4, 'every decision on the page');
  // Decoded; each parameter kept when 1 to 64 characters long (as the edge's campaignOf), the others left out.
  const campaignAt = (query) => setup({ href: `https://www.example.com/pricing?${query}` }).bp.visitor.requests[0].context.campaign;
  assert.deepEqual(campaignAt('utm_source=news%20letter&utm_medium=e+mail&utm_campaign=%C3%A9t%C3%A9'), { source: 'news letter', medium: 'e mail', name: 'été' });
  assert.deepEqual(campaignAt(`utm_source=&utm_medium=${'m'.repeat(65)}&utm_campaign=${'n'.repeat(64)}`), { name: 'n'.repeat(64) });
  assert.deepEqual(campaignAt('utm_medium=cpc&utm_term=crm&utm_source=g2&utm_source=capterra'), { source: 'g2', medium: 'cpc' });
  assert.equal(campaignAt('utm_source=&utm_campaign='), undefined);
});

test('a campaign the host passes in context wins whole over the URL\'s ({} for none)', () => {
  const href = 'https://www.example.com/pricing?utm_source=linkedin&utm_medium=paid&utm_campaign=q4-launch';
  assert.deepEqual(setup({ href }).bp.visitor.requests[0].context.campaign, { source: 'linkedin', medium: 'paid', name: 'q4-launch' }, 'the URL\'s without one');
  const a = setup({ href, context: { campaign: { name: 'spring-webinar' } } });
  assert.deepEqual(a.bp.visitor.requests[0].context.campaign, { name: 'spring-webinar' }, 'not merged with the URL\'s source and medium');
  const b = setup({ href, context: { campaign: {} } });
  assert.deepEqual(b.bp.visitor.requests[0].context.campaign, {});
  const c = setup({ context: { campaign: { source: 'crm', medium: 'email' } } });
  assert.deepEqual(c.bp.visitor.requests[0].context.campaign, { source: 'crm', medium: 'email' }, 'and is passed without UTM parameters too');
});

test('a page without UTM parameters passes no campaign', () => {
  for (const href of ['https://www.example.com/pricing', 'https://www.example.com/pricing?email=a%40b.c&utm=x&UTM_SOURCE=y#utm_source=z']) {
    const { bp, document } = setup({ href });
    document.dispatch('click', { target: slotEl(document, 'hero').querySelector('a[data-bp-cta]') });
    assert.equal(bp.visitor.requests.length, 2);
    for (const req of bp.visitor.requests) assert.ok(!('campaign' in req.context), `${href}: ${JSON.stringify(req.context)}`);
  }
  // Whereas one parameter is enough for a campaign.
  assert.deepEqual(setup({ href: 'https://www.example.com/pricing?utm_campaign=x' }).bp.visitor.requests[0].context.campaign, { name: 'x' });
});

test('explicit slots win over the page, and a fresh visitor gets a random UUID', () => {
  const { bp } = setup({ slots: ['hero'] });
  assert.deepEqual(bp.visitor.requests[0].slots, ['hero']);
  assert.equal(bp.visitor.id, '11111111-2222-4333-8444-555555555555');
});

test('consent none: renders, but stores nothing and sends nothing, even on clicks and pagehide', async () => {
  const env = setup({ consent: 'none' });
  const { bp, document, window, localStorage, clock } = env;
  assert.equal(slotEl(document, 'hero').children.length, 2, 'picks rendered in memory');
  document.dispatch('click', { target: slotEl(document, 'hero').children[0].children[0] });
  await clock.advance(40_000);
  window.dispatch('pagehide');
  await settle();
  assert.equal(bp.visitor.requests.length, 2, 're-decided on the CTA');
  assert.equal(sent(env).length, 0);
  assert.equal(env.fetch.requests.length + env.navigator.beacons.length, 0);
  assert.equal(localStorage.map.size, 0);
  assert.equal(document.cookieWrites.length, 0);
});

test('restores the stored visitor (with the secret) and stores the state after each event', async () => {
  const stored = `${stateOf('visitor-7', [{ type: 'page_view', ts: 1 }])}.s3cret`;
  const { bp, localStorage, document, clock } = setup({ stored, secret: 's3cret' });
  assert.equal(bp.visitor.id, 'visitor-7');
  assert.deepEqual(FakeEngine.last.decodes, [{ state: stored, opts: { secret: 's3cret' } }]);
  document.hide();
  assert.match(localStorage.map.get('bp_state'), /\.s3cret$/, 'signed again with the secret');
  const saved = decodeState(localStorage.map.get('bp_state'));
  assert.equal(saved.id, 'visitor-7');
  assert.deepEqual(saved.events.at(-1), { type: 'page_view', ts: clock.now(), content_id: 'pricing', url: '/pricing', dwell_seconds: 0 });
});

test('a state signed with another secret starts a fresh visitor', () => {
  const { bp, errors } = setup({ stored: `${stateOf('visitor-8')}.old`, secret: 'new' });
  assert.notEqual(bp.visitor.id, 'visitor-8');
  assert.equal(errors[0].code, 'bad_signature');
});

test('a secret that is not a non-empty string is refused at start, as a broken playbook is', () => {
  for (const secret of ['', 42, null]) {
    assert.throws(() => setup({ secret }), (e) => e.name === 'BuyerpathError' && e.code === 'invalid_argument' && e.path === '$.secret', String(secret));
  }
});

test('an engine already made (buyerpath/page) is used as given; without any engine start says how to pass one', () => {
  const engine = new FakeEngine('{"id":"made"}');
  const stored = stateOf('visitor-9');
  const { bp } = setup({ Engine: undefined, playbook: undefined, engine, stored });
  assert.equal(bp.visitor.id, 'visitor-9');
  assert.deepEqual(engine.decodes.map((d) => d.state), [stored], 'that engine decoded the stored state');
  assert.throws(() => setup({ Engine: undefined }), (e) => e.code === 'invalid_argument' && e.path === '$.Engine' && /\{ engine \}/.test(e.hint));
});

/** BroadcastChannel between fake tabs: delivered later, to the other channels of the name. */
function fakeBroadcast() {
  const open = new Set();
  return class {
    constructor(name) {
      this.name = name;
      this.onmessage = null;
      open.add(this);
    }
    postMessage(data) {
      for (const other of open) {
        if (other !== this && other.name === this.name) queueMicrotask(() => other.onmessage && other.onmessage({ data: structuredClone(data) }));
      }
    }
    close() {
      open.delete(this);
    }
  };
}

test('a withdrawal in one tab applies at once in the other open tabs; a higher level stays in its tab', async () => {
  const bus = fakeBroadcast();
  const heard = [];
  const a = setup({ consent: 'full', BroadcastChannel: bus, onConsent: (l) => heard.push(l) });
  const b = setup({ consent: 'full', BroadcastChannel: bus });
  a.document.hide();
  assert.ok(a.localStorage.map.has('bp_state'), 'tab A stores at full');
  b.bp.setConsent('anonymous');
  await settle();
  assert.equal(a.bp.consent, 'anonymous', 'lowered in tab A too');
  b.bp.setConsent('none');
  await settle();
  assert.equal(a.bp.consent, 'none');
  assert.deepEqual(heard, ['anonymous', 'none'], 'the host of tab A heard of each');
  assert.equal(a.localStorage.map.size, 0, 'tab A erased its state and queue');
  // Tab A goes on (a click, the page hidden): nothing stored, nothing sent.
  const before = a.fetch.requests.length + a.navigator.beacons.length;
  a.document.dispatch('click', { target: slotEl(a.document, 'hero').children[0].children[0] });
  await a.clock.advance(40_000);
  a.window.dispatch('pagehide');
  await settle();
  assert.equal(a.fetch.requests.length + a.navigator.beacons.length, before, 'nothing sent after the withdrawal');
  assert.equal(a.localStorage.map.size, 0);
  // Consent given again in tab B stays in tab B; a repeated level says nothing.
  b.bp.setConsent('full');
  b.bp.setConsent('full');
  await settle();
  assert.equal(a.bp.consent, 'none');
  assert.deepEqual(heard, ['anonymous', 'none']);
  // Stopped, a tab no longer listens.
  a.bp.setConsent('full');
  a.bp.stop();
  b.bp.setConsent('none');
  await settle();
  assert.equal(a.bp.consent, 'full');
});

test('Global Privacy Control caps full consent at anonymous and sends nothing', async () => {
  for (const opts of [{ gpc: true }, { navigator: { ...fakeNavigator(), globalPrivacyControl: true } }]) {
    const env = setup({ consent: 'full', ...opts });
    const { bp, document, window, clock, localStorage } = env;
    assert.equal(bp.consent, 'anonymous');
    assert.equal(bp.visitor.requests[0].context.consent, 'anonymous', 'decided at anonymous: no person fields');
    bp.setConsent('full');
    assert.equal(bp.consent, 'anonymous');
    document.dispatch('click', { target: slotEl(document, 'hero').children[0].children[0] });
    await clock.advance(40_000);
    window.dispatch('pagehide');
    await settle();
    assert.equal(env.fetch.requests.length + (opts.navigator || env.navigator).beacons.length, 0, 'nothing sent');
    assert.ok(localStorage.map.has('bp_state'), 'anonymous still keeps the state on the device');
  }
  const off = setup({ consent: 'full', gpc: false, navigator: { ...fakeNavigator(), globalPrivacyControl: true } });
  assert.equal(off.bp.consent, 'full', 'the host may decide itself (gpc: false)');
  // The browser's own navigator says so, the host passed a wrapper without the flag.
  const real = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { globalPrivacyControl: true }, configurable: true });
  try {
    assert.equal(setup({ consent: 'full' }).bp.consent, 'anonymous');
  } finally {
    if (real) Object.defineProperty(globalThis, 'navigator', real);
    else delete globalThis.navigator; // Node 20 has none
  }
  // A queue an earlier page left is erased at none, although nothing is sent under GPC.
  const left = setup({ consent: 'full', gpc: true, stored: stateOf('visitor-10') });
  left.localStorage.map.set('bp_queue', '[{"type":"track"}]');
  left.localStorage.map.set('bp_queue_dropped', '{"dropped":1}');
  left.bp.setConsent('none');
  assert.equal(left.localStorage.map.size, 0);
});

test('a state that does not decode starts a fresh visitor and never throws', () => {
  const { bp, errors } = setup({ stored: 'garbage!!' });
  assert.equal(bp.visitor.id, '11111111-2222-4333-8444-555555555555');
  assert.equal(errors[0].code, 'bad_state');
  assert.ok(bp.decision);
});

test('a broken playbook throws the engine error (code, path, hint) to the developer', () => {
  assert.throws(
    () => start({ Engine: FakeEngine, playbook: '{}', document: fakePage().document, window: fakePage().window, localStorage: null }),
    (e) => e.code === 'missing_field' && e.path === '$.id' && e.hint === 'add an id',
  );
});

test('renders picks as links with textContent and safe hrefs only', () => {
  const { document } = setup();
  const hero = slotEl(document, 'hero');
  assert.equal(hero.children.length, 2, 'fallback replaced');
  const [li1, li2] = hero.children;
  assert.equal(li1.tagName, 'LI');
  const a = li1.children[0];
  assert.equal(a.getAttribute('href'), '/compare/x');
  assert.equal(a.getAttribute('data-bp-cta'), 'read');
  assert.equal(a.getAttribute('data-bp-content'), 'compare-x');
  assert.equal(a.textContent, 'Lumora vs <img src=x onerror=alert(1)>');
  assert.equal(a.children.length, 0, 'no markup parsed');
  assert.equal(li2.children[0].getAttribute('href'), null, 'javascript: URL dropped');
  // A non-list slot gets a <ul> of items.
  const side = slotEl(document, 'sidebar');
  assert.equal(side.children[0].tagName, 'UL');
  assert.equal(side.children[0].children.length, 2);
  // A slot without picks keeps its server-rendered content.
  assert.equal(slotEl(document, 'empty').children[0].tagName, 'P');
});

test('safeHref allows relative and http(s) URLs only', () => {
  for (const ok of ['/a', 'a/b', '?q', '#h', 'https://x.example/p', 'http://x', '/p:colon', '//cdn.example/x']) assert.notEqual(safeHref(ok), null, ok);
  for (const bad of ['javascript:alert(1)', ' JavaScript:x', 'data:text/html,x', 'vbscript:x', null]) assert.equal(safeHref(bad), null, String(bad));
});

test('signals are enqueued with consent and flushed by beacon on pagehide', async () => {
  const env = setup();
  const { window, navigator, fetch } = env;
  assert.equal(fetch.requests.length + navigator.beacons.length, 0, 'batched, not sent at once');
  window.dispatch('pagehide');
  await settle();
  assert.equal(navigator.beacons.length, 1);
  const [signal] = navigator.beacons[0].body.batch;
  assert.equal(signal.event, 'Content Recommended');
  assert.equal(signal.context.consent, 'anonymous');
  assert.equal(navigator.beacons[0].body.writeKey, 'wk');
});

test('a CTA click or a form submit is observed, re-decided and its signals queued', async () => {
  const env = setup({ consent: 'full' }); // (below full, the decision forgets the form's fields)
  const { bp, document, window } = env;
  const form = document.el('form', { 'data-bp-form': 'demo_request' }, document.el('input', { name: 'email', type: 'email', value: 'j@x.com' }));
  document.body.append(form);
  document.dispatch('click', { target: slotEl(document, 'hero').children[0].children[0] });
  document.dispatch('submit', { target: form });
  assert.equal(bp.visitor.requests.length, 3);
  assert.deepEqual(
    bp.visitor.events.map((e) => e.type),
    ['cta_click', 'form_submit'],
  );
  assert.equal(bp.visitor.events[0].content_id, 'compare-x');
  assert.deepEqual(bp.visitor.events[1].fields, {});
  assert.equal(bp.decision.seq, 3);
  window.dispatch('pagehide');
  assert.deepEqual(sent(env).map((s) => s.properties.n), [1, 2, 3]);
});

test('the held page view does not re-decide; an event the engine rejects is reported, not thrown', async () => {
  const { bp, clock, errors, document } = setup();
  await clock.advance(30_000);
  assert.equal(bp.visitor.events.length, 1);
  assert.equal(bp.visitor.requests.length, 1);
  assert.equal(errors.length, 0);
  const bad = document.el('button', { 'data-bp-cta': 'x'.repeat(65) });
  document.body.append(bad);
  assert.doesNotThrow(() => document.dispatch('click', { target: bad }));
  assert.equal(errors[0].code, 'too_long');
  assert.equal(bp.visitor.requests.length, 1, 'no decision on a rejected event');
});

test('setConsent(none) clears the stored state and the queue, and stops sending', async () => {
  const env = setup({ stored: stateOf('v-9') });
  const { bp, localStorage, document, window } = env;
  document.dispatch('click', { target: slotEl(document, 'hero').children[0].children[0] });
  assert.ok(localStorage.map.has('bp_state'));
  assert.ok(localStorage.map.has('bp_queue'));
  bp.setConsent('none');
  assert.equal(localStorage.map.has('bp_state'), false);
  assert.equal(localStorage.map.has('bp_queue'), false);
  document.dispatch('click', { target: slotEl(document, 'hero').children[0].children[0] });
  window.dispatch('pagehide');
  await settle();
  assert.equal(sent(env).length, 0);
  assert.equal(localStorage.map.size, 0);
});

test('consent given after start continues the stored visitor with this page’s events', () => {
  const stored = stateOf('returning', [{ type: 'page_view', ts: 5 }]);
  const { bp, localStorage, document } = setup({ consent: 'none', stored });
  assert.notEqual(bp.visitor.id, 'returning', 'nothing read at consent none');
  document.dispatch('click', { target: slotEl(document, 'hero').children[0].children[0] });
  bp.setConsent('anonymous');
  assert.equal(bp.visitor.id, 'returning');
  const saved = decodeState(localStorage.map.get('bp_state'));
  assert.deepEqual(
    saved.events.map((e) => e.type),
    ['page_view', 'cta_click'],
  );
});

test('stop() removes the listeners and the timers', async () => {
  const { bp, document, window, clock } = setup();
  bp.stop();
  assert.equal(document.listenerCount() + window.listenerCount(), 0);
  assert.equal(clock.pending(), 0);
});

test('a throwing custom render is reported, and the others still render', () => {
  const { document, errors } = setup({
    render(el, slot, opts) {
      if (slot.slot === 'hero') throw new Error('render bug');
      defaultRender(el, slot, opts);
    },
  });
  assert.equal(errors[0].message, 'render bug');
  assert.equal(slotEl(document, 'sidebar').children[0].tagName, 'UL');
});

test('newId makes a v4 UUID even without randomUUID (insecure context)', () => {
  const id = newId({ getRandomValues: (b) => b.fill(0xff) });
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(newId(undefined), /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
});

// ------------------------------------------------------- several tabs, one visitor

const firstLink = (document) => slotEl(document, 'hero').children[0].children[0];

test('two tabs share the stored visitor: each continues where the other left it, and no two signals share a messageId', async () => {
  const shared = fakeLocalStorage();
  const a = setup({ localStorage: shared, stored: stateOf('visitor-1') });
  const b = setup({ localStorage: shared }); // opened later: continues A's visitor
  assert.equal(b.bp.visitor.id, 'visitor-1');
  assert.deepEqual([a.bp.decision.seq, b.bp.decision.seq], [1, 2]);
  // A clicks after B decided: A continues from B's state, not from its own copy.
  a.document.dispatch('click', { target: firstLink(a.document) });
  assert.equal(a.bp.decision.seq, 3);
  b.document.hide(); // B's page view lands on top of A's click
  a.document.hide();
  const saved = decodeState(shared.map.get('bp_state'));
  assert.equal(saved.id, 'visitor-1');
  assert.equal(saved.decided, 3, 'every decision of both tabs counted once');
  assert.deepEqual(
    saved.events.map((e) => e.type),
    ['cta_click', 'page_view', 'page_view'],
    'both tabs’ events kept',
  );
  await settle();
  const made = [...a.decisions, ...b.decisions].flatMap((d) => d.signals);
  assert.deepEqual(made.map((x) => x.properties.n).sort(), [1, 2, 3]);
  assert.equal(new Set(made.map((x) => x.messageId)).size, 3, 'no two signals share a messageId');
  // What went out (B also resends what A had stored: the collector dedupes
  // by messageId) never pairs one messageId with two different signals.
  const byId = new Map();
  for (const x of [...sent(a), ...sent(b)]) {
    if (byId.has(x.messageId)) assert.deepEqual(x.properties, byId.get(x.messageId).properties, x.messageId);
    else byId.set(x.messageId, x);
  }
  assert.deepEqual([...byId.keys()].sort(), ['visitor-1-1', 'visitor-1-2', 'visitor-1-3']);
});

test('a consent change in one tab does not write its older state over the other tab\'s', async () => {
  const shared = fakeLocalStorage();
  const a = setup({ localStorage: shared, stored: stateOf('visitor-1'), consent: 'full' });
  const b = setup({ localStorage: shared, consent: 'full' });
  b.document.dispatch('click', { target: firstLink(b.document) }); // B moves on: decision 3
  assert.equal(b.bp.decision.seq, 3);
  a.bp.setConsent('anonymous'); // A lowers its level (B would hear it by broadcast)
  // A decides again at the lower level (see the BANT test), on from B's state.
  assert.equal(decodeState(shared.map.get('bp_state')).decided, 4, 'B\'s decisions kept');
  assert.equal(a.bp.decision.seq, 4, 'A numbers on from B');
  a.document.dispatch('click', { target: firstLink(a.document) });
  assert.equal(a.bp.decision.seq, 5);
});

test('a secret with an unpaired surrogate is refused at start (the engine would refuse every state)', () => {
  assert.throws(() => setup({ secret: 'key-\ud800' }), (e) => e.code === 'invalid_argument' && e.path === '$.secret');
  assert.throws(() => setup({ secret: '\udc00' }), (e) => e.code === 'invalid_argument');
  assert.doesNotThrow(() => setup({ secret: 'key-\ud83d\ude00' }));
});

test('a failed state write (quota) keeps the tab on its own visitor; a stored state that does not decode is reported once', async () => {
  const shared = fakeLocalStorage();
  let full = false;
  const setItem = shared.setItem;
  shared.setItem = (k, v) => {
    if (full && k === 'bp_state') throw new DOMException('full', 'QuotaExceededError');
    return setItem(k, v);
  };
  const { bp, document, clock, errors } = setup({ localStorage: shared, stored: stateOf('visitor-2') });
  full = true;
  for (let i = 0; i < 2; i += 1) {
    document.dispatch('click', { target: firstLink(document) });
    await clock.advance(1);
  }
  // The write failed: the state went to the cookie, and the stale copy in
  // localStorage was erased once the cookie read back (every page would
  // load it again); this tab's visitor keeps both clicks.
  assert.equal(shared.map.get('bp_state'), undefined);
  assert.match(document.cookie, /bp_state=/);
  assert.deepEqual(
    bp.visitor.events.map((e) => e.type),
    ['cta_click', 'cta_click'],
  );
  shared.map.set('bp_state', 'garbage!!'); // another tab (another release?) wrote this
  for (let i = 0; i < 3; i += 1) {
    document.dispatch('click', { target: firstLink(document) });
    await clock.advance(1);
  }
  assert.deepEqual(
    errors.map((e) => e.code),
    ['bad_state'],
    'reported once, not at every event',
  );
  assert.equal(bp.visitor.id, 'visitor-2');
  assert.equal(bp.visitor.events.length, 5);
});

test('consent none writes nothing to localStorage, not even a probe; a consent given later does', () => {
  const localStorage = fakeLocalStorage();
  const touched = [];
  for (const m of ['setItem', 'removeItem']) {
    const f = localStorage[m];
    localStorage[m] = (k, v) => (touched.push(`${m} ${k}`), f(k, v));
  }
  const { bp, document, window } = setup({ consent: 'none', localStorage });
  document.dispatch('click', { target: firstLink(document) });
  window.dispatch('pagehide');
  assert.deepEqual(touched, []);
  bp.setConsent('anonymous');
  assert.ok(touched.includes('setItem bp_state'));
});

// ------------------------------------------------------- what is kept below full

const utf8Length = (t) => new TextEncoder().encode(t).length;

// The bp_state strings written to `localStorage` from now on, decoded.
function stateWrites(localStorage) {
  const writes = [];
  const setItem = localStorage.setItem;
  localStorage.setItem = (k, v) => {
    if (k === 'bp_state') writes.push(decodeState(v));
    return setItem(k, v);
  };
  return writes;
}
const anyFields = (state) => state.events.some((e) => 'fields' in e);
function bantForm(document) {
  const form = document.el('form', { 'data-bp-form': 'demo_request' }, document.el('select', { name: 'budget', 'data-bp-bant': '', value: '$250k+' }));
  document.body.append(form);
  return form;
}

test('lowered from full to anonymous: decided again at anonymous before storing, so no BANT answer nor title stays stored', () => {
  const { bp, document, localStorage } = setup({ consent: 'full', context: { company: { industry: 'insurance' }, person: { title: 'CFO' } } });
  document.dispatch('submit', { target: bantForm(document) });
  const full = decodeState(localStorage.map.get('bp_state'));
  assert.deepEqual(full.events[0].fields, { budget: '$250k+' }, 'kept at full');
  assert.equal(full.title, 'CFO');
  const writes = stateWrites(localStorage);
  bp.setConsent('anonymous');
  assert.equal(bp.decision.seq, 3, 'decided again');
  assert.equal(bp.visitor.requests.at(-1).context.consent, 'anonymous');
  assert.ok(writes.length > 0);
  for (const w of writes) {
    assert.equal(anyFields(w), false, 'no BANT answer stored at anonymous');
    assert.equal(w.title, undefined, 'no title stored at anonymous');
  }
});

test('a form submitted at none is decided at the consent given later before anything is stored', () => {
  const stored = stateOf('returning', [{ type: 'page_view', ts: 5 }]);
  const { bp, document, localStorage } = setup({ consent: 'none', stored });
  document.dispatch('submit', { target: bantForm(document) });
  const writes = stateWrites(localStorage);
  bp.setConsent('anonymous');
  assert.equal(bp.visitor.id, 'returning', 'the stored visitor continues');
  assert.deepEqual(
    writes.at(-1).events.map((e) => e.type),
    ['page_view', 'form_submit'],
    'with this page’s form',
  );
  assert.equal(bp.visitor.requests.at(-1).context.consent, 'anonymous');
  assert.ok(writes.every((w) => !anyFields(w)), 'its answers never stored');
});

test('below full, a form is stored only after its decision; while decisions fail, the stored copy stays the last decided one', async () => {
  const { bp, document, localStorage, clock } = setup({ consent: 'anonymous' });
  const form = bantForm(document);
  const writes = stateWrites(localStorage);
  document.dispatch('submit', { target: form });
  assert.equal(writes.length, 1, 'one write, after the decision');
  assert.equal(anyFields(writes[0]), false);
  const before = localStorage.map.get('bp_state');
  FakeEngine.failing = true;
  try {
    document.dispatch('submit', { target: form });
    await clock.advance(30_000); // the held page view: not stored either
    assert.equal(bp.visitor.events.filter((e) => e.type === 'form_submit').length, 2);
    assert.equal(localStorage.map.get('bp_state'), before, 'the un-decided state is not stored');
  } finally {
    FakeEngine.failing = false;
  }
  document.dispatch('click', { target: firstLink(document) });
  const last = decodeState(localStorage.map.get('bp_state'));
  assert.deepEqual(
    last.events.map((e) => e.type),
    ['form_submit', 'form_submit', 'page_view', 'cta_click'],
    'stored again after the next decision',
  );
  assert.equal(anyFields(last), false);
});

test('a withdrawal starts a fresh visitor: a consent given again in the tab brings nothing back from before it', async () => {
  const env = setup({ consent: 'full', stored: stateOf('before', [{ type: 'page_view', ts: 5 }]) });
  const { bp, document, localStorage } = env;
  document.dispatch('click', { target: firstLink(document) });
  bp.setConsent('none');
  assert.notEqual(bp.visitor.id, 'before');
  assert.deepEqual(bp.visitor.events, []);
  bp.setConsent('full');
  const again = decodeState(localStorage.map.get('bp_state'));
  assert.notEqual(again.id, 'before');
  assert.deepEqual(again.events, []);
  await env.clock.advance(1); // another click (the same link, in a later turn)
  document.dispatch('click', { target: firstLink(document) });
  env.window.dispatch('pagehide');
  await settle();
  assert.ok(sent(env).length > 0);
  assert.deepEqual([...new Set(sent(env).map((x) => x.anonymousId))], [again.id], 'only the new visitor’s signals go out');
  // Nor are the events seen before it added to a state another tab stores meanwhile.
  bp.setConsent('none');
  localStorage.map.set('bp_state', stateOf('other-tab'));
  bp.setConsent('anonymous');
  assert.equal(bp.visitor.id, 'other-tab');
  assert.deepEqual(decodeState(localStorage.map.get('bp_state')).events, []);
});

test('a page slot the playbook does not define is left out and reported once; the others are decided', () => {
  const { bp, document, errors } = setup({ playbook: '{"id":"acme","slots":["hero","sidebar"]}' });
  assert.deepEqual(bp.visitor.requests[0].slots, ['hero', 'sidebar']);
  assert.equal(slotEl(document, 'hero').children.length, 2, 'rendered');
  assert.equal(slotEl(document, 'empty').children[0].tagName, 'P', 'the unknown slot keeps its fallback');
  document.dispatch('click', { target: firstLink(document) });
  assert.deepEqual(bp.visitor.requests[1].slots, ['hero', 'sidebar']);
  assert.deepEqual(
    errors.map((e) => [e.code, e.path]),
    [['unknown_slot', '$.slots']],
  );
  assert.match(errors[0].message, /"empty"/);
});

test('a page URL over the engine’s limit is cut (on a character boundary) rather than the decision refused', () => {
  const slug = encodeURIComponent('выбор-платформы-'.repeat(20)); // 960 bytes, percent-encoded
  const { bp, errors } = setup({ href: `https://www.example.com/blog/${slug}?q=1` });
  const url = bp.visitor.requests[0].context.page.url;
  assert.ok(utf8Length(url) <= 256, `${utf8Length(url)} bytes`);
  assert.ok(`/blog/${slug}`.startsWith(url));
  const host = setup({ context: { page: { url: `/${'é'.repeat(200)}?email=a%40b.c` } } });
  assert.equal(host.bp.visitor.requests[0].context.page.url, `/${'é'.repeat(127)}`, '255 bytes: é is 2');
  assert.deepEqual([...errors, ...host.errors], []);
});

test('track() observes an event the page knows of, decides again and stores; refused input is reported; nothing after stop()', () => {
  const { bp, clock, errors, localStorage } = setup();
  const before = bp.visitor.requests.length;
  const d = bp.track({ type: 'custom', name: 'roi_calculated', content_id: 'roi-calculator' });
  assert.ok(d, 'decided');
  assert.equal(bp.visitor.requests.length, before + 1);
  assert.deepEqual(bp.visitor.events.at(-1), { ts: clock.now(), type: 'custom', name: 'roi_calculated', content_id: 'roi-calculator' });
  assert.deepEqual(decodeState(localStorage.map.get('bp_state')).events.at(-1).name, 'roi_calculated', 'stored');
  assert.equal(bp.track([]), null);
  assert.equal(bp.track({ type: 'custom', cta: 'x'.repeat(65) }), null);
  assert.deepEqual(errors.map((e) => e.code), ['invalid_argument', 'too_long']);
  bp.stop();
  assert.equal(bp.track({ type: 'custom', name: 'late' }), null);
  assert.equal(bp.visitor.events.at(-1).name, 'roi_calculated');
});

test('firstReported: the picks of a decision an edge made and reported are not reported again from the page', async () => {
  for (const firstReported of [true, false]) {
    const t = setup({ firstReported });
    t.bp.track({ type: 'custom', name: 'roi_calculated' });
    t.window.dispatch('pagehide');
    await t.clock.advance(10);
    await settle();
    const recommended = sent(t).filter((e) => e.event === 'Content Recommended');
    assert.equal(recommended.length === 0, firstReported, `firstReported ${firstReported}: ${recommended.length} sent`);
    assert.deepEqual(t.decisions.length, 2);
    t.bp.stop();
  }
});

test('track(): `ts` is now when missing or null, never later than now; an event that cannot be read is reported, not thrown', () => {
  const { bp, clock, errors } = setup();
  for (const ts of [undefined, null, clock.now() + 365 * 86_400_000]) {
    assert.ok(bp.track({ type: 'custom', name: 'n', ts }), `decided with ts ${ts}`);
    assert.equal(bp.visitor.events.at(-1).ts, clock.now(), `ts ${ts}`);
  }
  const earlier = clock.now() - 60_000;
  bp.track({ type: 'custom', name: 'n', ts: earlier });
  assert.equal(bp.visitor.events.at(-1).ts, earlier, 'an earlier time is kept');
  const getter = { type: 'custom', get name() { throw new Error('boom'); } };
  const proxy = new Proxy({}, { ownKeys() { throw new Error('boom'); } });
  for (const event of [getter, proxy]) assert.equal(bp.track(event), null);
  assert.deepEqual(errors.map((e) => e.code), ['invalid_argument', 'invalid_argument']);
  assert.match(errors[0].message, /could not be read \(boom\)/);
});


// ------------------------------------------------------- single-page apps

// What a router does on a route change: the URL first (unless `url` is
// null), then the new route's markup: its content id, and its slots in place
// of the old route's.
function route({ document, window }, url, { content = 'post', slots = ['reading'] } = {}) {
  if (url !== null) window.history.pushState({ key: url }, '', url);
  document.head.querySelector('meta').setAttribute('content', content);
  for (const el of document.querySelectorAll('[data-bp-slot]')) el.parentElement.removeChild(el);
  document.body.append(...slots.map((id) => document.el('div', { 'data-bp-slot': id }, document.el('p', {}))));
}
const pageViews = (bp) => bp.visitor.events.filter((e) => e.type === 'page_view');
const recommended = (env) => sent(env).filter((x) => x.event === 'Content Recommended');

test('page(): a route change sends the previous route\'s held page view with its dwell, once, and holds one for the new route', async () => {
  const env = setup({ href: 'https://www.example.com/pricing' });
  const { bp, clock, document } = env;
  const t0 = clock.now();
  await clock.advance(12_400);
  route(env, '/blog/post');
  assert.deepEqual(pageViews(bp), [], 'held until the router says the route rendered');
  assert.ok(bp.page(), 'decided');
  assert.deepEqual(pageViews(bp), [{ type: 'page_view', ts: t0, content_id: 'pricing', url: '/pricing', dwell_seconds: 12 }]);
  const t1 = clock.now();
  await clock.advance(5_000);
  document.hide();
  document.show();
  document.hide();
  assert.deepEqual(pageViews(bp).slice(1), [{ type: 'page_view', ts: t1, content_id: 'post', url: '/blog/post', dwell_seconds: 5 }], 'the new route\'s, once');
  // A route whose view has gone out already (hidden, or 30 s) sends none again at the next route.
  document.show();
  route(env, '/contact', { content: 'contact' });
  const t2 = clock.now();
  bp.page();
  assert.equal(pageViews(bp).length, 2);
  await clock.advance(31_000);
  assert.deepEqual(pageViews(bp).slice(2), [{ type: 'page_view', ts: t2, content_id: 'contact', url: '/contact', dwell_seconds: 30 }]);
  assert.deepEqual(env.errors, []);
});

test('page(): the new route\'s slots are decided, rendered and reported afresh, as the page it is, with no referrer', async () => {
  const env = setup({ href: 'https://www.example.com/pricing', referrer: 'https://www.g2.com/products/x' });
  const { bp, document, window, decisions } = env;
  assert.equal(bp.visitor.requests[0].context.page.referrer, 'www.g2.com');
  route(env, '/blog/post?email=a%40b.c#top', { slots: ['reading', 'hero'] });
  const d = bp.page();
  assert.equal(d, bp.decision);
  const req = bp.visitor.requests.at(-1);
  assert.deepEqual(req.slots, ['reading', 'hero'], 'the slots on the page now');
  assert.deepEqual(req.context.page, { content_id: 'post', url: '/blog/post' }, 'path only; the site itself referred it');
  for (const id of ['reading', 'hero']) assert.equal(slotEl(document, id).children[0].tagName, 'UL', `${id} rendered`);
  assert.equal(decisions.length, 2);
  // The same picks as the first route's are reported again: it is another page view.
  window.dispatch('pagehide');
  await settle();
  assert.deepEqual(recommended(env).map((x) => x.properties.n), [1, 2]);
  // The route's CTA clicks are seen as on a page.
  document.dispatch('click', { target: slotEl(document, 'hero').querySelector('a[data-bp-cta]') });
  assert.equal(bp.visitor.requests.length, 3);
  assert.equal(env.decisions.length, 3);
});

test('page(): the same page (a query or a hash alone) counts nothing; nor does page() after stop()', () => {
  const env = setup({ href: 'https://www.example.com/pricing' });
  const { bp, window } = env;
  window.history.pushState(null, '', '/pricing#faq');
  window.history.replaceState(null, '', '/pricing?tab=2&utm_source=x');
  assert.equal(bp.page(), null);
  assert.equal(bp.visitor.requests.length, 1);
  assert.deepEqual(pageViews(bp), []);
  // Another content id at the same path is another page.
  route(env, null, { content: 'pricing-eu' });
  assert.ok(bp.page());
  assert.equal(pageViews(bp).length, 1);
  bp.stop();
  route(env, '/blog/post');
  assert.equal(bp.page(), null);
  assert.equal(bp.visitor.requests.length, 2);
});

test('page(): the new URL\'s campaign is read (none without UTM parameters); a campaign the host passed still wins whole', () => {
  const env = setup({ href: 'https://www.example.com/pricing?utm_source=linkedin' });
  assert.deepEqual(env.bp.visitor.requests[0].context.campaign, { source: 'linkedin' });
  route(env, '/blog/post?utm_source=newsletter&utm_campaign=may');
  env.bp.page();
  assert.deepEqual(env.bp.visitor.requests.at(-1).context.campaign, { source: 'newsletter', name: 'may' });
  route(env, '/contact', { content: 'contact' });
  env.bp.page();
  assert.ok(!('campaign' in env.bp.visitor.requests.at(-1).context), 'a link within the site carries none');
  const host = setup({ href: 'https://www.example.com/pricing?utm_source=linkedin', context: { campaign: { name: 'abm' } } });
  route(host, '/blog/post?utm_source=newsletter');
  host.bp.page();
  assert.deepEqual(host.bp.visitor.requests.map((r) => r.context.campaign), [{ name: 'abm' }, { name: 'abm' }]);
});

test('page(): a slot the playbook does not define is left out on each route, and reported once', () => {
  const env = setup({ playbook: '{"id":"acme","slots":["hero","reading"]}' });
  route(env, '/blog/post', { slots: ['reading', 'empty', 'promo'] });
  env.bp.page();
  assert.deepEqual(env.bp.visitor.requests.at(-1).slots, ['reading']);
  route(env, '/blog/other', { slots: ['empty', 'promo'] });
  env.bp.page();
  assert.deepEqual(env.bp.visitor.requests.at(-1).slots, [], 'no slot left: none decided, none reported');
  // A route without slots at all (a legal page) is decided without slots,
  // not for every slot of the playbook.
  route(env, '/legal', { slots: [] });
  env.bp.page();
  assert.deepEqual(env.bp.visitor.requests.at(-1).slots, []);
  assert.deepEqual(env.errors.map((e) => e.message.match(/slots (.*) are/)[1]), ['"sidebar", "empty"', '"promo"'], 'the first page\'s, then the new one');
});

test('firstReported: a page back from the back/forward cache is reported from the page (the edge saw no request)', async () => {
  const env = setup({ firstReported: true });
  env.window.dispatch('pagehide', { persisted: true });
  await settle();
  assert.equal(recommended(env).length, 0, 'the edge reported the load');
  env.window.dispatch('pageshow', { persisted: true });
  env.window.dispatch('pagehide', { persisted: true });
  await settle();
  assert.ok(recommended(env).length > 0, 'the restored view\'s picks are reported');
  env.bp.stop();
});

test('page(): behind an edge that reported the first page (firstReported), a later route is reported from the page', async () => {
  const env = setup({ firstReported: true });
  route(env, '/blog/post');
  env.bp.page();
  env.window.dispatch('pagehide');
  await settle();
  assert.deepEqual(recommended(env).map((x) => x.properties.n), [2], 'the route\'s, not the edge\'s page');
});

test('spa: pushState and popstate are route changes, read once the route has rendered; several in one frame count once', async () => {
  const env = setup({ href: 'https://www.example.com/pricing', spa: true });
  const { bp, clock, window } = env;
  window.history.pushState(null, '', '/blog/post'); // the router renders after the URL changes
  assert.equal(bp.visitor.requests.length, 1, 'not at once: the route has not rendered yet');
  route(env, null);
  await clock.advance(0);
  assert.equal(bp.visitor.requests.length, 2);
  assert.deepEqual(bp.visitor.requests[1].context.page, { content_id: 'post', url: '/blog/post' });
  assert.equal(slotEl(env.document, 'reading').children[0].tagName, 'UL');
  assert.deepEqual(pageViews(bp).map((e) => e.url), ['/pricing']);
  // Back: popstate.
  window.popTo('/pricing');
  route(env, null, { content: 'pricing', slots: ['hero'] });
  await clock.advance(0);
  assert.deepEqual(bp.visitor.requests.map((r) => r.context.page.url), ['/pricing', '/blog/post', '/pricing']);
  // A push and a replace in one turn: one route change, one wait.
  const waits = clock.delays.length;
  window.history.pushState(null, '', '/contact');
  window.history.replaceState({ scroll: 0 }, '', '/contact?step=1');
  assert.equal(clock.delays.length, waits + 1);
  route(env, null, { content: 'contact' });
  await clock.advance(0);
  assert.deepEqual(bp.visitor.requests.map((r) => r.context.page.url).slice(3), ['/contact']);
  assert.deepEqual(pageViews(bp).map((e) => e.url), ['/pricing', '/blog/post', '/pricing']);
  assert.deepEqual(window.history.state, { scroll: 0 }, 'the host\'s calls did what they do');
  assert.deepEqual(env.errors, []);
});

test('spa: a hash or query change, a utm_* cleaner\'s replaceState included, is no page view and keeps the campaign', async () => {
  const env = setup({ href: 'https://www.example.com/pricing?utm_source=linkedin&utm_campaign=q4', spa: true });
  const { bp, clock, window } = env;
  window.history.replaceState(null, '', '/pricing'); // a script cleaning the URL
  window.history.pushState(null, '', '/pricing#faq');
  window.popTo('/pricing');
  await clock.advance(100);
  const waits = clock.delays.length;
  window.history.replaceState({ scrollY: 400 }, ''); // no URL: the URL unchanged
  assert.equal(clock.delays.length, waits, 'not even a wait');
  assert.equal(bp.visitor.requests.length, 1);
  assert.deepEqual(pageViews(bp), []);
  bp.track({ type: 'custom', name: 'roi_calculated' });
  assert.deepEqual(bp.visitor.requests.at(-1).context.campaign, { source: 'linkedin', name: 'q4' }, 'the page view\'s campaign');
});

test('spa: after an animation frame when the browser gives them, then a task', async () => {
  const env = setup({ href: 'https://www.example.com/pricing', spa: true, frames: true });
  const { bp, clock, window } = env;
  window.history.pushState(null, '', '/blog/post');
  window.history.replaceState(null, '', '/blog/post?tab=1');
  await clock.advance(10);
  assert.equal(bp.visitor.requests.length, 1, 'waits for the frame');
  route(env, null);
  const waits = clock.delays.length;
  window.frame();
  assert.equal(clock.delays.length, waits + 1, 'one wait for both calls');
  assert.equal(bp.visitor.requests.length, 1, 'then a task');
  await clock.advance(0);
  assert.deepEqual(bp.visitor.requests.at(-1).slots, ['reading']);
  // A hidden tab gets no frames: a task only.
  env.document.hide();
  window.history.pushState(null, '', '/contact');
  await clock.advance(0);
  assert.equal(bp.visitor.requests.length, 3);
  // Stopped while waiting for a frame: the frame does nothing.
  env.document.show();
  window.history.pushState(null, '', '/pricing');
  bp.stop();
  window.frame();
  assert.equal(clock.pending(), 0);
  await clock.advance(100);
  assert.equal(bp.visitor.requests.length, 3);
});

test('spa: the host\'s own history errors reach it unchanged; stop() restores pushState and replaceState and ends the listening', async () => {
  const env = setup({ href: 'https://www.example.com/pricing', spa: true });
  const { bp, clock, window, document } = env;
  const { history } = window;
  assert.equal(Object.hasOwn(history, 'pushState'), true, 'wrapped');
  const plain = setup();
  assert.equal(Object.hasOwn(plain.window.history, 'pushState'), false, 'not without the option');
  assert.equal(window.listenerCount(), plain.window.listenerCount() + 1, 'popstate');
  assert.throws(() => history.pushState(null, '', 'https://evil.example/x'), (e) => e.name === 'SecurityError');
  // Another script wraps pushState after the layer.
  const calls = [];
  const layers = history.replaceState;
  history.replaceState = function (...args) {
    calls.push(args[2]);
    return layers.apply(this, args);
  };
  bp.stop();
  assert.equal(Object.hasOwn(history, 'pushState'), false, 'the prototype\'s again');
  assert.equal(history.pushState, Object.getPrototypeOf(history).pushState);
  assert.equal(document.listenerCount() + window.listenerCount(), 0);
  history.pushState(null, '', '/blog/post');
  history.replaceState(null, '', '/contact');
  window.popTo('/pricing');
  await clock.advance(100);
  assert.deepEqual(calls, ['/contact'], 'the later wrapper still works');
  assert.equal(window.location.pathname, '/pricing');
  assert.equal(bp.visitor.requests.length, 1, 'nothing after stop()');
  assert.equal(clock.pending(), 0);
  // Stopped while a route change waits: nothing happens then.
  const late = setup({ href: 'https://www.example.com/pricing', spa: true });
  late.window.history.pushState(null, '', '/blog/post');
  late.bp.stop();
  assert.equal(late.clock.pending(), 0, 'its wait cancelled');
  await late.clock.advance(100);
  assert.equal(late.bp.visitor.requests.length, 1);
});

test('spa at consent none: each route is decided and rendered, and nothing is stored or sent', async () => {
  const env = setup({ consent: 'none', href: 'https://www.example.com/pricing', spa: true });
  const { bp, clock, window, document, localStorage } = env;
  for (const url of ['/blog/post', '/contact', '/pricing']) {
    window.history.pushState(null, '', url);
    route(env, null);
    await clock.advance(2_000);
  }
  assert.equal(bp.visitor.requests.length, 4);
  assert.equal(slotEl(document, 'reading').children[0].tagName, 'UL', 'rendered');
  assert.deepEqual(pageViews(bp).map((e) => e.url), ['/pricing', '/blog/post', '/contact'], 'in memory');
  document.hide();
  window.dispatch('pagehide');
  await clock.advance(40_000);
  assert.equal(env.fetch.requests.length + env.navigator.beacons.length, 0);
  assert.equal(localStorage.map.size, 0);
  assert.equal(document.cookieWrites.length, 0);
});

// A playbook whose catalogue has pages: the fake engine's contentUrls().
const catalogued = JSON.stringify({ id: 'acme', content: [{ id: 'pricing', url: '/pricing' }, { id: 'post', url: '/blog/post' }] });
const viewed = (bp) => pageViews(bp).map((e) => [e.content_id, e.url]);

test('a page that names no content id is the catalogue item at its path: its page view, its decisions and each route', async () => {
  const env = setup({ href: 'https://www.example.com/pricing?utm_source=x#faq', content: null, playbook: catalogued });
  const { bp, document, window } = env;
  assert.deepEqual(bp.visitor.requests[0].context.page, { content_id: 'pricing', url: '/pricing' });
  window.history.pushState(null, '', '/blog/post');
  bp.page();
  assert.deepEqual(bp.visitor.requests.at(-1).context.page, { content_id: 'post', url: '/blog/post' });
  // The same item's page again (a hash): no new page.
  window.history.pushState(null, '', '/blog/post#comments');
  assert.equal(bp.page(), null);
  // Matched exactly, as the edge worker does: `/blog/post/` is no item's url.
  window.history.pushState(null, '', '/blog/post/');
  bp.page();
  assert.deepEqual(bp.visitor.requests.at(-1).context.page, { url: '/blog/post/' });
  document.hide();
  assert.deepEqual(viewed(bp), [['pricing', '/pricing'], ['post', '/blog/post'], [undefined, '/blog/post/']]);
  // A content id the page names wins over its path.
  const named = setup({ href: 'https://www.example.com/pricing', content: 'post', playbook: catalogued });
  named.document.hide();
  assert.deepEqual(viewed(named.bp), [['post', '/pricing']]);
  assert.deepEqual([...env.errors, ...named.errors], []);
});

test('spa: a route that names no content id is the catalogue item at its path', async () => {
  const env = setup({ href: 'https://www.example.com/blog/post', content: null, playbook: catalogued, spa: true });
  const { bp, clock, window } = env;
  window.history.pushState(null, '', '/pricing');
  await clock.advance(0);
  assert.deepEqual(bp.visitor.requests.map((r) => r.context.page.content_id), ['post', 'pricing']);
  window.history.replaceState(null, '', '/pricing?tab=2'); // the same page
  await clock.advance(0);
  assert.equal(bp.visitor.requests.length, 2);
  assert.deepEqual(viewed(bp), [['post', '/blog/post']]);
  assert.deepEqual(env.errors, []);
});

test('a content id the page names that is not in the catalogue is reported once (unknown_content), and still passed', async () => {
  const env = setup({ href: 'https://www.example.com/pricing', content: 'pricng', playbook: catalogued });
  const { bp, document, errors } = env;
  assert.deepEqual(bp.visitor.requests[0].context.page, { content_id: 'pricng', url: '/pricing' });
  assert.deepEqual(errors.map((e) => [e.name, e.code, e.path]), [['BuyerpathError', 'unknown_content', '$.context.page.content_id']]);
  assert.match(errors[0].message, /"pricng"/);
  assert.match(errors[0].hint, /buyerpath:content/);
  // Once per id: not again on a route naming it; another one is reported.
  document.head.querySelector('meta').setAttribute('content', 'pricng');
  env.window.history.pushState(null, '', '/pricing/eu');
  bp.page();
  document.head.querySelector('meta').setAttribute('content', 'blog-pots');
  env.window.history.pushState(null, '', '/blog/pots');
  bp.page();
  assert.deepEqual(errors.map((e) => e.code), ['unknown_content', 'unknown_content']);
  assert.match(errors[1].message, /"blog-pots"/);
  assert.deepEqual(viewed(bp), [['pricng', '/pricing'], ['pricng', '/pricing/eu']]);
});

test('catalogue paths: items sharing a URL (the first is the path\'s, the other is no typo), a URL as the browser encodes it, URLs that name no path', async () => {
  const playbook = JSON.stringify({ id: 'acme', content: [
    { id: 'pricing', url: '/pricing' }, { id: 'roi', url: '/pricing' },
    { id: 'cafe', url: '/café guide' }, { id: 'offsite', url: 'https://other.example/x' }, { id: 'nourl', url: '' },
  ] });
  for (const [href, content, want] of [
    ['https://www.example.com/pricing', null, 'pricing'],
    ['https://www.example.com/caf%C3%A9%20guide', null, 'cafe'],
    ['https://www.example.com/x', null, undefined],
    ['https://www.example.com/pricing', 'roi', 'roi'],
  ]) {
    const env = setup({ href, content, playbook });
    assert.equal(env.bp.visitor.requests[0].context.page.content_id, want, href);
    assert.deepEqual(env.errors, [], `${href}: no unknown_content for an item sharing a URL`);
    env.bp.stop();
  }
});

test('an engine without contentUrls(), or whose contentUrls() throws, leaves the page as it names itself', () => {
  const engine = new FakeEngine({ id: 'acme' });
  engine.contentUrls = () => {
    throw new Error('not here');
  };
  for (const opts of [{ playbook: '{"id":"acme"}' }, { engine, Engine: undefined, playbook: undefined }]) {
    const env = setup({ href: 'https://www.example.com/pricing', content: null, ...opts });
    assert.deepEqual(env.bp.visitor.requests[0].context.page, { url: '/pricing' });
    const named = setup({ href: 'https://www.example.com/pricing', content: 'pricng', ...opts });
    assert.equal(named.bp.visitor.requests[0].context.page.content_id, 'pricng');
    assert.deepEqual([...env.errors, ...named.errors], []);
  }
});

test('anonymousId: a new visitor takes the host\'s id (a string, or a function called once); a stored one keeps its own', async () => {
  const env = setup({ anonymousId: 'ajs-0f8e-41c2' });
  assert.equal(env.bp.visitor.id, 'ajs-0f8e-41c2');
  env.window.dispatch('pagehide');
  await settle();
  assert.ok(sent(env).length > 0);
  assert.ok(sent(env).every((x) => x.anonymousId === 'ajs-0f8e-41c2'), 'the signals carry it');
  let calls = 0;
  const fn = setup({ anonymousId: () => ((calls += 1), 'ajs-from-fn') });
  assert.equal(fn.bp.visitor.id, 'ajs-from-fn');
  assert.equal(calls, 1);
  const stored = setup({ stored: stateOf('before'), anonymousId: () => ((calls += 1), 'ajs-other') });
  assert.equal(stored.bp.visitor.id, 'before');
  assert.equal(calls, 1, 'not even asked');
  assert.deepEqual([...env.errors, ...fn.errors, ...stored.errors], []);
});

test('anonymousId: a value that is not a non-empty string is reported, and the visitor gets a random id', () => {
  const values = ['', 42, null, () => undefined, () => '', () => {
    throw new Error('analytics is not ready');
  }];
  for (const anonymousId of values) {
    const { bp, errors } = setup({ anonymousId });
    assert.equal(bp.visitor.id, '11111111-2222-4333-8444-555555555555', String(anonymousId));
    assert.deepEqual(errors.map((e) => [e.code, e.path]), [['invalid_argument', '$.anonymousId']], String(anonymousId));
    assert.equal(typeof errors[0].hint, 'string');
  }
});

test('anonymousId: not asked for at consent none (a consent tool may hold the host\'s analytics back); asked for when consent comes with nothing stored, this page\'s events kept', () => {
  let calls = 0;
  const env = setup({ consent: 'none', anonymousId: () => ((calls += 1), 'ajs-late') });
  const { bp, errors } = env;
  assert.equal(calls, 0);
  assert.equal(bp.visitor.id, '11111111-2222-4333-8444-555555555555');
  bp.track({ type: 'custom', name: 'roi_calculated' });
  bp.setConsent('anonymous');
  assert.equal(calls, 1);
  assert.equal(bp.visitor.id, 'ajs-late');
  assert.ok(bp.visitor.events.some((e) => e.name === 'roi_calculated'), 'this page\'s events go with it');
  // With a state stored, that visitor continues and the host is not asked.
  let asked = 0;
  const stored = setup({ consent: 'none', stored: stateOf('before'), anonymousId: () => ((asked += 1), 'ajs-other') });
  stored.bp.setConsent('anonymous');
  assert.equal(stored.bp.visitor.id, 'before');
  assert.equal(asked, 0);
  assert.deepEqual([...errors, ...stored.errors], []);
});

test('anonymousId: a withdrawal starts a visitor with a random id, not the host\'s (nothing links it to the old one)', () => {
  const { bp, errors } = setup({ consent: 'full', anonymousId: 'ajs-0f8e-41c2', crypto: { randomUUID: () => 'aaaaaaaa-2222-4333-8444-555555555555' } });
  assert.equal(bp.visitor.id, 'ajs-0f8e-41c2');
  bp.setConsent('none');
  assert.equal(bp.visitor.id, 'aaaaaaaa-2222-4333-8444-555555555555');
  bp.setConsent('anonymous');
  assert.equal(bp.visitor.id, 'aaaaaaaa-2222-4333-8444-555555555555');
  assert.deepEqual(errors, []);
});

test('a prerendered page decides and renders, but reports and stores nothing until shown; then it decides again and reports that', async () => {
  const stored = stateOf('v-pre');
  const { bp, clock, document, localStorage, fetch, navigator, decisions } = setup({ prerendering: true, stored });
  assert.equal(decisions.length, 1, 'decided while prerendering');
  assert.ok(slotEl(document, 'hero').querySelector('a[data-bp-content="compare-x"]'), 'and rendered');
  await clock.advance(60_000);
  assert.deepEqual(sent({ fetch, navigator }), [], 'no impressions for a page not seen');
  assert.equal(localStorage.map.get('bp_state'), stored, 'nor a state moved on');
  assert.equal(bp.visitor.requests.length, 0, 'a copy of the visitor decided');
  const shown = clock.now();
  document.activate();
  await clock.advance(5_000);
  assert.deepEqual(sent({ fetch, navigator }).map((e) => [e.event, e.messageId]), [['Content Recommended', 'v-pre-1']], 'the decision when shown, numbered as the first');
  assert.equal(decodeState(localStorage.map.get('bp_state')).decided, 1);
  document.hide();
  const views = bp.visitor.events.filter((e) => e.type === 'page_view');
  assert.deepEqual(views.map((e) => [e.ts, e.dwell_seconds]), [[shown, 5]], 'the page view from activation');
  bp.stop();
});

test('a prerender never shown does not touch what earlier pages left to send: their queue and drop count stay stored, unsent', async () => {
  const localStorage = fakeLocalStorage();
  const queued = JSON.stringify([{ type: 'track', event: 'Visitor Classified', messageId: 'old-1', anonymousId: 'v-old', properties: {}, context: { consent: 'anonymous' } }]);
  const drops = JSON.stringify({ dropped: 2, essential_dropped: 0, anonymousId: 'v-old', owner: 'an-earlier-page' });
  localStorage.map.set('bp_queue', queued);
  localStorage.map.set('bp_queue_dropped', drops);
  const { bp, clock, document, fetch, navigator } = setup({ prerendering: true, localStorage });
  await clock.advance(60_000);
  assert.deepEqual(sent({ fetch, navigator }), [], 'nothing sent');
  assert.equal(localStorage.map.get('bp_queue'), queued, 'the queue as stored');
  assert.equal(localStorage.map.get('bp_queue_dropped'), drops, 'the drop count as stored');
  // Shown: its sender takes them over and sends them, with its own decision.
  document.activate();
  await clock.advance(10_000);
  const events = sent({ fetch, navigator }).map((e) => e.event);
  assert.ok(events.includes('Visitor Classified') && events.includes('Signals Dropped') && events.includes('Content Recommended'), `${events}`);
  bp.stop();
});

test('what the host tracks during a prerender is kept when shown, onto the state another tab stored meanwhile', async () => {
  const localStorage = fakeLocalStorage();
  const { bp, clock, document } = setup({ prerendering: true, stored: stateOf('v-pre'), localStorage });
  bp.track({ type: 'custom', name: 'roi_calculated' });
  localStorage.map.set('bp_state', stateOf('v-pre', [{ type: 'page_view', ts: 1 }])); // another tab moved on
  document.activate();
  await clock.advance(1_000);
  assert.ok(bp.visitor.events.some((e) => e.type === 'custom' && e.name === 'roi_calculated'), JSON.stringify(bp.visitor.events));
  assert.ok(bp.visitor.events.some((e) => e.type === 'page_view' && e.ts === 1), 'the other tab\'s history kept');
  bp.stop();
});

test('an edge\'s firstReported is not of a prerender: its picks are reported once it is shown', async () => {
  const { bp, clock, document, fetch, navigator } = setup({ prerendering: true, firstReported: true });
  await clock.advance(10_000);
  assert.deepEqual(sent({ fetch, navigator }), []);
  document.activate();
  await clock.advance(10_000);
  assert.deepEqual(sent({ fetch, navigator }).map((e) => e.event), ['Content Recommended']);
  bp.stop();
});

test('a prerender never shown leaves no trace: no page view, no impression, no state', async () => {
  const { bp, clock, window, localStorage, fetch, navigator } = setup({ prerendering: true });
  await clock.advance(60_000);
  window.dispatch('pagehide', { persisted: false }); // discarded
  await clock.advance(60_000);
  assert.deepEqual(sent({ fetch, navigator }), []);
  assert.equal(localStorage.map.has('bp_state'), false);
  assert.deepEqual(bp.visitor.events, []);
  bp.stop();
});
