// Sends signals to the central store in the Segment HTTP API shape
// (`POST {endpoint}/v1/batch`), the way analytics.js does: batches of
// `maxBatch` events or every `flushMs`, a beacon when the page goes away,
// retries with capped exponential backoff and full jitter, and a bounded queue
// persisted in localStorage so that events survive a navigation.
//
// When the queue is full (a long outage), the oldest non-essential events go
// first (recommendations, classifications); the essential ones (MQL, SQL,
// sales triggers, stage changes) only when nothing else is left. The drops
// are counted (and the count persisted), and reported by one `Signals
// Dropped` event as soon as the queue has room again.
//
// A beacon cannot be confirmed, so it is only used while the collector is
// known to answer: after a failed request (or when the page restored events an
// earlier page could not deliver, or the browser says it is offline) the
// last flush of a page is a keepalive fetch instead, and its events stay in
// the stored queue until a response confirms them — the next page sends them
// again if this one is gone by then (the store dedupes by messageId).
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

/** Signals kept longest when the queue overflows. */
export const ESSENTIAL_EVENTS = Object.freeze(['MQL Reached', 'SQL Reached', 'Sales Trigger Fired', 'Stage Changed']);
/** The event that reports overflow drops: `properties: { dropped, essential_dropped }`. */
export const DROPPED_EVENT = 'Signals Dropped';

const isEssential = (e) => ESSENTIAL_EVENTS.includes(e && e.event);
const count = (x) => (Number.isSafeInteger(x) && x > 0 ? x : 0);

/** Erases the queue a sender keeps under `storageKey` (and its drop count) from `ls`. */
export function eraseQueue(ls, storageKey = 'bp_queue') {
  if (!ls) return;
  attempt(() => ls.removeItem(storageKey), undefined);
  attempt(() => ls.removeItem(`${storageKey}_dropped`), undefined);
}

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

/** A random v4 UUID: randomUUID() when there is one (secure contexts), else getRandomValues. */
function uuid(crypto, random) {
  const id = attempt(() => crypto.randomUUID(), null);
  if (typeof id === 'string' && id) return id;
  const b = new Uint8Array(16);
  if (!attempt(() => (crypto.getRandomValues(b), true), false)) {
    for (let i = 0; i < 16; i += 1) b[i] = Math.floor(random() * 256) & 0xff;
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
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
  crypto = attempt(() => globalThis.crypto, undefined),
  onError,
} = {}) {
  const ls = localStorage === UNSET ? attempt(() => globalThis.localStorage, undefined) : localStorage;
  const dropsKey = `${storageKey}_dropped`;
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
  // Whether the collector is known to answer (beacons are then trusted).
  let reachable = true;
  const reported = new Set(); // statuses already passed to onError
  // Overflow drops not yet reported, and who the last dropped event was about.
  let drops = { dropped: 0, essential: 0, anonymousId: undefined, userId: undefined };
  let dropsStored = true; // whether dropsKey may hold something to erase

  const pending = () => [...inflight].reduce((n, b) => n + b.length, queue.length);

  function persist() {
    if (!ls) return;
    if (level === 'none') {
      eraseQueue(ls, storageKey);
      dropsStored = false;
      return;
    }
    // A stopped sender leaves the stored queue alone: a newer one (the page
    // restarted the layer) has restored it and owns it now.
    if (stopped) return;
    // In-flight batches are kept too: if the page dies before the answer,
    // the next page load sends them again (the store dedupes by messageId).
    const all = [];
    for (const b of inflight) all.push(...b);
    all.push(...queue);
    attempt(() => ls.setItem(storageKey, JSON.stringify(all)), undefined);
    // The unreported drops outlive the page too: an outage spans navigations.
    if (drops.dropped > 0) {
      const saved = { dropped: drops.dropped, essential_dropped: drops.essential, anonymousId: drops.anonymousId, userId: drops.userId };
      dropsStored = attempt(() => (ls.setItem(dropsKey, JSON.stringify(saved)), true), dropsStored);
    } else if (dropsStored) {
      attempt(() => ls.removeItem(dropsKey), undefined);
      dropsStored = false;
    }
  }

  function noteDrop(e) {
    if (e && e.type === 'track' && e.event === DROPPED_EVENT && e.properties) {
      // An unsent report that must go too: its counts carry over, so none is lost.
      drops.dropped += count(e.properties.dropped);
      drops.essential += Math.min(count(e.properties.essential_dropped), count(e.properties.dropped));
    } else {
      drops.dropped += 1;
      if (isEssential(e)) drops.essential += 1;
    }
    if (e && (typeof e.anonymousId === 'string' || typeof e.userId === 'string')) {
      drops.anonymousId = typeof e.anonymousId === 'string' ? e.anonymousId : undefined;
      drops.userId = typeof e.userId === 'string' ? e.userId : undefined;
    }
  }

  // Keeps the queue within maxQueue (in-flight events count): the oldest
  // non-essential events are dropped first, then the oldest essential ones.
  function trim() {
    let over = pending() - maxQueue;
    if (over <= 0) return;
    const drop = new Set();
    for (const essential of [false, true]) {
      for (let i = 0; i < queue.length && over > 0; i += 1) {
        if (isEssential(queue[i]) === essential && !drop.has(i)) {
          drop.add(i);
          over -= 1;
        }
      }
    }
    for (const i of [...drop].sort((a, b) => a - b)) noteDrop(queue[i]);
    queue = queue.filter((_, i) => !drop.has(i));
  }

  // Once there is room again, the drops are reported by one event (about the
  // last dropped event's visitor), and the count starts again from zero.
  function reportDrops() {
    if (drops.dropped === 0 || level === 'none' || pending() >= maxQueue) return;
    if (drops.anonymousId === undefined && drops.userId === undefined) return; // nobody to attribute it to
    const e = {
      type: 'track',
      event: DROPPED_EVENT,
      messageId: uuid(crypto, random),
      properties: { dropped: drops.dropped, essential_dropped: drops.essential },
      context: { consent: level },
      originalTimestamp: new Date(now()).toISOString(),
    };
    if (drops.anonymousId !== undefined) e.anonymousId = drops.anonymousId;
    if (drops.userId !== undefined) e.userId = drops.userId;
    queue.push(e);
    drops = { dropped: 0, essential: 0, anonymousId: undefined, userId: undefined };
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
        // The page's URL (its query string may hold an e-mail or a token)
        // is no business of the collector's, nor of any log in front of it.
        referrerPolicy: 'no-referrer',
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
    if (outcome !== 'retry') reachable = true; // it answered
    if (outcome === 'ok') {
      attempts = 0;
      reportDrops(); // delivered: there is room for the report now
    }
    if (outcome === 'retry') {
      reachable = false;
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
    // Unconfirmed delivery is only trusted while the collector answers.
    const trusted = reachable && attempt(() => navigator.onLine !== false, true);
    const sendBeacon = trusted ? attempt(() => navigator.sendBeacon.bind(navigator), null) : null;
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      const text = body(batch, true);
      const fits = utf8(text).length < BEACON_LIMIT;
      const sent = fits && sendBeacon !== null && attempt(() => sendBeacon(url, text) === true, false);
      // A queued beacon cannot be confirmed: it counts as delivered (and
      // makes room for the drop report, which then leaves with the next one).
      if (sent) reportDrops();
      else post(batch, true); // too big, refused or not trusted: fetch with keepalive (kept until answered)
    }
    persist();
  }

  function flush({ beacon = false } = {}) {
    flushTimer = cancel(flushTimer);
    reportDrops();
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
    reportDrops();
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
      drops = { dropped: 0, essential: 0, anonymousId: undefined, userId: undefined };
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
    if (Array.isArray(saved)) {
      const left = saved.filter((e) => e && typeof e === 'object' && allowed(e));
      // Left behind by an earlier page: its delivery was not confirmed.
      if (left.length > 0) reachable = false;
      queue = left.concat(queue);
    }
    const d = attempt(() => JSON.parse(ls.getItem(dropsKey) || 'null'), null);
    if (d && typeof d === 'object' && count(d.dropped) > 0) {
      noteDrop({ type: 'track', event: DROPPED_EVENT, anonymousId: d.anonymousId, userId: d.userId, properties: d });
    }
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
