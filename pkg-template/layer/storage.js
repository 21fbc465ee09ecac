// Where the visitor state string lives between page loads: a first-party
// cookie (which the edge worker can read too) or localStorage.
//
// Consent gates everything: at `none` nothing is read or written, and moving
// to `none` erases what was stored. Storage can be switched off by the browser
// (Safari private mode, sandboxed iframes, blocked cookies), where even
// *reading* `window.localStorage` or `document.cookie` throws a SecurityError,
// so every access is guarded and failures become null / no-ops: losing the
// state only makes the visitor look new, it must never break the page.

/** Consent levels, weakest first. Anything else counts as `none`. */
export const CONSENT_LEVELS = ['none', 'anonymous', 'full'];

/** The level's rank (0 for `none` and for anything unknown). */
export function consentRank(level) {
  const i = CONSENT_LEVELS.indexOf(level);
  return i < 0 ? 0 : i;
}

/** A known consent level, or `none` (privacy first). */
export function normalizeConsent(level) {
  return CONSENT_LEVELS[consentRank(level)];
}

/**
 * Returns `fn()`, or `fallback` if it throws. Default parameters such as
 * `globalThis.localStorage` are resolved through this so that merely looking
 * the property up cannot throw out of a constructor.
 */
export function attempt(fn, fallback) {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

const UNSET = Symbol('unset');

/** A working localStorage, or null (missing, disabled, or full at zero). */
function probeLocalStorage(ls) {
  if (!ls) return null;
  return attempt(() => {
    // Old Safari private mode exposes localStorage but throws on every write.
    const k = '__bp_probe__';
    ls.setItem(k, '1');
    ls.removeItem(k);
    return ls;
  }, null);
}

/**
 * Creates the state store.
 * @param {object} [options]
 * @returns {{ get(): string|null, set(value: string): void, clear(): void, setConsent(level: string): void }}
 */
export function createStore({
  consent = 'none',
  mode = 'auto',
  name = 'bp_state',
  days = 180,
  domain,
  document = UNSET,
  localStorage = UNSET,
} = {}) {
  const doc = document === UNSET ? attempt(() => globalThis.document, undefined) : document;
  const rawLs = localStorage === UNSET ? attempt(() => globalThis.localStorage, undefined) : localStorage;
  let level = normalizeConsent(consent);
  // localStorage is probed (a write) only when a level above `none` first
  // needs it: at `none` nothing is written, not even the probe (which other
  // tabs would see as storage events).
  let ls = UNSET;
  const local = () => {
    if (ls === UNSET) ls = probeLocalStorage(rawLs); // (only `auto` asks)
    return ls;
  };
  // `auto` prefers localStorage and falls back to the cookie; the explicit
  // modes never use the other medium (except to erase it on clear()).
  const useLs = () => mode === 'localStorage' || (mode === 'auto' && local() !== null);
  const useCookie = () => mode === 'cookie' || (mode === 'auto' && local() === null);
  // `auto` also reads the other medium when the one in use holds nothing: a
  // localStorage that is full (writes throw, reads work) still gives the
  // returning visitor's state, which then moves to the cookie (and back to
  // localStorage once it takes writes again). A copy is erased from the
  // other medium only once it is written to this one, and read back.

  // The state cookie's lifetime: `days` (any positive number), a session
  // cookie for 0, the default for anything else (a `null` or `'180d'` would
  // otherwise write Max-Age=0, which deletes the cookie at every write).
  const d = Number.isFinite(days) && days >= 0 ? days : 180;
  const lifetime = d === 0 ? null : Math.max(1, Math.round(d * 86400));

  function cookieAttrs(maxAge) {
    const secure = attempt(() => doc.location.protocol === 'https:', false);
    let a = `; Path=/${maxAge === null ? '' : `; Max-Age=${maxAge}`}; SameSite=Lax`;
    if (domain) a += `; Domain=${domain}`;
    if (secure) a += '; Secure';
    return a;
  }

  function readLs() {
    const v = attempt(() => rawLs.getItem(name), null);
    return typeof v === 'string' && v !== '' ? v : null;
  }

  function readCookie() {
    return attempt(() => {
      const jar = String(doc.cookie || '');
      for (const part of jar.split(';')) {
        const eq = part.indexOf('=');
        if (eq < 0) continue;
        if (part.slice(0, eq).trim() !== name) continue;
        const v = decodeURIComponent(part.slice(eq + 1).trim());
        return v === '' ? null : v;
      }
      return null;
    }, null);
  }

  function writeCookie(value, maxAge) {
    attempt(() => {
      // With `domain`, a host-only copy (written before the site set it)
      // would be read first and outlive a withdrawal: it is erased.
      if (domain) doc.cookie = `${name}=; Path=/; Max-Age=0; SameSite=Lax`;
      // The state string is base64url, so this encoding is the identity in
      // practice; it only guards against a value with `;` or spaces.
      doc.cookie = `${name}=${encodeURIComponent(value)}${cookieAttrs(maxAge)}`;
    }, undefined);
  }

  function clear() {
    // Erase both media whatever the mode: a mode change between releases
    // must not leave an orphan copy behind after consent is withdrawn.
    if (doc) writeCookie('', 0);
    if (rawLs) attempt(() => rawLs.removeItem(name), undefined);
  }

  return {
    get() {
      if (level === 'none') return null;
      if (useLs()) return readLs() ?? (mode === 'auto' ? readCookie() : null);
      if (useCookie()) return readCookie() ?? (mode === 'auto' ? readLs() : null);
      return null;
    },
    set(value) {
      if (level === 'none' || typeof value !== 'string') return;
      if (useLs()) {
        const written = attempt(() => (rawLs.setItem(name, value), true), false);
        if (written && mode === 'auto' && readCookie() !== null) writeCookie('', 0);
        // A localStorage that took the probe but not the state (nearly
        // full): in `auto` the state goes to the cookie, and the stale copy
        // is erased once the cookie reads back (or every page would load it
        // again, and number its decisions from the same point).
        if (written || mode !== 'auto') return;
      }
      if ((useCookie() || mode === 'auto') && doc) {
        writeCookie(value, lifetime);
        if (mode === 'auto' && readCookie() === value && readLs() !== null) attempt(() => rawLs.removeItem(name), undefined);
      }
    },
    clear,
    setConsent(next) {
      level = normalizeConsent(next);
      if (level === 'none') clear();
    },
  };
}
