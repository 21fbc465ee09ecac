import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../../pkg-template/layer/storage.js';
import { fakeCookieDocument, fakeLocalStorage } from './fakes.mjs';

const STATE = 'AQIDBAUGBwgJ-_abc'; // base64url, as the engine makes it

test('auto mode uses localStorage when it works, and writes no cookie', () => {
  const document = fakeCookieDocument();
  const localStorage = fakeLocalStorage();
  const store = createStore({ consent: 'anonymous', document, localStorage });
  store.set(STATE);
  assert.equal(localStorage.map.get('bp_state'), STATE);
  assert.equal(document.jar.size, 0);
  assert.equal(store.get(), STATE);
});

test('auto mode falls back to the cookie when localStorage throws', () => {
  const document = fakeCookieDocument();
  const store = createStore({ consent: 'full', document, localStorage: fakeLocalStorage({ broken: true }) });
  store.set(STATE);
  assert.equal(document.jar.get('bp_state'), STATE);
  assert.equal(store.get(), STATE);
});

test('auto mode with localStorage full (writes throw, reads work) still reads the stored state, and moves it to the cookie and back', () => {
  const document = fakeCookieDocument();
  const localStorage = fakeLocalStorage();
  localStorage.map.set('bp_state', STATE); // stored by an earlier page
  const setItem = localStorage.setItem;
  localStorage.setItem = () => {
    throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  };
  const full = createStore({ consent: 'anonymous', document, localStorage });
  assert.equal(full.get(), STATE, 'the returning visitor is read');
  full.set('next');
  assert.equal(document.jar.get('bp_state'), 'next', 'moved to the cookie');
  assert.equal(localStorage.map.has('bp_state'), false, 'no older copy left behind');
  assert.equal(full.get(), 'next');
  // A later page, localStorage taking writes again: the cookie's state is read, and moves back.
  localStorage.setItem = setItem;
  const later = createStore({ consent: 'anonymous', document, localStorage });
  assert.equal(later.get(), 'next');
  later.set('last');
  assert.equal(localStorage.map.get('bp_state'), 'last');
  assert.equal(document.jar.has('bp_state'), false);
  assert.equal(later.get(), 'last');
});

test('auto mode with localStorage nearly full (the probe fits, the state does not): the state goes to the cookie, the stale copy is erased', () => {
  const document = fakeCookieDocument();
  const localStorage = fakeLocalStorage();
  localStorage.map.set('bp_state', STATE); // stored when it still fitted
  const setItem = localStorage.setItem;
  localStorage.setItem = (k, v) => {
    if (String(v).length > 4) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    return setItem(k, v);
  };
  const store = createStore({ consent: 'anonymous', document, localStorage });
  assert.equal(store.get(), STATE);
  store.set('next-state');
  assert.equal(document.jar.get('bp_state'), 'next-state', 'written to the cookie');
  assert.equal(localStorage.map.has('bp_state'), false, 'the stale copy is not read again on the next page');
  assert.equal(createStore({ consent: 'anonymous', document, localStorage }).get(), 'next-state');
});

test('a state that does not fit in the cookie stays where it is (not erased for a write that was dropped)', () => {
  const document = fakeCookieDocument();
  const cookie = Object.getOwnPropertyDescriptor(document, 'cookie');
  Object.defineProperty(document, 'cookie', { get: cookie.get, set: (raw) => raw.length < 100 && cookie.set(raw) }); // the browser drops a long cookie
  const localStorage = fakeLocalStorage();
  localStorage.map.set('bp_state', STATE);
  localStorage.setItem = () => {
    throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  };
  const store = createStore({ consent: 'anonymous', document, localStorage });
  store.set('x'.repeat(200));
  assert.equal(localStorage.map.get('bp_state'), STATE);
  assert.equal(store.get(), STATE);
});

test('cookie attributes: Path, SameSite=Lax, Max-Age from days, Secure only on https, Domain', () => {
  const https = fakeCookieDocument({ protocol: 'https:' });
  createStore({ consent: 'anonymous', mode: 'cookie', days: 30, domain: 'example.com', document: https }).set(STATE);
  const raw = https.writes.at(-1);
  assert.match(raw, /^bp_state=AQIDBAUGBwgJ-_abc; /);
  assert.match(raw, /; Path=\//);
  assert.match(raw, /; SameSite=Lax/);
  assert.match(raw, /; Max-Age=2592000(;|$)/);
  assert.match(raw, /; Domain=example\.com/);
  assert.match(raw, /; Secure$/);

  const http = fakeCookieDocument({ protocol: 'http:' });
  createStore({ consent: 'anonymous', mode: 'cookie', document: http }).set(STATE);
  assert.doesNotMatch(http.writes.at(-1), /Secure/);
  assert.match(http.writes.at(-1), /Max-Age=15552000/); // 180 days by default
});

test('cookie mode reads its own cookie among others', () => {
  const document = fakeCookieDocument();
  document.jar.set('other', 'x');
  document.jar.set('bp_state_old', 'nope');
  document.jar.set('bp_state', STATE);
  const store = createStore({ consent: 'anonymous', mode: 'cookie', document, localStorage: fakeLocalStorage() });
  assert.equal(store.get(), STATE);
});

test('consent none: get() is null and set() stores nothing, in either medium', () => {
  for (const mode of ['auto', 'cookie', 'localStorage']) {
    const document = fakeCookieDocument();
    const localStorage = fakeLocalStorage();
    localStorage.map.set('bp_state', STATE); // left by an earlier visit
    const store = createStore({ consent: 'none', mode, document, localStorage });
    assert.equal(store.get(), null, mode);
    store.set('new-state');
    assert.equal(document.writes.length, 0, mode);
    assert.notEqual(localStorage.map.get('bp_state'), 'new-state', mode);
  }
});

test('consent none writes nothing to localStorage, not even the probe, until a level above none needs it', () => {
  for (const mode of ['auto', 'localStorage']) {
    const localStorage = fakeLocalStorage();
    const calls = [];
    for (const m of ['getItem', 'setItem', 'removeItem']) {
      const f = localStorage[m];
      localStorage[m] = (k, v) => (calls.push(`${m} ${k}`), f(k, v));
    }
    const store = createStore({ consent: 'none', mode, document: fakeCookieDocument(), localStorage });
    store.get();
    store.set(STATE);
    assert.deepEqual(calls, [], mode);
    store.setConsent('anonymous');
    assert.equal(store.get(), null, mode);
    store.set(STATE);
    assert.equal(localStorage.map.get('bp_state'), STATE, mode);
    assert.equal(localStorage.map.has('__bp_probe__'), false, mode);
    if (mode === 'auto') assert.deepEqual(calls.slice(0, 2), ['setItem __bp_probe__', 'removeItem __bp_probe__'], 'probed when first needed');
  }
});

test('no consent given means none', () => {
  const localStorage = fakeLocalStorage();
  const store = createStore({ document: fakeCookieDocument(), localStorage });
  store.set(STATE);
  assert.equal(localStorage.map.size, 0);
});

test('an unknown consent level counts as none', () => {
  const localStorage = fakeLocalStorage();
  createStore({ consent: 'yes please', localStorage, document: fakeCookieDocument() }).set(STATE);
  assert.equal(localStorage.map.size, 0);
});

test('switching to none clears the cookie and localStorage', () => {
  const document = fakeCookieDocument();
  const localStorage = fakeLocalStorage();
  const cookieStore = createStore({ consent: 'full', mode: 'cookie', document, localStorage });
  cookieStore.set(STATE);
  localStorage.map.set('bp_state', STATE);
  assert.equal(document.jar.get('bp_state'), STATE);
  cookieStore.setConsent('none');
  assert.equal(document.jar.has('bp_state'), false);
  assert.match(document.writes.at(-1), /^bp_state=; .*Max-Age=0/);
  assert.equal(localStorage.map.has('bp_state'), false);
  assert.equal(cookieStore.get(), null);
  cookieStore.set(STATE);
  assert.equal(document.jar.has('bp_state'), false);
  // And back: storing works again once consent is given.
  cookieStore.setConsent('anonymous');
  cookieStore.set(STATE);
  assert.equal(cookieStore.get(), STATE);
});

test('never throws when storage is disabled (getter, methods and cookie all throw)', () => {
  const hostile = {
    get cookie() {
      throw new DOMException('denied', 'SecurityError');
    },
    set cookie(_) {
      throw new DOMException('denied', 'SecurityError');
    },
    get location() {
      throw new DOMException('denied', 'SecurityError');
    },
  };
  for (const mode of ['auto', 'cookie', 'localStorage']) {
    const store = createStore({ consent: 'full', mode, document: hostile, localStorage: fakeLocalStorage({ broken: true }) });
    assert.doesNotThrow(() => store.set(STATE));
    assert.equal(store.get(), null);
    assert.doesNotThrow(() => store.clear());
    assert.doesNotThrow(() => store.setConsent('none'));
  }
  // Even reading globalThis.localStorage may throw (sandboxed iframe).
  const desc = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
  Object.defineProperty(globalThis, 'localStorage', {
    configurable: true,
    get() {
      throw new DOMException('denied', 'SecurityError');
    },
  });
  try {
    const store = createStore({ consent: 'full', document: hostile });
    assert.doesNotThrow(() => store.set(STATE));
    assert.equal(store.get(), null);
  } finally {
    if (desc) Object.defineProperty(globalThis, 'localStorage', desc);
    else delete globalThis.localStorage;
  }
});

test('a document whose location cannot be read still gets its cookie (without Secure)', () => {
  const document = fakeCookieDocument();
  Object.defineProperty(document, 'location', {
    get() {
      throw new DOMException('denied', 'SecurityError');
    },
  });
  const store = createStore({ consent: 'anonymous', mode: 'cookie', document });
  store.set(STATE);
  assert.equal(store.get(), STATE);
  assert.doesNotMatch(document.writes.at(-1), /Secure/);
});

test('works without any document or localStorage (Node)', () => {
  const store = createStore({ consent: 'full', document: undefined, localStorage: null, mode: 'cookie' });
  assert.doesNotThrow(() => store.set(STATE));
  assert.equal(store.get(), null);
});

test('a state cookie from before the site set `domain` is erased: it would be read first, and outlive a withdrawal', () => {
  const document = fakeCookieDocument();
  createStore({ consent: 'full', mode: 'cookie', document, localStorage: null }).set('old');
  assert.deepEqual([...document.jar.keys()], ['bp_state'], 'host-only');
  const store = createStore({ consent: 'full', mode: 'cookie', domain: 'example.com', document, localStorage: null });
  store.set(STATE);
  assert.deepEqual([...document.jar.keys()], ['bp_state|example.com']);
  assert.equal(store.get(), STATE);
  store.setConsent('none');
  assert.equal(document.jar.size, 0, 'nothing left at none');
  store.setConsent('full');
  assert.equal(store.get(), null);
});

test('cookie lifetime: 0 days is a session cookie, and a days that is no number ≥ 0 is the default, never Max-Age=0', () => {
  const write = (days) => {
    const document = fakeCookieDocument();
    const store = createStore({ consent: 'anonymous', mode: 'cookie', days, document, localStorage: null });
    store.set(STATE);
    assert.equal(store.get(), STATE, `days ${days}: the state is kept`);
    return document.writes.at(-1);
  };
  assert.doesNotMatch(write(0), /Max-Age/);
  for (const days of [null, '180d', -1, NaN]) assert.match(write(days), /; Max-Age=15552000;/, String(days));
  assert.match(write(1e-6), /; Max-Age=1;/);
  assert.match(write(0.5), /; Max-Age=43200;/);
});
