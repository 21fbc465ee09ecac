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
// Dropped` event as soon as the queue has room again; so are the events of a
// batch the collector refuses for good (a 4xx other than 408 and 429), by
// status. A 413 for several events sends them again in halves first.
//
// A beacon cannot be confirmed, so it is only used while the collector is
// known to answer: after a failed request (or when the browser says it is
// offline) the last flush of a page is a keepalive fetch instead, and its
// events stay in the stored queue until a response confirms them — the next
// page sends them again if this one is gone by then (the store dedupes by
// messageId). Events restored from storage never leave by beacon (an earlier
// page may have left them because the collector was down).
//
// Several tabs of a site share the stored queue: each sender merges its own
// events into what the others stored (by messageId) instead of overwriting
// it, and removes only the events it has itself delivered or dropped. A
// sender sends the stored events it restored too (the collector dedupes the
// ones their own tab sends as well), but only its own count as drops when
// the queue overflows. The unreported drop count is stored once, by the
// sender that last wrote it, which alone reports it (see storeDrops).
//
// Sizes follow Segment's HTTP API (32 KB an event, 500 KB a request) and
// the browsers' 64 KiB for a beacon or keepalive body: an event over
// EVENT_LIMIT is refused at enqueue (reported, and counted as dropped), and
// a batch ends where its body would pass BATCH_LIMIT (BEACON_BATCH_LIMIT
// when the page goes away); the events left over go in the next one.
//
// No DOM is used: everything that touches the outside (fetch, sendBeacon,
// localStorage, the clock, timers, randomness) is injectable, so the module
// runs in Node and in tests.

import { CONSENT_LEVELS, attempt, consentRank, normalizeConsent } from './storage.js';

/** Browsers refuse beacons (and keepalive bodies) past 64 KiB. */
export const BEACON_LIMIT = 64 * 1024;
/** Largest event, as JSON in UTF-8 bytes (Segment's 32 KB; the collector drops bigger ones). */
const EVENT_LIMIT = 32 * 1024;
/** Largest request body by fetch (Segment and the collector take 500 KB; analytics.js stops at 450). */
const BATCH_LIMIT = 450 * 1024;
/** Largest body when the page goes away: a beacon's 64 KiB, less room for the page's other keepalive requests. */
const BEACON_BATCH_LIMIT = BEACON_LIMIT - 4 * 1024;
const MAX_BACKOFF_MS = 60_000;
// Retry-After is honoured, but capped so that a huge value cannot overflow a
// 32-bit timer (which would fire at once) or stall the queue for days.
const MAX_RETRY_AFTER_MS = 3_600_000;
// No retry comes sooner than this, whatever the jitter draws or Retry-After
// says (`0`, or a date already past): a collector that keeps answering 429
// with `Retry-After: 0` (or a jitter draw near 0) would otherwise get
// requests in a tight loop. Half the first backoff step keeps the first
// retry jittered (0.5 to 1 s).
const MIN_RETRY_MS = 500;
const UNSET = Symbol('unset');
// Full batches delivered before a 413-lowered bound doubles: a
// collector whose limit it was then costs one 413 every few requests.
const GROW_AFTER = 4;

/** Signals kept longest when the queue overflows. */
export const ESSENTIAL_EVENTS = Object.freeze(['MQL Reached', 'SQL Reached', 'Sales Trigger Fired', 'Stage Changed']);
/** The event that reports dropped events: `properties: { dropped, essential_dropped, rejected? }`. */
export const DROPPED_EVENT = 'Signals Dropped';

const isEssential = (e) => ESSENTIAL_EVENTS.includes(e && e.event);
const isReport = (e) => Boolean(e && e.type === 'track' && e.event === DROPPED_EVENT && e.properties);
const count = (x) => (Number.isSafeInteger(x) && x > 0 ? x : 0);
const plain = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
const str = (x) => (typeof x === 'string' ? x : undefined);
let senders = 0; // tells apart the senders of one page (see `owner`)

/** Erases the queue a sender keeps under `storageKey` (and its drop count) from `ls`. */
export function eraseQueue(ls, storageKey = 'bp_queue') {
  if (!ls) return;
  for (const key of [storageKey, `${storageKey}_dropped`, `${storageKey}_down`, `${storageKey}_wait`]) attempt(() => ls.removeItem(key), undefined);
}

// How long a failed request keeps the next pages from trusting beacons (the
// collector's outage is likely not over).
const DOWN_MS = 10 * 60_000;

function utf8(s) {
  return new TextEncoder().encode(s);
}

/** An event's size as sent (its JSON in UTF-8 bytes), measured once per event object. */
const sizes = new WeakMap();
function bytes(e) {
  if (!sizes.has(e)) sizes.set(e, utf8(JSON.stringify(e)).length);
  return sizes.get(e);
}

function base64(s) {
  // btoa only takes Latin-1: go through UTF-8 so any write key works.
  let bin = '';
  for (const b of utf8(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * An error for `onError`, shaped as the layer's and the engine's others
 * (`code`, `hint`), so that a host can tell them apart without reading the
 * message.
 */
function senderError(code, message, hint, extra = {}) {
  // `path: '$'`: the event (or the batch) as a whole.
  return Object.assign(new Error(`buyerpath: ${message}`), { name: 'BuyerpathError', code, path: '$', hint, ...extra });
}

// What to check when the collector refuses a batch, by status.
function refusalHint(status) {
  if (status === 401 || status === 403) return 'check the writeKey: the collector does not take it';
  // Batches of several events were sent again in halves first: one event alone was too large.
  if (status === 413) return 'the collector takes no request as large as this one event: send less in its properties, or raise the collector\'s request limit';
  return 'the collector\'s answer says why (see its log); the batch is not sent again';
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
  timeoutMs = 10_000,
  storageKey = 'bp_queue',
  crypto = attempt(() => globalThis.crypto, undefined),
  onError,
} = {}) {
  const ls = localStorage === UNSET ? attempt(() => globalThis.localStorage, undefined) : localStorage;
  const dropsKey = `${storageKey}_dropped`;
  // (Within a 32-bit timer: a longer one would fire at once.)
  const waitMs = Number(timeoutMs) > 0 ? Math.min(Number(timeoutMs), 2 ** 31 - 1) : 10_000;
  const url = `${String(endpoint || '').replace(/\/+$/, '')}/v1/batch`;
  let level = normalizeConsent(consent);
  let queue = [];
  const inflight = new Set(); // batches sent but not yet acknowledged
  let active = null; // the running flush loop (one at a time keeps order)
  let flushTimer = null;
  let retryTimer = null;
  let attempts = 0; // consecutive failures, for the backoff
  // Until when the collector asked (Retry-After) to be sent nothing: the
  // page-exit flush keeps its events stored instead (see beaconFlush), and
  // no request leaves before then. Stored (`waitKey`, below) for the next
  // pages and the other tabs, which wait it out too.
  let notBefore = 0;
  let epoch = 0; // bumped on consent `none`: late responses are then ignored
  let stopped = false;
  // Whether the collector answered this sender's last request (beacons are
  // trusted only then, and while no request of this site's failed in the
  // last DOWN_MS with no answer since: `${storageKey}_down` holds the time
  // of that failure, for the next pages and the other tabs).
  const downKey = `${storageKey}_down`;
  const waitKey = `${storageKey}_wait`;
  // Until when the collector asked to be sent nothing: this sender's
  // Retry-After, or one another page or tab stored. A wait longer than a
  // Retry-After can ask for (the clock was set back, a garbled value) is
  // none: the sender must not go quiet for it.
  const waitUntil = () => {
    const kept = ls ? Number(attempt(() => ls.getItem(waitKey), null)) : 0;
    const until = Math.max(notBefore, Number.isFinite(kept) ? kept : 0);
    return until - now() > MAX_RETRY_AFTER_MS ? 0 : until;
  };
  let reachable = true;
  // Another page's or tab's failure (or this one's) in the last DOWN_MS, unanswered since.
  const recentlyDown = () => {
    const since = Number(attempt(() => ls.getItem(downKey), null));
    return since > 0 && Math.abs(now() - since) < DOWN_MS;
  };
  const reported = new Set(); // statuses already passed to onError
  // Drops not yet reported (`rejected`: of them, those the collector
  // refused, by HTTP status), and who the last dropped event was about.
  const none = () => ({ dropped: 0, essential: 0, rejected: {}, anonymousId: undefined, userId: undefined });
  let drops = none();
  // The drop record this sender last stored (the string as written, and the
  // counts in it), and the mark that makes its records its own.
  let wrote = null;
  let wroteCounts = { dropped: 0, essential: 0, rejected: {} };
  // Most events a request holds: maxBatch, halved at each 413 of a batch of
  // several (the collector takes less than this sender makes), and doubled
  // again (up to maxBatch) after GROW_AFTER full batches delivered since it last changed:
  // one large event can bring it down to 1, and it would stay there.
  let most = Infinity;
  let fits = 0; // full batches delivered since the bound last changed
  const owner = `${now()}-${Math.floor(random() * 1e9)}-${(senders += 1)}`;
  // The messageIds this sender delivered or dropped since it last wrote the
  // stored queue: they leave the stored queue at the next write, even when
  // another tab stored them. Cleared at each write, and capped (the oldest
  // ids go first) where every write fails (old Safari's private mode): the
  // stored queue never holds more than maxQueue events anyway.
  const done = new Set();
  const doneMax = Math.max(2 * (Number(maxQueue) || 0), 20);
  const settled = (list) => {
    for (const e of list) if (e && typeof e.messageId === 'string') done.add(e.messageId);
    for (const id of done) {
      if (done.size <= doneMax) break;
      done.delete(id);
    }
  };
  // The events this sender restored from storage rather than enqueued (the
  // very objects, in its queue or in flight): another tab may still hold
  // them, or an earlier page may have left them undelivered. They are sent,
  // but never by beacon, and cutting them on overflow is not counted as a
  // drop (see trim).
  const adopted = new WeakSet();

  const pending = () => [...inflight].reduce((n, b) => n + b.length, queue.length);

  // A stored event worth keeping: a plain object stamped with a known level
  // other than `none` (not foreign data). Kept whatever this tab's level:
  // another tab may have been given more consent (a raise is not broadcast),
  // and only a withdrawal here erases what was collected above it (persist).
  function shaped(e) {
    return plain(e) && plain(e.context) && CONSENT_LEVELS.includes(e.context.consent) && e.context.consent !== 'none';
  }

  // An event this sender may send: shaped, and stamped with a level allowed now.
  function storable(e) {
    return shaped(e) && allowed(e);
  }

  // The stored queue as last read or written here (its text and events):
  // parsed again only when another tab has changed it since.
  let read = { text: null, list: [] };
  function stored(keep) {
    const text = attempt(() => ls.getItem(storageKey), null);
    if (text === null || text !== read.text) {
      const saved = attempt(() => JSON.parse(text || '[]'), []);
      read = { text, list: Array.isArray(saved) ? saved : [] };
    }
    return read.list.filter(keep);
  }

  // `withdrawn`: the level was just lowered, so the stored events collected
  // above it go too, whichever tab stored them (the others lower theirs as
  // they hear of it).
  function persist(withdrawn = false) {
    if (!ls) return;
    if (level === 'none') {
      eraseQueue(ls, storageKey);
      wrote = null;
      done.clear();
      return;
    }
    // A stopped sender leaves the stored queue alone: a newer one (the page
    // restarted the layer) has restored it and owns it now.
    if (stopped) return;
    // In-flight batches are kept too: if the page dies before the answer,
    // the next page load sends them again (the store dedupes by messageId).
    // (All are allowed now: enqueue and restore take only storable events,
    // and a lowered level takes the others out of queue and flight alike.)
    const own = [...inflight].flat().concat(queue);
    const ownIds = new Set(own.map((e) => e.messageId));
    // Other tabs' events stay stored (by messageId), unless this sender has
    // delivered or dropped them itself: a tab closed during an outage leaves
    // them to the next page. Bounded like the queue: past maxQueue, other
    // tabs' events are cut first (a tab still open holds its own and stores
    // them again), and not counted, as only the stored copy goes. This
    // sender's own are cut only if they alone exceed the bound (trim keeps
    // them within it).
    const others = stored(withdrawn ? storable : shaped).filter(
      (e) => typeof e.messageId === 'string' && !ownIds.has(e.messageId) && !done.has(e.messageId),
    );
    const without = (list, cut) => (cut.size > 0 ? list.filter((_, i) => !cut.has(i)) : list);
    const kept = without(others, victims(others, others.length + own.length - maxQueue)).concat(
      without(own, victims(own, own.length - maxQueue)),
    );
    const text = attempt(() => JSON.stringify(kept), null);
    if (text !== null && attempt(() => (ls.setItem(storageKey, text), true), false)) {
      done.clear();
      read = { text, list: kept };
    }
    storeDrops(false);
  }

  // The unreported drops outlive the page too (an outage spans navigations),
  // as one stored record, marked by the sender that wrote it last: that
  // sender alone reports the record's counts. A sender that finds its record
  // replaced (a new page claimed it on restoring, or another tab added its
  // own drops to it) leaves the counts it had stored to the new owner and
  // keeps only its drops since; so one loss is reported once, however many
  // tabs are open. Another sender's record is taken over (added to this
  // sender's count) on restoring, or when this sender has drops to store.
  function storeDrops(claim) {
    if (!ls || level === 'none') return;
    const raw = attempt(() => ls.getItem(dropsKey), null);
    if (wrote !== null && raw !== wrote) {
      drops.dropped = Math.max(0, drops.dropped - wroteCounts.dropped);
      drops.essential = Math.min(drops.dropped, Math.max(0, drops.essential - wroteCounts.essential));
      for (const [status, n] of Object.entries(wroteCounts.rejected)) {
        const left = (drops.rejected[status] || 0) - n;
        if (left > 0) drops.rejected[status] = left;
        else delete drops.rejected[status];
      }
      if (drops.dropped === 0) drops = none();
      wrote = null;
    }
    if (stopped) return; // a stopped sender writes nothing (see persist)
    if (raw !== null && raw !== wrote) {
      if (!claim && drops.dropped === 0) return; // another sender's, left to it
      const d = attempt(() => JSON.parse(raw), null);
      if (plain(d) && count(d.dropped) > 0) {
        const named = drops.anonymousId !== undefined || drops.userId !== undefined;
        addDrops(d);
        if (!named) {
          drops.anonymousId = str(d.anonymousId);
          drops.userId = str(d.userId);
        }
      }
    }
    if (drops.dropped > 0) {
      const saved = JSON.stringify({ ...counts(), anonymousId: drops.anonymousId, userId: drops.userId, owner });
      if (saved !== raw && attempt(() => (ls.setItem(dropsKey, saved), true), false)) {
        wrote = saved;
        wroteCounts = { dropped: drops.dropped, essential: drops.essential, rejected: { ...drops.rejected } };
      }
    } else if (raw !== null) {
      attempt(() => ls.removeItem(dropsKey), undefined); // reported (or garbage)
      wrote = null;
    }
  }

  // The drops as a report's properties (`rejected` only when there are any).
  function counts() {
    const c = { dropped: drops.dropped, essential_dropped: drops.essential };
    if (Object.keys(drops.rejected).length > 0) c.rejected = { ...drops.rejected };
    return c;
  }

  // Adds a report's counts (`{ dropped, essential_dropped, rejected? }`) to the drops.
  function addDrops(report) {
    const n = count(report.dropped);
    drops.dropped += n;
    drops.essential += Math.min(count(report.essential_dropped), n);
    for (const [status, k] of Object.entries(plain(report.rejected) ? report.rejected : {})) {
      if (/^\d{1,3}$/.test(status) && count(k) > 0) drops.rejected[status] = (drops.rejected[status] || 0) + Math.min(count(k), n);
    }
  }

  // `status`: the collector refused the event (with that HTTP status).
  function noteDrop(e, status) {
    if (isReport(e)) {
      // An unsent report that must go too: its counts carry over, so none is lost.
      addDrops(e.properties);
    } else {
      drops.dropped += 1;
      if (isEssential(e)) drops.essential += 1;
      if (status !== undefined) drops.rejected[status] = (drops.rejected[status] || 0) + 1;
    }
    if (e && (typeof e.anonymousId === 'string' || typeof e.userId === 'string')) {
      drops.anonymousId = str(e.anonymousId);
      drops.userId = str(e.userId);
    }
  }

  // The indexes of `over` events of `list` to drop: the oldest non-essential
  // events first, then the oldest essential ones; within each kind, those
  // `first` picks before the others.
  function victims(list, over, first = () => true) {
    const drop = new Set();
    for (const essential of [false, true]) {
      for (const picked of [true, false]) {
        for (let i = 0; i < list.length && drop.size < over; i += 1) {
          if (isEssential(list[i]) === essential && first(list[i]) === picked) drop.add(i);
        }
      }
    }
    return drop;
  }

  // Keeps the queue within maxQueue (in-flight events count), as `victims`
  // says, restored events before this sender's own of the same kind. Only
  // its own are counted as dropped. A restored event is only let go of here
  // (persist then cuts its stored copy too, other tabs' first): a tab still
  // open holds it and stores it again, or counts it if it drops it. One
  // whose page is gone is lost uncounted, but no tab can tell which: no
  // owner is stored, and a hidden or cached tab may still come back; a
  // count here would report twice what its own tab also counts.
  function trim() {
    const drop = victims(queue, pending() - maxQueue, (e) => adopted.has(e));
    if (drop.size === 0) return;
    const gone = queue.filter((e, i) => drop.has(i) && !adopted.has(e));
    for (const e of gone) noteDrop(e);
    settled(gone);
    queue = queue.filter((_, i) => !drop.has(i));
  }

  // Once there is room again, the drops are reported by one event (about the
  // last dropped event's visitor), and the count starts again from zero.
  function reportDrops() {
    storeDrops(false); // another page or tab may have taken the count over
    if (drops.dropped === 0 || level === 'none' || pending() >= maxQueue) return;
    if (drops.anonymousId === undefined && drops.userId === undefined) return; // nobody to attribute it to
    const e = {
      type: 'track',
      event: DROPPED_EVENT,
      messageId: uuid(crypto, random),
      properties: counts(),
      context: { consent: level },
      originalTimestamp: new Date(now()).toISOString(),
    };
    if (drops.anonymousId !== undefined) e.anonymousId = drops.anonymousId;
    if (drops.userId !== undefined) e.userId = drops.userId;
    queue.push(e);
    drops = none();
    // Stored at once, the report with the queue and the count taken off the
    // stored record: a flush while backing off writes nothing else, and
    // another tab opening meanwhile would claim (and report) the count again.
    persist();
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
    const jitter = Math.floor(random() * base); // full jitter
    // Retry-After is a lower bound ("not before"), not a replacement for the
    // backoff: a hint shorter than the jitter (`0`, a past date) still backs
    // off, and nothing is sooner than MIN_RETRY_MS.
    const delay = Math.max(MIN_RETRY_MS, jitter, hinted !== null ? hinted : 0);
    if (hinted !== null) {
      notBefore = now() + hinted;
      if (ls) attempt(() => ls.setItem(waitKey, String(notBefore)), undefined);
    }
    if (stopped) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      flush();
    }, delay);
  }

  // A batch refused for good is lost: counted (by status) for the report,
  // never sent again. A report in it carries its counts over only beside
  // other events: a refused batch of reports alone is let go, or a collector
  // that refuses every batch (a bad write key) would get a report after
  // each, forever.
  function refused(batch, status) {
    if (batch.every(isReport)) return;
    // Restored events too: they leave the stored queue with this answer, and
    // no other page would count them (two tabs refused the same restored
    // events both count them, a rarer error than never counting them).
    for (const e of batch) noteDrop(e, String(status));
  }

  function fail(status) {
    if (!onError || reported.has(status)) return; // once per status: a bad key must not spam
    reported.add(status);
    attempt(() => onError(senderError('batch_refused', `the collector refused a batch (HTTP ${status}); it was dropped`, refusalHint(status), { status })), undefined);
  }

  function body(batch, withKey) {
    const b = { batch, sentAt: new Date(now()).toISOString() };
    if (withKey) b.writeKey = writeKey; // sendBeacon cannot set headers
    return JSON.stringify(b);
  }

  /** Sends one batch by fetch; resolves to 'ok', 'retry', 'split' or 'drop'. */
  async function post(batch, keepalive) {
    const myEpoch = epoch;
    inflight.add(batch);
    persist();
    let outcome;
    let res = null;
    let timer = null;
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
      // A request that never answers (a stalled connection) would hold up
      // every later batch: past timeoutMs it is aborted and retried. (The
      // race covers a fetch that ignores the signal.)
      const abort = attempt(() => new AbortController(), null);
      if (abort) init.signal = abort.signal;
      res = await Promise.race([
        fetch(url, init),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            attempt(() => abort && abort.abort(), undefined);
            reject(new Error('timeout'));
          }, waitMs);
        }),
      ]);
      const s = res.status;
      // 408 (Request Timeout), 429 and 5xx are transient: retried. A 413
      // (too large) for several events: sent again in halves.
      outcome = s >= 200 && s < 300 ? 'ok' : s === 408 || s === 429 || s >= 500 ? 'retry' : s === 413 && batch.length > 1 ? 'split' : 'drop';
    } catch {
      outcome = 'retry'; // network error, offline, CORS, aborted, timed out
    }
    timer = cancel(timer);
    inflight.delete(batch);
    if (myEpoch !== epoch) return 'gone'; // consent withdrawn meanwhile
    if (outcome !== 'retry') {
      reachable = true; // it answered
      notBefore = 0;
      if (ls) {
        attempt(() => ls.getItem(downKey) !== null && ls.removeItem(downKey), undefined);
        attempt(() => ls.getItem(waitKey) !== null && ls.removeItem(waitKey), undefined);
      }
    }
    if (outcome === 'ok' || outcome === 'drop') settled(batch); // delivered, or refused for good
    if (outcome === 'ok') {
      attempts = 0;
      if (batch.length >= most && (fits += 1) >= GROW_AFTER) {
        most = most * 2 < maxBatch ? most * 2 : Infinity;
        fits = 0;
      }
      reportDrops(); // delivered: there is room for the report now
    }
    if (outcome === 'retry' || outcome === 'split') {
      queue = batch.filter(allowed).concat(queue);
      trim();
    }
    if (outcome === 'retry') {
      reachable = false;
      if (ls) attempt(() => ls.setItem(downKey, String(now())), undefined);
      if (retryTimer === null) backoff(res);
    }
    if (outcome === 'split') {
      // Later requests hold at most half as many events: each 413 halves
      // the bound (a late answer to a larger batch never raises it), and one
      // event refused alone is dropped, so this ends. It grows back after a
      // run of full batches delivered (see `most`); the next page's sender
      // starts whole.
      most = Math.min(most, Math.ceil(batch.length / 2));
      fits = 0;
      if (keepalive) schedule(); // no loop to send the halves (the page may stay)
    }
    if (outcome === 'drop') {
      refused(batch, res.status);
      fail(res.status);
    }
    persist();
    return outcome;
  }

  // Takes the next batch off the queue: up to maxBatch events (fewer after a
  // 413) whose request body stays within `limit` bytes (at least one event,
  // whatever its size).
  function take(limit) {
    let size = utf8(body([], true)).length;
    let n = 0;
    for (; n < queue.length && (n === 0 || n < Math.min(maxBatch, most)); n += 1) {
      size += bytes(queue[n]) + (n > 0 ? 1 : 0); // the comma before it
      if (n > 0 && size > limit) break;
    }
    return queue.splice(0, n);
  }

  async function loop() {
    while (!stopped && queue.length > 0 && level !== 'none' && retryTimer === null) {
      const outcome = await post(take(BATCH_LIMIT), false);
      if (outcome === 'retry' || outcome === 'gone') break;
    }
  }

  function beaconFlush() {
    // A collector that asked to wait (a 429 or 503 with Retry-After) is not
    // sent anything before then, not even a page's last request: the events
    // are stored, for this page's retry (if it stays) or the next page's.
    // Unless they are not (no storage, a failed write): this request is then
    // their only chance. (A failure without Retry-After still gets the last
    // request: the backoff is only this sender's pacing.)
    if (now() < waitUntil()) {
      const kept = new Set(stored(plain).map((e) => e.messageId));
      if (queue.every((e) => kept.has(e.messageId))) return;
    }
    // Unconfirmed delivery is only trusted while the collector answers.
    const trusted = reachable && !recentlyDown() && attempt(() => navigator.onLine !== false, true);
    const sendBeacon = trusted ? attempt(() => navigator.sendBeacon.bind(navigator), null) : null;
    // Beacon-sized, as a keepalive fetch must be too: the events that do not
    // fit are tried in the next one. Browsers share one 64 KiB budget among a
    // page's pending beacons and keepalive fetches, so past the first the
    // next are often refused: their events stay stored for the next page.
    // Each event is tried once: a request that fails at once (a `fetch` that
    // throws) puts its events back at the front of the queue, and this flush
    // then stops (the drop report, queued at the end, may still go).
    const tried = new Set();
    while (queue.length > 0 && !tried.has(queue[0])) {
      let batch = take(BEACON_BATCH_LIMIT);
      for (const e of batch) tried.add(e);
      // Restored events go by keepalive fetch (kept until answered): this
      // sender cannot tell whether the page that left them found the
      // collector down.
      const restored = batch.filter((e) => adopted.has(e));
      if (restored.length > 0) {
        post(restored, true);
        batch = batch.filter((e) => !adopted.has(e));
        if (batch.length === 0) continue;
      }
      const text = attempt(() => body(batch, true), null);
      const sent = text !== null && sendBeacon !== null && attempt(() => sendBeacon(url, text) === true, false);
      // A queued beacon cannot be confirmed: it counts as delivered (and
      // makes room for the drop report, which then leaves with the next one).
      if (sent) {
        settled(batch);
        reportDrops();
      } else post(batch, true); // refused or not trusted: fetch with keepalive (kept until answered)
    }
    persist();
  }

  function flush({ beacon = false } = {}) {
    flushTimer = cancel(flushTimer);
    // A stopped sender sends nothing more (a newer one owns the queue).
    if (stopped) return active || Promise.resolve();
    reportDrops();
    if (level === 'none' || queue.length === 0) return active || Promise.resolve();
    if (beacon) {
      beaconFlush();
      return Promise.resolve();
    }
    if (active || retryTimer !== null) return active || Promise.resolve(); // backing off
    const until = waitUntil();
    if (now() < until) {
      // A wait the collector asked this page, another page or a tab for:
      // the next request waits it out.
      retryTimer = setTimeout(() => {
        retryTimer = null;
        flush();
      }, until - now());
      return Promise.resolve();
    }
    // Never rejects: every step of the loop is guarded, and this is the last word.
    active = loop().catch(() => undefined).finally(() => {
      active = null;
      if (stopped) return;
      if (queue.length >= maxBatch && retryTimer === null && level !== 'none') flush();
      else schedule();
    });
    return active;
  }

  function enqueue(events) {
    if (level === 'none') return;
    const list = Array.isArray(events) ? events : [events];
    for (const e of list) {
      if (!plain(e) || !allowed(e)) continue;
      // Stamped now with the current level, unless the event already names
      // the (lower or equal) level it was built under.
      const context = plain(e.context) ? e.context : {};
      const own = context.consent;
      const stamped = { ...e, context: { ...context, consent: CONSENT_LEVELS.includes(own) ? own : level } };
      // Queued as the JSON it will be sent as (later changes by the host do
      // not reach it). An event JSON cannot encode (a BigInt, a cycle, a
      // toJSON that loses the consent stamp) is refused here, rather than
      // blocking its batch at every flush.
      let copy = null;
      let why = 'not an event once in JSON';
      try {
        copy = JSON.parse(JSON.stringify(stamped));
      } catch (err) {
        why = String(err && err.message);
      }
      if (!storable(copy)) {
        if (onError) attempt(() => onError(senderError('event_not_json', `an event that cannot be sent as JSON was refused (${why})`, 'pass events of plain JSON values (no BigInt, no cycles)')), undefined);
        continue;
      }
      // Every event has a messageId: the collector dedupes resends by it, and
      // the tabs sharing the stored queue tell their events apart by it.
      if (typeof copy.messageId !== 'string' || copy.messageId === '') copy.messageId = uuid(crypto, random);
      // One too big for the collector would be dropped there unseen: it is
      // dropped here, reported and counted (the Signals Dropped report).
      const size = bytes(copy);
      if (size > EVENT_LIMIT) {
        noteDrop(copy);
        const err = senderError('event_too_large', `an event of ${size} bytes as JSON (over ${EVENT_LIMIT}) was refused`, 'keep each event within 32 KiB as JSON (Segment\'s limit, and the collector\'s)');
        if (onError) attempt(() => onError(err), undefined);
        continue;
      }
      queue.push(copy);
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
      drops = none();
      flushTimer = cancel(flushTimer);
      retryTimer = cancel(retryTimer);
      attempts = 0;
      persist(); // erases the stored queue
    } else if (prev === 'none') {
      restore();
    } else {
      // Withdrawn (queued or in flight): out of the stored queue too.
      // Taken out of their in-flight batches too, so that neither a raised
      // level nor the batch's retry brings them back.
      const gone = queue.filter((e) => !allowed(e));
      for (const b of inflight) {
        for (let i = b.length - 1; i >= 0; i -= 1) if (!allowed(b[i])) gone.push(...b.splice(i, 1));
      }
      settled(gone);
      queue = queue.filter(allowed);
      persist(consentRank(level) < consentRank(prev));
    }
    schedule();
  }

  // Restores what an earlier page left behind. Not done at `none`, but not
  // erased either: a consent manager often answers only after the page has
  // started, and its answer (setConsent) then brings the queue back.
  // Only events stamped with a level allowed now are restored (`storable`);
  // the stored drop count is claimed (see storeDrops).
  //
  // Restoring does not make the collector untrusted (`reachable`): another
  // open tab may simply hold events not sent yet, and only failed requests
  // (this sender's, or a recent one's: `downKey`) tell it the collector is
  // down. The restored events
  // themselves never leave by beacon (see beaconFlush), so those an earlier
  // page could not deliver stay stored until a response confirms them.
  function restore() {
    if (!ls || level === 'none') return;
    const left = stored(storable);
    for (const e of left) {
      if (typeof e.messageId !== 'string' || e.messageId === '') e.messageId = uuid(crypto, random);
      adopted.add(e);
    }
    queue = left.concat(queue);
    storeDrops(true);
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
