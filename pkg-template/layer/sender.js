// Sends signals to the central store in the Segment HTTP API shape
// (`POST {endpoint}/v1/batch`), the way analytics.js does: batches of
// `maxBatch` events or every `flushMs`, a beacon when the page goes away,
// retries with capped exponential backoff and full jitter, and a bounded queue
// persisted in localStorage so that events survive a navigation.
//
// No DOM is used: everything that touches the outside (fetch, sendBeacon,
// localStorage, the clock, timers, randomness) is injectable, so the module
// runs in Node and in tests.

import { CONSENT_LEVELS, attempt, consentRank, normalizeConsent } from './storage.js';

/** Browsers refuse beacons (and keepalive bodies) past 64 KiB. */
export const BEACON_LIMIT = 64 * 1024;
const MAX_BACKOFF_MS = 60_000;
// Retry-After is honoured, but capped so that a huge value cannot overflow a
// 32-bit timer (which would fire at once) or stall the queue for days.
const MAX_RETRY_AFTER_MS = 3_600_000;
const UNSET = Symbol('unset');

function utf8(s) {
  return new TextEncoder().encode(s);
}

function base64(s) {
  // btoa only takes Latin-1: go through UTF-8 so any write key works.
  let bin = '';
  for (const b of utf8(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Retry-After as milliseconds (seconds or an HTTP date), or null. */
function retryAfterMs(res, nowMs) {
  const h = attempt(() => res.headers.get('Retry-After'), null);
  if (h == null || h === '') return null;
  const secs = Number(h);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(h) - nowMs;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : null;
}

/**
 * Creates a sender. See index.d.ts for the options.
 */
export function createSender({
  endpoint,
  writeKey = '',
  consent = 'none',
  fetch = globalThis.fetch,
  navigator = globalThis.navigator,
  localStorage = UNSET,
  now = () => Date.now(),
  random = Math.random,
  setTimeout = globalThis.setTimeout,
  clearTimeout = globalThis.clearTimeout,
  maxBatch = 10,
  flushMs = 5000,
  maxQueue = 200,
  storageKey = 'bp_queue',
  onError,
} = {}) {
  const ls = localStorage === UNSET ? attempt(() => globalThis.localStorage, undefined) : localStorage;
  const url = `${String(endpoint || '').replace(/\/+$/, '')}/v1/batch`;
  let level = normalizeConsent(consent);
  let queue = [];
  const inflight = new Set(); // batches sent but not yet acknowledged
  let active = null; // the running flush loop (one at a time keeps order)
  let flushTimer = null;
  let retryTimer = null;
  let attempts = 0; // consecutive failures, for the backoff
  let epoch = 0; // bumped on consent `none`: late responses are then ignored
  let stopped = false;
  const reported = new Set(); // statuses already passed to onError

  const pending = () => [...inflight].reduce((n, b) => n + b.length, queue.length);

  function persist() {
    if (!ls) return;
    if (level === 'none') {
      attempt(() => ls.removeItem(storageKey), undefined);
      return;
    }
    // In-flight batches are kept too: if the page dies before the answer,
    // the next page load sends them again (the store dedupes by messageId).
    const all = [];
    for (const b of inflight) all.push(...b);
    all.push(...queue);
    attempt(() => ls.setItem(storageKey, JSON.stringify(all)), undefined);
  }

  // Drops the oldest queued events beyond maxQueue (in-flight ones count).
  function trim() {
    const over = pending() - maxQueue;
    if (over > 0) queue.splice(0, Math.min(over, queue.length));
  }

  // Events stamped with more consent than the visitor now gives, or with
  // `none`, are dropped: nothing collected under a consent the visitor has
  // not given (or has withdrawn) is sent.
  function allowed(e) {
    const stamped = e && e.context && e.context.consent;
    return level !== 'none' && stamped !== 'none' && consentRank(stamped) <= consentRank(level);
  }

  const cancel = (timer) => (timer !== null && attempt(() => clearTimeout(timer), undefined), null);

  function schedule() {
    if (stopped || level === 'none' || flushTimer !== null || retryTimer !== null) return;
    if (queue.length === 0) return;
    flushTimer = setTimeout(() => {
      flushTimer = null;
      flush();
    }, flushMs);
  }

  function backoff(res) {
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempts);
    attempts += 1;
    const hinted = res ? retryAfterMs(res, now()) : null;
    const delay = hinted !== null ? hinted : Math.floor(random() * base); // full jitter
    if (stopped) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      flush();
    }, delay);
  }

  function fail(status) {
    if (!onError || reported.has(status)) return; // once per status: a bad key must not spam
    reported.add(status);
    attempt(() => onError(new Error(`buyerpath: the collector refused a batch (HTTP ${status}); it was dropped`)), undefined);
  }

  function body(batch, withKey) {
    const b = { batch, sentAt: new Date(now()).toISOString() };
    if (withKey) b.writeKey = writeKey; // sendBeacon cannot set headers
    return JSON.stringify(b);
  }

  /** Sends one batch by fetch; resolves to 'ok', 'retry' or 'drop'. */
  async function post(batch, keepalive) {
    const myEpoch = epoch;
    inflight.add(batch);
    persist();
    let outcome;
    let res = null;
    try {
      const init = {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Basic ${base64(`${writeKey}:`)}` },
        body: body(batch, false),
      };
      if (keepalive) init.keepalive = true;
      res = await fetch(url, init);
      const s = res.status;
      outcome = s >= 200 && s < 300 ? 'ok' : s === 429 || s >= 500 ? 'retry' : 'drop';
    } catch {
      outcome = 'retry'; // network error, offline, CORS, aborted
    }
    inflight.delete(batch);
    if (myEpoch !== epoch) return 'gone'; // consent withdrawn meanwhile
    if (outcome === 'ok') attempts = 0;
    if (outcome === 'retry') {
      queue = batch.filter(allowed).concat(queue);
      trim();
      if (retryTimer === null) backoff(res);
    }
    if (outcome === 'drop') fail(res.status);
    persist();
    return outcome;
  }

  async function loop() {
    while (queue.length > 0 && level !== 'none' && retryTimer === null) {
      const outcome = await post(queue.splice(0, maxBatch), false);
      if (outcome === 'retry' || outcome === 'gone') break;
    }
  }

  function beaconFlush() {
    const sendBeacon = attempt(() => navigator.sendBeacon.bind(navigator), null);
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      const text = body(batch, true);
      const fits = utf8(text).length < BEACON_LIMIT;
      const sent = fits && sendBeacon !== null && attempt(() => sendBeacon(url, text) === true, false);
      // A queued beacon cannot be confirmed: it counts as delivered.
      if (!sent) post(batch, true); // too big or refused: fetch with keepalive
    }
    persist();
  }

  function flush({ beacon = false } = {}) {
    flushTimer = cancel(flushTimer);
    if (level === 'none' || queue.length === 0) return active || Promise.resolve();
    if (beacon) {
      beaconFlush();
      return Promise.resolve();
    }
    if (active || retryTimer !== null) return active || Promise.resolve(); // backing off
    active = loop().finally(() => {
      active = null;
      if (queue.length >= maxBatch && retryTimer === null && level !== 'none') flush();
      else schedule();
    });
    return active;
  }

  function enqueue(events) {
    if (level === 'none') return;
    const list = Array.isArray(events) ? events : [events];
    for (const e of list) {
      if (!e || typeof e !== 'object' || !allowed(e)) continue;
      // Stamped now with the current level, unless the event already names
      // the (lower or equal) level it was built under.
      const own = e.context && e.context.consent;
      queue.push({ ...e, context: { ...(e.context || {}), consent: CONSENT_LEVELS.includes(own) ? own : level } });
    }
    trim();
    persist();
    if (queue.length >= maxBatch) flush();
    else schedule();
  }

  function setConsent(next) {
    const prev = level;
    level = normalizeConsent(next);
    if (level === 'none') {
      epoch += 1;
      queue = [];
      inflight.clear();
      flushTimer = cancel(flushTimer);
      retryTimer = cancel(retryTimer);
      attempts = 0;
      persist(); // erases the stored queue
    } else if (prev === 'none') {
      restore();
    } else {
      queue = queue.filter(allowed);
      persist();
    }
    schedule();
  }

  // Restores what an earlier page left behind. Not done at `none`, but not
  // erased either: a consent manager often answers only after the page has
  // started, and its answer (setConsent) then brings the queue back.
  function restore() {
    if (!ls || level === 'none') return;
    const saved = attempt(() => JSON.parse(ls.getItem(storageKey) || '[]'), []);
    if (Array.isArray(saved)) queue = saved.filter((e) => e && typeof e === 'object' && allowed(e)).concat(queue);
    trim();
    persist();
  }

  restore();
  schedule();

  return {
    enqueue,
    flush,
    setConsent,
    size: pending,
    stop() {
      stopped = true;
      flushTimer = cancel(flushTimer);
      retryTimer = cancel(retryTimer);
    },
  };
}
