// Small hand-written fakes for the browser layer tests: a clock with timers,
// localStorage, a cookie jar, fetch, sendBeacon, and a tiny DOM (elements,
// simple selectors, events). Just enough of each API for the layer.

/** A manual clock: `now()`, `setTimeout`, `clearTimeout`, `advance(ms)`. */
export function fakeClock(start = 1_793_610_000_000) {
  let t = start;
  let seq = 0;
  const timers = new Map();
  const clock = {
    delays: [], // every delay ever scheduled, in order
    now: () => t,
    setTimeout: (fn, ms) => {
      const id = ++seq;
      clock.delays.push(ms);
      timers.set(id, { at: t + ms, fn });
      return id;
    },
    clearTimeout: (id) => {
      timers.delete(id);
    },
    pending: () => timers.size,
    /** Moves time on, running due timers in order and settling promises. */
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        await settle();
        let next = null;
        for (const [id, tm] of timers) if (tm.at <= end && (!next || tm.at < next[1].at)) next = [id, tm];
        if (!next) break;
        timers.delete(next[0]);
        t = Math.max(t, next[1].at);
        next[1].fn();
      }
      t = end;
      await settle();
    },
  };
  return clock;
}

/** Lets pending promise chains (fake fetch answers) run. */
export async function settle() {
  for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
}

/** A Map-backed localStorage; `broken` makes every method throw. */
export function fakeLocalStorage({ broken = false } = {}) {
  const map = new Map();
  const guard = () => {
    if (broken) throw new DOMException('The operation is insecure.', 'SecurityError');
  };
  return {
    map,
    getItem: (k) => (guard(), map.has(k) ? map.get(k) : null),
    setItem: (k, v) => (guard(), void map.set(k, String(v))),
    removeItem: (k) => (guard(), void map.delete(k)),
  };
}

/**
 * A document with a cookie jar; `writes` keeps every raw assignment. As in
 * browsers, a cookie with a `Domain` is another cookie than a host-only one
 * of the same name: the jar's key is the name, then `|` and the domain for
 * one with a `Domain`; the older of two is listed first.
 */
export function fakeCookieDocument({ protocol = 'https:', broken = false } = {}) {
  const jar = new Map();
  const doc = {
    writes: [],
    jar,
    location: { protocol, pathname: '/', search: '', hash: '' },
    get cookie() {
      if (broken) throw new DOMException('The operation is insecure.', 'SecurityError');
      return [...jar].map(([k, v]) => `${k.split('|')[0]}=${v}`).join('; ');
    },
    set cookie(raw) {
      if (broken) throw new DOMException('The operation is insecure.', 'SecurityError');
      doc.writes.push(raw);
      const [pair, ...attrs] = raw.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const domain = attrs.find((a) => a.toLowerCase().startsWith('domain='));
      const key = pair.slice(0, eq) + (domain ? `|${domain.split('=')[1].toLowerCase()}` : '');
      const maxAge = attrs.find((a) => a.toLowerCase().startsWith('max-age='));
      if (maxAge && Number(maxAge.split('=')[1]) <= 0) jar.delete(key);
      else jar.set(key, pair.slice(eq + 1));
    },
  };
  return doc;
}

/**
 * A fetch that records requests and answers from a script: each entry is a
 * status, `{ status, headers }`, `'network'` (a rejected promise), `'hang'`
 * (never answers; rejects with an AbortError when `init.signal` aborts, as
 * fetch does) or `'deaf'` (never answers, and ignores the signal). After
 * the script runs out it answers 200.
 */
export function fakeFetch(script = []) {
  const requests = [];
  const fetch = async (url, init) => {
    requests.push({ url, init, body: JSON.parse(init.body) });
    const step = script.length ? script.shift() : 200;
    if (step === 'network') throw new TypeError('Failed to fetch');
    if (step === 'deaf') return new Promise(() => {});
    if (step === 'hang') {
      return new Promise((_, reject) => {
        const signal = init.signal;
        if (signal) signal.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')));
      });
    }
    const { status, headers = {} } = typeof step === 'number' ? { status: step } : step;
    return { status, headers: { get: (n) => headers[n] ?? headers[n.toLowerCase()] ?? null } };
  };
  fetch.requests = requests;
  return fetch;
}

/** A navigator whose sendBeacon records calls and returns `accept`. */
export function fakeNavigator({ accept = true } = {}) {
  const beacons = [];
  return {
    beacons,
    sendBeacon(url, data) {
      beacons.push({ url, data, body: JSON.parse(data) });
      return accept;
    },
  };
}

// ---------------------------------------------------------------- tiny DOM

function parseSelector(sel) {
  const m = /^([a-z]*)((?:\[[^\]]+\])*)$/i.exec(sel.trim());
  if (!m) throw new Error(`fake DOM: unsupported selector ${sel}`);
  const attrs = [...m[2].matchAll(/\[([\w:-]+)(?:="([^"]*)")?\]/g)].map((a) => [a[1], a[2]]);
  return { tag: m[1].toUpperCase(), attrs };
}

function matches(el, sel) {
  const { tag, attrs } = parseSelector(sel);
  if (tag && el.tagName !== tag) return false;
  return attrs.every(([k, v]) => el.attributes.has(k) && (v === undefined || el.attributes.get(k) === v));
}

export class FakeElement {
  constructor(tag, attrs = {}, ownerDocument = null) {
    this.nodeType = 1;
    this.tagName = tag.toUpperCase();
    this.attributes = new Map(Object.entries(attrs));
    this.children = [];
    this.parentElement = null;
    this.ownerDocument = ownerDocument;
    this._text = '';
    this.value = attrs.value ?? '';
    this.name = attrs.name ?? '';
    this.type = (attrs.type ?? (this.tagName === 'INPUT' ? 'text' : '')).toLowerCase();
    this.checked = 'checked' in attrs;
  }
  getAttribute(k) {
    return this.attributes.has(k) ? this.attributes.get(k) : null;
  }
  setAttribute(k, v) {
    this.attributes.set(k, String(v));
  }
  get dataset() {
    const d = {};
    for (const [k, v] of this.attributes) {
      if (k.startsWith('data-')) d[k.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = v;
    }
    return d;
  }
  get firstChild() {
    return this.children[0] ?? null;
  }
  appendChild(c) {
    c.parentElement = this;
    this.children.push(c);
    return c;
  }
  removeChild(c) {
    this.children = this.children.filter((x) => x !== c);
    c.parentElement = null;
    return c;
  }
  append(...cs) {
    for (const c of cs) this.appendChild(c);
    return this;
  }
  set textContent(t) {
    this.children = [];
    this._text = String(t);
  }
  get textContent() {
    return this._text + this.children.map((c) => c.textContent).join('');
  }
  // innerHTML is deliberately a trap: the layer must never use it.
  set innerHTML(_) {
    throw new Error('innerHTML used');
  }
  matches(sel) {
    return sel.split(',').some((s) => matches(this, s));
  }
  closest(sel) {
    for (let el = this; el; el = el.parentElement) if (el.matches(sel)) return el;
    return null;
  }
  querySelectorAll(sel) {
    const out = [];
    const walk = (el) => {
      for (const c of el.children) {
        if (c.matches(sel)) out.push(c);
        walk(c);
      }
    };
    walk(this);
    return out;
  }
  querySelector(sel) {
    return this.querySelectorAll(sel)[0] ?? null;
  }
}

/** Listeners by type, with capture/bubble ignored (one target each). */
function eventTarget(obj) {
  const listeners = new Map();
  obj.addEventListener = (type, fn) => {
    if (!listeners.has(type)) listeners.set(type, []);
    listeners.get(type).push(fn);
  };
  obj.removeEventListener = (type, fn) => {
    listeners.set(type, (listeners.get(type) || []).filter((f) => f !== fn));
  };
  obj.dispatch = (type, event = {}) => {
    for (const fn of [...(listeners.get(type) || [])]) fn({ type, ...event });
  };
  obj.listenerCount = () => [...listeners.values()].reduce((n, l) => n + l.length, 0);
  return obj;
}

/** Moves a location to `url` (resolved against it), as a navigation within the document does. */
function moveTo(location, url) {
  const u = new URL(url, location.href);
  if (u.origin !== new URL(location.href).origin) throw new DOMException('not the same origin', 'SecurityError');
  Object.assign(location, { href: u.href, pathname: u.pathname, search: u.search, hash: u.hash });
}

/**
 * The History API of a page, its methods on the prototype as the browser's:
 * pushState / replaceState move the location (another origin throws, as in
 * browsers) and fire nothing; `calls` keeps each call.
 */
export class FakeHistory {
  constructor(location) {
    this.location = location;
    this.state = null;
    this.calls = [];
  }
  pushState(state, title, url) {
    if (url != null) moveTo(this.location, url);
    this.state = state;
    this.calls.push(['pushState', url]);
  }
  replaceState(state, title, url) {
    if (url != null) moveTo(this.location, url);
    this.state = state;
    this.calls.push(['replaceState', url]);
  }
}

/**
 * A page: document (with body/head, cookie jar, visibility) and window (with
 * `history`; `frames`: requestAnimationFrame too, run by `window.frame()`).
 * `prerendering`: a page prerendered by Speculation Rules (hidden, and
 * `document.prerendering` true) until `document.activate()`.
 */
export function fakePage({ href = 'https://www.example.com/pricing?email=a%40b.c#top', content, referrer = '', frames = false, prerendering = false } = {}) {
  const u = new URL(href);
  const location = { href, protocol: u.protocol, hostname: u.hostname, pathname: u.pathname, search: u.search, hash: u.hash };
  const cookies = fakeCookieDocument({ protocol: u.protocol });
  const document = eventTarget({
    visibilityState: prerendering ? 'hidden' : 'visible',
    prerendering,
    location,
    referrer,
    get cookie() {
      return cookies.cookie;
    },
    set cookie(v) {
      cookies.cookie = v;
    },
    cookieWrites: cookies.writes,
  });
  const root = new FakeElement('html', {}, document);
  document.head = root.appendChild(new FakeElement('head', {}, document));
  document.body = root.appendChild(new FakeElement('body', {}, document));
  document.createElement = (tag) => new FakeElement(tag, {}, document);
  document.querySelectorAll = (sel) => root.querySelectorAll(sel);
  document.querySelector = (sel) => root.querySelector(sel);
  document.el = (tag, attrs, ...kids) => {
    const e = new FakeElement(tag, attrs, document);
    e.append(...kids);
    return e;
  };
  if (content) document.head.appendChild(document.el('meta', { name: 'buyerpath:content', content }));
  const window = eventTarget({ location, document, history: new FakeHistory(location) });
  /** Back or forward to `url` within the document: the location moves, then popstate. */
  window.popTo = (url) => {
    moveTo(location, url);
    window.dispatch('popstate', { state: null });
  };
  if (frames) {
    const queued = [];
    window.requestAnimationFrame = (fn) => queued.push(fn);
    /** Runs the animation frame callbacks queued so far. */
    window.frame = () => {
      for (const fn of queued.splice(0)) fn(0);
    };
  }
  /** Hides the page (visibilitychange → hidden). */
  document.hide = () => {
    document.visibilityState = 'hidden';
    document.dispatch('visibilitychange');
  };
  document.show = () => {
    document.visibilityState = 'visible';
    document.dispatch('visibilitychange');
  };
  /**
   * The visitor navigates to the prerendered page: it is shown
   * (visibilitychange) and `prerenderingchange` fires; `visibleFirst: false`
   * fires them the other way round.
   */
  document.activate = ({ visibleFirst = true } = {}) => {
    document.prerendering = false;
    const fire = [() => document.show(), () => document.dispatch('prerenderingchange')];
    for (const f of visibleFirst ? fire : fire.reverse()) f();
  };
  return { document, window };
}
