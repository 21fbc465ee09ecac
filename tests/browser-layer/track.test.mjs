import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoTrack, pageInfo, pagePath, cutUtf8 } from '../../pkg-template/layer/track.js';
import { fakeClock, fakePage } from './fakes.mjs';

// The keys the engine accepts on an event (it rejects any other).
const EVENT_KEYS = new Set(['type', 'ts', 'content_id', 'url', 'dwell_seconds', 'cta', 'form', 'fields', 'name']);

function setup(pageOpts = { content: 'pricing' }) {
  const clock = fakeClock();
  const { document, window } = fakePage(pageOpts);
  const events = [];
  const start = () =>
    autoTrack({
      document,
      window,
      now: clock.now,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      onEvent: (e) => {
        for (const k of Object.keys(e)) assert.ok(EVENT_KEYS.has(k), `unexpected key ${k}`);
        events.push(e);
      },
    });
  return { clock, document, window, events, start };
}

test('the page view is held, then sent once at the first hide with the visible time', async () => {
  const { clock, document, events, start } = setup();
  const t0 = clock.now();
  start();
  assert.equal(events.length, 0, 'held until hidden or 30 s');
  await clock.advance(12_400);
  document.hide();
  assert.deepEqual(events, [{ type: 'page_view', ts: t0, content_id: 'pricing', url: '/pricing', dwell_seconds: 12 }]);
  document.show();
  await clock.advance(60_000);
  document.hide();
  assert.equal(events.length, 1, 'once');
});

test('the page URL is the path only: no query string, no hash', () => {
  const { document, window } = fakePage({ href: 'https://x.example/a/b?email=me%40x.com&utm_source=g#frag' });
  assert.deepEqual(pageInfo({ document, window }), { url: '/a/b' });
  // Even if a host's location object reports a pathname with a query in it.
  window.location.pathname = '/c?token=1#h';
  assert.equal(pageInfo({ document, window }).url, '/c');
});

test('after 30 s of visible time the page view goes out, and not again at hide', async () => {
  const { clock, document, events, start } = setup();
  start();
  await clock.advance(29_999);
  assert.equal(events.length, 0);
  await clock.advance(1);
  assert.equal(events.length, 1);
  assert.equal(events[0].dwell_seconds, 30);
  document.hide();
  assert.equal(events.length, 1);
});

test('a computer asleep while the page is shown adds no dwell: the view still says at most 30 s', async () => {
  const { clock, events, start } = setup();
  const now = clock.now;
  let asleep = 0;
  clock.now = () => now() + asleep; // the clock runs on while timers wait
  start();
  await clock.advance(10_000);
  asleep = 2 * 3_600_000;
  await clock.advance(20_000);
  assert.equal(events.length, 1);
  assert.equal(events[0].dwell_seconds, 30);
});

test('pagehide ends the held page view too', async () => {
  const { clock, window, events, start } = setup();
  start();
  await clock.advance(3_600);
  window.dispatch('pagehide', { persisted: false });
  window.dispatch('pagehide', { persisted: false });
  assert.equal(events.length, 1);
  assert.equal(events[0].dwell_seconds, 4);
});

test('only visible time counts: a page opened in a background tab', async () => {
  const { clock, document, events, start } = setup();
  document.visibilityState = 'hidden';
  start();
  await clock.advance(45_000); // hidden: the 30 s clock does not run
  assert.equal(events.length, 0);
  document.show();
  await clock.advance(5_000);
  document.hide();
  assert.equal(events.length, 1);
  assert.equal(events[0].dwell_seconds, 5);
});

test('content id falls back to <body data-bp-content>', async () => {
  const { document, window } = fakePage({});
  document.body.setAttribute('data-bp-content', 'blog-x');
  assert.equal(pageInfo({ document, window }).content_id, 'blog-x');
  const bare = fakePage({});
  assert.equal(pageInfo(bare).content_id, undefined);
});

test('clicks on [data-bp-cta] (or inside one) become cta_click events', () => {
  const { document, events, clock, start } = setup();
  const span = document.el('span', {});
  const link = document.el('a', { href: '/demo', 'data-bp-cta': 'demo', 'data-bp-content': 'demo-request' }, span);
  const plain = document.el('a', { href: '/about' });
  document.body.append(link, plain);
  start();
  document.dispatch('click', { target: span });
  document.dispatch('click', { target: plain });
  document.dispatch('click', { target: document.el('button', { 'data-bp-cta': 'pricing' }) });
  assert.deepEqual(events, [
    { type: 'cta_click', ts: clock.now(), cta: 'demo', content_id: 'demo-request' },
    { type: 'cta_click', ts: clock.now(), cta: 'pricing' },
  ]);
});

test('a click on a <label data-bp-cta> counts once, not again for the control the browser clicks with it', async () => {
  const { document, events, clock, start } = setup();
  const box = document.el('input', { type: 'checkbox', name: 'newsletter' });
  const label = document.el('label', { 'data-bp-cta': 'newsletter' }, box, document.el('span', {}));
  document.body.append(label);
  start();
  // The user clicks the label's text: the browser then clicks the checkbox, in the same turn.
  document.dispatch('click', { target: label.children[1] });
  document.dispatch('click', { target: box });
  assert.deepEqual(events, [{ type: 'cta_click', ts: clock.now(), cta: 'newsletter' }]);
  // A later click (another turn) is another act, and so is a click on the box itself.
  await clock.advance(0);
  document.dispatch('click', { target: box });
  await clock.advance(400);
  document.dispatch('click', { target: label });
  assert.equal(events.length, 3);
});

test('one click on an element that is both a CTA and a download sends both events', () => {
  const { document, events, clock, start } = setup();
  const a = document.el('a', { href: '/files/wp.pdf', 'data-bp-cta': 'whitepaper', 'data-bp-download': 'wp-1' });
  document.body.append(a);
  start();
  document.dispatch('click', { target: a });
  assert.deepEqual(events, [
    { type: 'cta_click', ts: clock.now(), cta: 'whitepaper' },
    { type: 'download', ts: clock.now(), content_id: 'wp-1' },
  ]);
});

test('[data-bp-download] links become download events', () => {
  const { document, events, start } = setup();
  const a = document.el('a', { href: '/files/dpa.pdf', 'data-bp-download': 'dpa-pdf' });
  const b = document.el('a', { href: '/files/x.pdf', 'data-bp-download': '', 'data-bp-content': 'x-guide' });
  document.body.append(a, b);
  start();
  document.dispatch('click', { target: a });
  document.dispatch('click', { target: b });
  assert.deepEqual(
    events.map((e) => [e.type, e.content_id]),
    [
      ['download', 'dpa-pdf'],
      ['download', 'x-guide'],
    ],
  );
});

test('form submits send only the data-bp-bant fields, never e-mail or name', () => {
  const { document, events, start } = setup();
  const form = document.el(
    'form',
    { 'data-bp-form': 'demo_request' },
    document.el('input', { name: 'email', type: 'email', value: 'jane@acme.com' }),
    document.el('input', { name: 'first_name', value: 'Jane' }),
    document.el('input', { name: 'work_email', type: 'email', value: 'j@acme.com', 'data-bp-bant': '' }),
    document.el('select', { name: 'budget', value: '50k-100k', 'data-bp-bant': '' }),
    document.el('input', { name: 'q7', value: 'this quarter', 'data-bp-bant': 'timeline' }),
    document.el('input', { name: 'auth', type: 'radio', value: 'yes', 'data-bp-bant': '' }), // not checked
    document.el('input', { name: 'need', type: 'checkbox', value: 'monitoring', checked: '', 'data-bp-bant': '' }),
    document.el('input', { name: 'empty', value: '', 'data-bp-bant': '' }),
  );
  document.body.append(form);
  start();
  document.dispatch('submit', { target: form });
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'form_submit');
  assert.equal(events[0].form, 'demo_request');
  assert.deepEqual(events[0].fields, { budget: '50k-100k', timeline: 'this quarter', need: 'monitoring' });
  assert.doesNotMatch(JSON.stringify(events), /jane|acme|Jane/);
});

const utf8Length = (t) => new TextEncoder().encode(t).length;

test('cutUtf8 cuts to a number of UTF-8 bytes, never inside a character', () => {
  assert.equal(cutUtf8('abc', 3), 'abc');
  assert.equal(cutUtf8('abcd', 3), 'abc');
  assert.equal(cutUtf8('ééé', 5), 'éé'); // 2 bytes each
  assert.equal(cutUtf8('a😀', 4), 'a'); // the emoji is 4 bytes: whole or not at all
  assert.equal(cutUtf8('a😀', 5), 'a😀');
  assert.equal(cutUtf8('予算は', 8), '予算');
});

test('form values are cut to the engine’s 256 bytes (not UTF-16 units); a name over 64 bytes is left out', () => {
  const { document, events, start } = setup();
  const values = {
    ascii: 'x'.repeat(300),
    french: 'Décision prévue été. '.repeat(12).slice(0, 250), // under 256 characters, over 256 bytes
    japanese: '予算は確保済みで来期導入を検討しています。'.repeat(5).slice(0, 100), // 300 bytes
    emoji: `${'x'.repeat(255)}😀 thanks`, // the emoji across byte 256
  };
  const form = document.el(
    'form',
    { 'data-bp-form': 'demo_request' },
    ...Object.entries(values).map(([name, value]) => document.el('textarea', { name, value, 'data-bp-bant': '' })),
    document.el('input', { name: 'é'.repeat(40), value: 'x', 'data-bp-bant': '' }), // 40 characters, 80 bytes
    document.el('input', { name: 'é'.repeat(32), value: 'kept', 'data-bp-bant': '' }), // 64 bytes
  );
  document.body.append(form);
  start();
  document.dispatch('submit', { target: form });
  const { fields } = events[0];
  assert.deepEqual(Object.keys(fields), [...Object.keys(values), 'é'.repeat(32)]);
  for (const [name, value] of Object.entries(values)) {
    assert.ok(utf8Length(fields[name]) <= 256, `${name}: ${utf8Length(fields[name])} bytes`);
    assert.ok(utf8Length(fields[name]) > 252, `${name}: cut, not emptied`);
    assert.ok(value.startsWith(fields[name]), name);
  }
  assert.equal(fields.emoji, 'x'.repeat(255));
  assert.doesNotMatch(JSON.stringify(fields), /\\ud83d/i, 'no half character');
});

test('a path over the engine’s 2,048 bytes is cut to them, on a character boundary, rather than the page view refused', async () => {
  const slug = encodeURIComponent('как-выбрать-платформу-'.repeat(20)); // 6 bytes per letter, percent-encoded
  const { clock, document, events, start } = setup({ href: `https://x.example/blog/${slug}?utm_source=g` });
  const page = pageInfo({ document, window: null });
  // Cut to the engine's 2,048 bytes, then back to the last whole letter's
  // escapes (`%D0%BA`, 6 bytes): the path still decodes.
  assert.ok(utf8Length(page.url) <= 2048 && utf8Length(page.url) > 2048 - 6, page.url.length);
  assert.ok(`/blog/${slug}`.startsWith(page.url));
  assert.doesNotThrow(() => decodeURIComponent(page.url));
  // An escape that is not UTF-8 earlier in the path (Latin-1 `%E9`) leaves the rest alone.
  const latin = pagePath(`/caf%E9/${'%20'.repeat(800)}`, 256);
  assert.ok(latin.length > 250 && /^\/caf%E9\/(%20)+$/.test(latin), latin.length);
  start();
  await clock.advance(30_000);
  assert.equal(events[0].url, page.url);
  const wide = fakePage({ href: `https://x.example/${'😀'.repeat(600)}` }); // 4 bytes each: unencoded, as a host may report
  wide.window.location.pathname = `/${'😀'.repeat(600)}`;
  assert.equal(pageInfo(wide).url, `/${'😀'.repeat(511)}`);
});

test('forms without data-bp-form are not tracked', () => {
  const { document, events, start } = setup();
  const form = document.el('form', {}, document.el('input', { name: 'budget', value: '1', 'data-bp-bant': '' }));
  document.body.append(form);
  start();
  document.dispatch('submit', { target: form });
  assert.equal(events.length, 0);
});

test('stop() removes every listener and the dwell timer', async () => {
  const { clock, document, window, events, start } = setup();
  const link = document.el('a', { 'data-bp-cta': 'demo' });
  document.body.append(link);
  const tracker = start();
  assert.deepEqual(tracker.page, { content_id: 'pricing', url: '/pricing' });
  tracker.stop();
  assert.equal(document.listenerCount() + window.listenerCount(), 0);
  assert.equal(clock.pending(), 0);
  document.dispatch('click', { target: link });
  document.hide();
  await clock.advance(60_000);
  assert.equal(events.length, 0);
});

test('a throwing onEvent does not break the page', () => {
  const { document, window } = fakePage({});
  const link = document.el('a', { 'data-bp-cta': 'demo' });
  document.body.append(link);
  autoTrack({
    document,
    window,
    setTimeout: () => 0,
    clearTimeout: () => {},
    onEvent: () => {
      throw new Error('host bug');
    },
  });
  assert.doesNotThrow(() => document.dispatch('click', { target: link }));
});

test('nextPage(): the held page view goes out with its dwell, once, and the page at the location now is held', async () => {
  const { clock, document, window, events, start } = setup();
  const t0 = clock.now();
  const tracker = start();
  await clock.advance(4_200);
  window.history.pushState(null, '', '/blog/post?email=a%40b.c#top');
  document.head.querySelector('meta').setAttribute('content', 'post');
  tracker.nextPage();
  assert.deepEqual(events, [{ type: 'page_view', ts: t0, content_id: 'pricing', url: '/pricing', dwell_seconds: 4 }]);
  assert.deepEqual(tracker.page, { content_id: 'post', url: '/blog/post' }, 'read again, path only');
  const t1 = clock.now();
  await clock.advance(30_000);
  assert.deepEqual(events.slice(1), [{ type: 'page_view', ts: t1, content_id: 'post', url: '/blog/post', dwell_seconds: 30 }]);
  // Its view out already: the next route sends none for it, and one for itself.
  window.history.pushState(null, '', '/contact');
  tracker.nextPage();
  assert.equal(events.length, 2);
  // Changed in a hidden tab: its time runs once the tab shows.
  document.hide();
  assert.equal(events.length, 3);
  window.history.pushState(null, '', '/pricing');
  tracker.nextPage();
  await clock.advance(60_000);
  assert.equal(events.length, 3);
  document.show();
  await clock.advance(2_000);
  document.hide();
  assert.deepEqual(events.slice(3).map((e) => [e.url, e.dwell_seconds]), [['/pricing', 2]]);
  tracker.stop();
  assert.equal(clock.pending(), 0);
});

test('a prerendered page holds its page view from activation: its ts and dwell count from prerenderingchange', async () => {
  for (const visibleFirst of [true, false]) {
    const { clock, document, events, start } = setup({ content: 'pricing', prerendering: true });
    const tracker = start();
    await clock.advance(20_000); // prerendered, not seen
    assert.deepEqual(events, [], `visibleFirst ${visibleFirst}`);
    const shown = clock.now();
    document.activate({ visibleFirst });
    await clock.advance(12_400);
    document.hide();
    assert.deepEqual(events, [{ type: 'page_view', ts: shown, content_id: 'pricing', url: '/pricing', dwell_seconds: 12 }], `visibleFirst ${visibleFirst}`);
    document.dispatch('prerenderingchange'); // once only
    document.show();
    await clock.advance(60_000);
    assert.equal(events.length, 1);
    tracker.stop();
  }
});

test('a prerendered page never activated emits nothing, not even at pagehide (the prerender discarded)', async () => {
  const { clock, document, window, events, start } = setup({ content: 'pricing', prerendering: true });
  const tracker = start();
  await clock.advance(60_000);
  window.history.pushState(null, '', '/blog/post');
  tracker.nextPage();
  window.dispatch('pagehide', { persisted: false });
  await clock.advance(60_000);
  assert.deepEqual(events, []);
  assert.equal(clock.pending(), 0, 'no dwell timer');
  tracker.stop();
  assert.equal(document.listenerCount() + window.listenerCount(), 0, 'prerenderingchange listener removed too');
});
