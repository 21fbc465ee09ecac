// Automatic tracking: turns what happens on the page into engine events
// (`page_view`, `cta_click`, `form_submit`, `download`) for `onEvent` (the
// layer has the engine observe them; none goes to the collector), privacy first:
// the URL is the path only, and a form gives only the fields marked
// `data-bp-bant`.
//
// One page view per page. The engine has no "dwell update" event, and a
// second `page_view` would count the visit twice (points, stage evidence),
// so the single page view of this page is *held* from start and emitted
// once, with the visible time as `dwell_seconds`, at whichever comes first:
// the page hidden or left (`visibilitychange` → hidden, `pagehide`), or
// `dwellSeconds` (30) of visible time. Its `ts` is the time the page started.
// A single-page app's route change is a page too: `nextPage()` ends the held
// view as a hide would, and holds one for the page now at the location.
//
// A prerendered page (Speculation Rules: `document.prerendering`) is not
// seen until it is activated: its page view is held from `prerenderingchange`
// (its `ts` then), and never emitted if that never comes. Clicks and forms
// cannot happen before.

import { attempt } from './storage.js';

// Input types never read, even if someone marks them `data-bp-bant`.
const NEVER_READ = new Set(['email', 'password', 'tel', 'file']);
const MAX_FIELDS = 32; // the engine's limits on an event's `fields` (names and values in UTF-8 bytes)
const MAX_NAME = 64;
const MAX_VALUE = 256;
const MAX_URL = 2048; // the engine's limit on an event's `url`, in UTF-8 bytes
const MAX_DWELL = 86_400;

/**
 * `s` cut to at most `max` UTF-8 bytes, on a whole-character boundary (the
 * engine's string limits count bytes, not UTF-16 units).
 */
export function cutUtf8(s, max) {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= max) return s;
  // encodeInto writes whole characters only; `read` counts the UTF-16 units taken.
  return s.slice(0, enc.encodeInto(s, new Uint8Array(max)).read);
}

/**
 * A page URL as the engine gets it: the path alone (no query string or hash,
 * which can carry personal data), cut to `max` UTF-8 bytes (the engine's
 * limit: 2,048 in an event, 256 in a decide request) rather than have the
 * page view or the decision refused.
 */
export function pagePath(url, max = MAX_URL) {
  const path = url.split(/[?#]/)[0];
  let cut = cutUtf8(path, max);
  // Never half a percent-escape (`%E` of `%E2`), nor half a character's
  // escapes (`%D0` of `%D0%BA`).
  return cut.length < path.length ? wholeEscapes(cut.replace(/%[0-9A-Fa-f]?$/, '')) : cut;
}

/** `path` without the escapes of a UTF-8 character it ends in the middle of. */
function wholeEscapes(path) {
  const run = /(?:%[0-9A-Fa-f]{2})+$/.exec(path);
  if (!run) return path;
  const bytes = run[0].match(/%../g).map((h) => parseInt(h.slice(1), 16));
  // The last byte that starts a character, and how many its character takes.
  let lead = bytes.length - 1;
  while (lead >= 0 && (bytes[lead] & 0xc0) === 0x80) lead -= 1;
  if (lead < 0) return path;
  const b = bytes[lead];
  const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  const have = bytes.length - lead;
  return have < need ? path.slice(0, path.length - 3 * have) : path;
}

/**
 * The catalogue's pages as path → content id, from the engine's
 * `contentUrls()` (`[url, id]` pairs in playbook order): a root-relative URL
 * keyed by its path as `location.pathname` gives it (percent-encoded, no
 * query), the first item of a URL that several share, as the edge worker maps
 * a request; other URLs (absolute, empty) map nothing.
 */
export function cataloguePaths(urls) {
  const paths = new Map();
  for (const pair of urls) {
    const [url, id] = Array.isArray(pair) ? pair : [];
    if (typeof url !== 'string' || !url.startsWith('/') || url.startsWith('//') || typeof id !== 'string') continue;
    const path = attempt(() => new URL(url, 'https://catalogue.invalid').pathname, null);
    if (path !== null && !paths.has(path)) paths.set(path, id);
  }
  return paths;
}

/** The page's location (the window's, else the document's); null when neither can be read. */
export const pageLocation = ({ document, window }) => attempt(() => (window && window.location) || document.location, null);

/**
 * The current page as the engine sees it: `content_id` from
 * `<meta name="buyerpath:content">` or `<body data-bp-content>`, and `url`
 * as the path alone (a query string or hash can carry personal data).
 * A page that names no content id is the `catalogue` item at its path (a
 * Map of path → content id: the engine's `contentUrls()`), matched exactly,
 * as the edge worker maps a request: the engine scores a page view by its
 * content id, and one without scores nothing.
 */
export function pageInfo({ document = globalThis.document, window = globalThis.window, catalogue = null } = {}) {
  const page = {};
  const meta = attempt(() => document.querySelector('meta[name="buyerpath:content"]'), null);
  const named = attempt(() => meta && meta.getAttribute('content'), null) || attempt(() => document.body.dataset.bpContent, null);
  const loc = pageLocation({ document, window });
  const path = attempt(() => loc.pathname, null);
  const id = typeof named === 'string' && named !== '' ? named : typeof path === 'string' ? attempt(() => catalogue.get(path), undefined) : undefined;
  if (typeof id === 'string' && id !== '') page.content_id = id;
  if (typeof path === 'string' && path !== '') page.url = pagePath(path);
  return page;
}

// The nearest element (from the event target up) matching `selector`.
function closest(target, selector) {
  return attempt(() => {
    let el = target;
    if (el && el.nodeType === 3) el = el.parentElement; // a click on text
    return el && typeof el.closest === 'function' ? el.closest(selector) : null;
  }, null);
}

function attr(el, name) {
  const v = attempt(() => el.getAttribute(name), null);
  return typeof v === 'string' ? v : null;
}

/** The `data-bp-bant` fields of a form (name → value), and nothing else. */
export function bantFields(form) {
  const fields = {};
  let n = 0;
  const els = attempt(() => Array.from(form.querySelectorAll('[data-bp-bant]')), []);
  for (const el of els) {
    if (n >= MAX_FIELDS) break;
    const type = String(attempt(() => el.type, '') || '').toLowerCase();
    if (NEVER_READ.has(type)) continue;
    if ((type === 'checkbox' || type === 'radio') && !attempt(() => el.checked, false)) continue;
    // The attribute's value may name the playbook field; else the input's name.
    const name = attr(el, 'data-bp-bant') || attempt(() => el.name, '') || '';
    const value = attempt(() => el.value, null);
    // A name over the limit is left out (cut, it would name no playbook field);
    // a value is cut, on a character boundary: over its limit, the engine
    // would refuse the whole form_submit.
    if (!name || cutUtf8(name, MAX_NAME) !== name || typeof value !== 'string' || value === '') continue;
    if (!(name in fields)) n += 1;
    fields[name] = cutUtf8(value, MAX_VALUE);
  }
  return fields;
}

/**
 * Starts automatic tracking. `onEvent(event)` receives each engine event;
 * `catalogue` is pageInfo's.
 * @returns {{ stop(): void, nextPage(next?: { content_id?: string, url?: string }): void, page: { content_id?: string, url?: string } }}
 */
export function autoTrack({
  document = globalThis.document,
  window = globalThis.window,
  onEvent,
  now = () => Date.now(),
  setTimeout = globalThis.setTimeout,
  clearTimeout = globalThis.clearTimeout,
  dwellSeconds = 30,
  catalogue = null,
} = {}) {
  let page = pageInfo({ document, window, catalogue });
  let startedAt = now();
  const listeners = [];
  let viewSent = false;
  let visibleMs = 0;
  let visibleSince = null; // when the current visible stretch began
  let timer = null;
  let prerendering = attempt(() => document.prerendering === true, false);
  // The CTA and download elements counted in this turn of the event loop.
  // A click on a <label> makes the browser click its control too, in the
  // same turn (after the label's click, before any timer): when both are
  // inside one `data-bp-cta` element, that second click is the same act.
  // By kind: one element may be both a CTA and a download (each is counted).
  const counted = { cta: new Set(), download: new Set() };
  const forget = () => {
    counted.cta.clear();
    counted.download.clear();
  };
  let turn = null;
  const once = (kind, el) => {
    const seen = counted[kind];
    if (seen.has(el)) return false;
    seen.add(el);
    if (turn === null) {
      const t = attempt(() => setTimeout(() => ((turn = null), forget()), 0), null);
      if (t == null) forget(); // no timer: no deduplication, rather than clicks lost
      else turn = t;
    }
    return true;
  };

  const emit = (event) => {
    attempt(() => onEvent && onEvent(event), undefined);
  };
  const on = (target, type, fn, opts) => {
    if (!target || typeof target.addEventListener !== 'function') return;
    target.addEventListener(type, fn, opts);
    listeners.push(() => target.removeEventListener(type, fn, opts));
  };
  const isVisible = () => attempt(() => document.visibilityState, 'visible') !== 'hidden';
  const cancelTimer = () => {
    if (timer !== null) attempt(() => clearTimeout(timer), undefined);
    timer = null;
  };

  function sendView() {
    if (viewSent) return;
    viewSent = true;
    cancelTimer();
    let ms = visibleMs;
    if (visibleSince !== null) ms += Math.max(0, now() - visibleSince);
    // The view goes out at dwellSeconds of visible time at the latest: more
    // is the clock running on while timers did not (the computer asleep).
    const cap = Math.min(MAX_DWELL, Math.max(0, Number(dwellSeconds) || 0));
    const dwell = Math.round(Math.min(cap, ms / 1000));
    emit({ type: 'page_view', ts: startedAt, ...page, dwell_seconds: dwell });
  }

  function becameVisible() {
    if (prerendering || viewSent || visibleSince !== null) return;
    visibleSince = now();
    const left = Math.max(0, dwellSeconds * 1000 - visibleMs);
    timer = setTimeout(sendView, left);
  }

  function becameHidden() {
    if (prerendering) return; // not seen yet: nothing to end
    if (visibleSince !== null) visibleMs += Math.max(0, now() - visibleSince);
    visibleSince = null;
    sendView(); // the first hide ends the held page view
  }

  // A new page view, held from now.
  function hold() {
    cancelTimer();
    startedAt = now();
    viewSent = false;
    visibleMs = 0;
    visibleSince = null;
    if (isVisible()) becameVisible();
  }

  on(document, 'visibilitychange', () => (isVisible() ? becameVisible() : becameHidden()));
  on(window, 'pagehide', becameHidden);
  // Back or forward to a page kept in the back/forward cache: its scripts
  // resume without a load, and it is read again, so it is a page view again.
  on(window, 'pageshow', (e) => {
    if (attempt(() => e.persisted === true, false)) hold();
  });
  if (prerendering) {
    on(document, 'prerenderingchange', () => {
      if (!prerendering) return;
      prerendering = false;
      hold(); // the visitor sees the page from now
    });
  }

  // Capture phase: a page script calling stopPropagation() must not hide
  // the click or submit from us.
  on(
    document,
    'click',
    (e) => {
      const cta = closest(e.target, '[data-bp-cta]');
      if (cta && once('cta', cta)) {
        const ev = { type: 'cta_click', ts: now(), cta: attr(cta, 'data-bp-cta') || '' };
        const id = attr(cta, 'data-bp-content');
        if (id) ev.content_id = id;
        emit(ev);
      }
      const dl = closest(e.target, '[data-bp-download]');
      if (dl && once('download', dl)) {
        const ev = { type: 'download', ts: now() };
        const id = attr(dl, 'data-bp-download') || attr(dl, 'data-bp-content');
        if (id) ev.content_id = id;
        emit(ev);
      }
    },
    true,
  );
  on(
    document,
    'submit',
    (e) => {
      const form = closest(e.target, 'form[data-bp-form]');
      if (!form) return;
      emit({ type: 'form_submit', ts: now(), form: attr(form, 'data-bp-form') || '', fields: bantFields(form) });
    },
    true,
  );

  if (isVisible()) becameVisible();

  return {
    get page() {
      return page;
    },
    // A route change: the previous route's view ends as a hide would end it
    // (with its dwell, unless it has been emitted already), and the page now at
    // the location (path and content id read again) is held from now.
    nextPage(next = pageInfo({ document, window, catalogue })) {
      becameHidden();
      page = next;
      hold();
    },
    stop() {
      cancelTimer();
      if (turn !== null) attempt(() => clearTimeout(turn), undefined);
      turn = null;
      forget();
      for (const off of listeners.splice(0)) attempt(off, undefined);
    },
  };
}
