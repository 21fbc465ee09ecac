import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSender, BEACON_LIMIT } from '../../pkg-template/layer/sender.js';
import { fakeClock, fakeFetch, fakeLocalStorage, fakeNavigator, settle } from './fakes.mjs';

const ENDPOINT = 'https://collect.example.com/';

function ev(i, extra = {}) {
  return { type: 'track', event: 'Visitor Classified', messageId: `m${i}`, anonymousId: 'a', properties: { i }, ...extra };
}

function setup(opts = {}) {
  const clock = fakeClock();
  const fetch = fakeFetch(opts.script || []);
  const navigator = fakeNavigator(opts.nav);
  const localStorage = opts.localStorage || fakeLocalStorage();
  const errors = [];
  const sender = createSender({
    endpoint: ENDPOINT,
    writeKey: 'wk_live',
    consent: 'anonymous',
    fetch,
    navigator,
    localStorage,
    now: clock.now,
    random: () => 1,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    onError: (e) => errors.push(e),
    ...opts.sender,
  });
  return { clock, fetch, navigator, localStorage, sender, errors };
}

const ids = (req) => req.body.batch.map((e) => e.properties.i);

test('consent none: no request at all and nothing stored, even after enqueue and flush', async () => {
  const { clock, fetch, navigator, localStorage, sender } = setup({ sender: { consent: 'none' } });
  sender.enqueue([ev(1), ev(2)]);
  for (let i = 0; i < 20; i += 1) sender.enqueue(ev(10 + i));
  await sender.flush();
  await sender.flush({ beacon: true });
  await clock.advance(120_000);
  assert.equal(fetch.requests.length, 0);
  assert.equal(navigator.beacons.length, 0);
  assert.equal(localStorage.map.size, 0);
  assert.equal(sender.size(), 0);
});

test('switching to none empties the queue and its storage, and ignores answers in flight', async () => {
  const { clock, fetch, localStorage, sender } = setup({ script: ['network'], sender: { maxBatch: 2 } });
  sender.enqueue([ev(1), ev(2), ev(3)]); // 1,2 go out and fail; 3 waits
  await settle();
  assert.equal(fetch.requests.length, 1);
  assert.ok(localStorage.map.has('bp_queue'));
  sender.setConsent('none');
  assert.equal(sender.size(), 0);
  assert.equal(localStorage.map.has('bp_queue'), false);
  assert.equal(clock.pending(), 0, 'the retry timer is cancelled');
  await clock.advance(600_000);
  sender.enqueue(ev(4));
  await sender.flush();
  assert.equal(fetch.requests.length, 1, 'nothing after consent none');
  assert.equal(localStorage.map.has('bp_queue'), false);
});

test('an answer arriving after consent none does not bring the batch back', async () => {
  let answer;
  const clock = fakeClock();
  const localStorage = fakeLocalStorage();
  const sender = createSender({
    endpoint: ENDPOINT,
    consent: 'full',
    fetch: () => new Promise((r) => (answer = r)),
    localStorage,
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  sender.enqueue(ev(1));
  const done = sender.flush();
  sender.setConsent('none');
  answer({ status: 503, headers: { get: () => null } });
  await done;
  assert.equal(sender.size(), 0);
  assert.equal(clock.pending(), 0);
  assert.equal(localStorage.map.size, 0);
});

test('batches by size: nothing before maxBatch, then one POST of 10 to {endpoint}/v1/batch', async () => {
  const { clock, fetch, sender } = setup();
  for (let i = 0; i < 9; i += 1) sender.enqueue(ev(i));
  await settle();
  assert.equal(fetch.requests.length, 0);
  sender.enqueue(ev(9));
  await settle();
  assert.equal(fetch.requests.length, 1);
  const [req] = fetch.requests;
  assert.equal(req.url, 'https://collect.example.com/v1/batch');
  assert.equal(req.init.method, 'POST');
  assert.equal(req.init.headers['Content-Type'], 'application/json');
  assert.equal(req.init.headers.Authorization, `Basic ${Buffer.from('wk_live:').toString('base64')}`);
  assert.equal(req.init.referrerPolicy, 'no-referrer', 'the page URL (and its query string) is not sent as Referer');
  assert.deepEqual(ids(req), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(req.body.sentAt, new Date(clock.now()).toISOString());
  assert.equal(req.body.writeKey, undefined, 'the key travels in the header');
  assert.equal(sender.size(), 0);
});

test('a large enqueue goes out in batches of maxBatch, in order', async () => {
  const { fetch, sender } = setup();
  sender.enqueue(Array.from({ length: 25 }, (_, i) => ev(i)));
  await settle();
  await sender.flush();
  assert.deepEqual(fetch.requests.map((r) => r.body.batch.length), [10, 10, 5]);
  assert.deepEqual(fetch.requests.flatMap(ids), Array.from({ length: 25 }, (_, i) => i));
});

test('batches by time: a partial batch goes out after flushMs', async () => {
  const { clock, fetch, sender } = setup();
  sender.enqueue([ev(1), ev(2), ev(3)]);
  await clock.advance(4999);
  assert.equal(fetch.requests.length, 0);
  await clock.advance(1);
  assert.equal(fetch.requests.length, 1);
  assert.deepEqual(ids(fetch.requests[0]), [1, 2, 3]);
});

test('retries 500s with exponential backoff (1 s, 2 s, 4 s) then succeeds', async () => {
  const { clock, fetch, sender } = setup({ script: [500, 502, 503, 200] });
  sender.enqueue(ev(1));
  await sender.flush();
  assert.equal(fetch.requests.length, 1);
  await clock.advance(999);
  assert.equal(fetch.requests.length, 1, 'not before the backoff');
  await clock.advance(1);
  assert.equal(fetch.requests.length, 2);
  await clock.advance(2000);
  assert.equal(fetch.requests.length, 3);
  await clock.advance(4000);
  assert.equal(fetch.requests.length, 4);
  assert.deepEqual(fetch.requests.map(ids), [[1], [1], [1], [1]]);
  assert.equal(sender.size(), 0);
  assert.deepEqual(clock.delays.filter((d) => d !== 5000), [1000, 2000, 4000]);
});

test('backoff uses full jitter and is capped at 60 s; network errors are retried', async () => {
  const clock = fakeClock();
  const fetch = fakeFetch(Array(10).fill('network'));
  const sender = createSender({
    endpoint: ENDPOINT,
    consent: 'anonymous',
    fetch,
    localStorage: null,
    now: clock.now,
    random: () => 0.5,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  sender.enqueue(ev(1));
  await sender.flush();
  await clock.advance(10 * 60_000);
  assert.equal(fetch.requests.length, 11);
  assert.deepEqual(clock.delays.filter((d) => d !== 5000), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  assert.equal(sender.size(), 0);
});

test('429 honours Retry-After seconds instead of the backoff', async () => {
  const { clock, fetch, sender } = setup({ script: [{ status: 429, headers: { 'Retry-After': '7' } }] });
  sender.enqueue(ev(1));
  await sender.flush();
  await clock.advance(6999);
  assert.equal(fetch.requests.length, 1);
  await clock.advance(1);
  assert.equal(fetch.requests.length, 2);
  assert.equal(sender.size(), 0);
});

test('400 drops the batch without retrying, and onError hears once', async () => {
  const { clock, fetch, sender, errors } = setup({ script: [400, 400], sender: { maxBatch: 2 } });
  sender.enqueue([ev(1), ev(2), ev(3), ev(4), ev(5)]);
  await sender.flush();
  await clock.advance(120_000);
  assert.deepEqual(fetch.requests.map(ids), [[1, 2], [3, 4], [5]]);
  assert.equal(sender.size(), 0);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /400/);
});

test('the queue is bounded: the oldest events are dropped beyond maxQueue', async () => {
  const { fetch, sender, localStorage } = setup({ sender: { maxQueue: 5, maxBatch: 100 } });
  sender.enqueue(Array.from({ length: 8 }, (_, i) => ev(i)));
  assert.equal(sender.size(), 5);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.properties.i), [3, 4, 5, 6, 7]);
  await sender.flush();
  assert.deepEqual(ids(fetch.requests[0]), [3, 4, 5, 6, 7]);
});

test('the queue persists in localStorage and is restored by the next page', async () => {
  const localStorage = fakeLocalStorage();
  const first = setup({ localStorage });
  first.sender.enqueue([ev(1), ev(2), ev(3)]);
  first.sender.stop(); // the page goes away before the timer
  const next = setup({ localStorage });
  assert.equal(next.sender.size(), 3);
  await next.sender.flush();
  assert.deepEqual(ids(next.fetch.requests[0]), [1, 2, 3]);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')), []);
});

test('a batch in flight stays persisted until acknowledged', async () => {
  const { sender, localStorage } = setup({ script: ['hang'] });
  sender.enqueue([ev(1), ev(2)]);
  sender.flush();
  await settle();
  assert.equal(sender.size(), 2);
  assert.equal(JSON.parse(localStorage.map.get('bp_queue')).length, 2);
});

test('a restored queue is bounded too, and garbage in storage is ignored', () => {
  const localStorage = fakeLocalStorage();
  localStorage.map.set('bp_queue', JSON.stringify(Array.from({ length: 12 }, (_, i) => ev(i))));
  assert.equal(setup({ localStorage, sender: { maxQueue: 4 } }).sender.size(), 4);
  localStorage.map.set('bp_queue', '{not json');
  assert.equal(setup({ localStorage }).sender.size(), 0);
});

test('consent none at start neither restores nor erases; giving consent brings the queue back', () => {
  const localStorage = fakeLocalStorage();
  localStorage.map.set('bp_queue', JSON.stringify([ev(1, { context: { consent: 'anonymous' } })]));
  const { sender } = setup({ localStorage, sender: { consent: 'none' } });
  assert.equal(sender.size(), 0);
  assert.ok(localStorage.map.has('bp_queue'));
  sender.setConsent('anonymous');
  assert.equal(sender.size(), 1);
});

test('flush({ beacon: true }) uses sendBeacon with the write key in the body', async () => {
  const { fetch, navigator, sender, clock } = setup();
  sender.enqueue([ev(1), ev(2)]);
  await sender.flush({ beacon: true });
  assert.equal(fetch.requests.length, 0);
  assert.equal(navigator.beacons.length, 1);
  const [b] = navigator.beacons;
  assert.equal(b.url, 'https://collect.example.com/v1/batch');
  assert.equal(b.body.writeKey, 'wk_live');
  assert.equal(b.body.sentAt, new Date(clock.now()).toISOString());
  assert.deepEqual(b.body.batch.map((e) => e.properties.i), [1, 2]);
  assert.equal(sender.size(), 0);
});

test('beacon falls back to fetch keepalive over 64 KB', async () => {
  const { fetch, navigator, sender } = setup();
  sender.enqueue(ev(1, { properties: { i: 1, pad: 'x'.repeat(BEACON_LIMIT) } }));
  await sender.flush({ beacon: true });
  await settle();
  assert.equal(navigator.beacons.length, 0);
  assert.equal(fetch.requests.length, 1);
  assert.equal(fetch.requests[0].init.keepalive, true);
  assert.equal(sender.size(), 0);
});

test('beacon falls back to fetch keepalive when sendBeacon returns false', async () => {
  const { fetch, navigator, sender } = setup({ nav: { accept: false } });
  sender.enqueue([ev(1), ev(2)]);
  await sender.flush({ beacon: true });
  await settle();
  assert.equal(navigator.beacons.length, 1);
  assert.equal(fetch.requests.length, 1);
  assert.equal(fetch.requests[0].init.keepalive, true);
  assert.deepEqual(ids(fetch.requests[0]), [1, 2]);
});

test('every event carries context.consent, and other context is kept', async () => {
  const { fetch, sender } = setup({ sender: { consent: 'full' } });
  sender.enqueue([ev(1), ev(2, { context: { library: { name: 'buyerpath' } } })]);
  sender.setConsent('anonymous');
  sender.enqueue(ev(3));
  await sender.flush();
  const batch = fetch.requests.flatMap((r) => r.body.batch);
  assert.equal(batch.length, 1, 'events stamped full are dropped when consent goes down to anonymous');
  assert.deepEqual(batch[0].context, { consent: 'anonymous' });
  sender.setConsent('full');
  sender.enqueue(ev(4, { context: { library: { name: 'buyerpath' }, consent: 'anonymous' } }));
  sender.enqueue(ev(5));
  await sender.flush();
  const [e4, e5] = fetch.requests.at(-1).body.batch;
  assert.deepEqual(e4.context, { library: { name: 'buyerpath' }, consent: 'anonymous' });
  assert.equal(e5.context.consent, 'full');
});

test('an event built under more consent than now given is not sent', async () => {
  const { fetch, sender } = setup({ sender: { consent: 'anonymous' } });
  sender.enqueue([ev(1, { context: { consent: 'full' } }), ev(2, { context: { consent: 'none' } }), ev(3)]);
  await sender.flush();
  assert.deepEqual(ids(fetch.requests[0]), [3]);
});

test('stop() cancels the timers', async () => {
  const { clock, fetch, sender } = setup({ script: [500] });
  sender.enqueue(ev(1));
  await sender.flush(); // fails: a retry timer
  sender.enqueue(ev(2));
  sender.stop();
  assert.equal(clock.pending(), 0);
  await clock.advance(600_000);
  assert.equal(fetch.requests.length, 1);
});

test('runs in Node with no navigator and no localStorage: beacon falls back to fetch', async () => {
  const fetch = fakeFetch();
  const sender = createSender({ endpoint: ENDPOINT, consent: 'anonymous', fetch, navigator: undefined, localStorage: null });
  sender.enqueue(ev(1));
  await sender.flush({ beacon: true });
  await settle();
  sender.stop();
  assert.equal(fetch.requests.length, 1);
  assert.equal(fetch.requests[0].init.keepalive, true);
});

// ------------------------------------------------------------ overflow drops

const named = (event, i, extra = {}) => ({ type: 'track', event, messageId: `${event}-${i}`, anonymousId: 'a', properties: { i }, ...extra });
const names = (list) => list.map((e) => `${e.event}-${e.properties.i}`);
const DROPPED = 'Signals Dropped';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function uuids(prefix = 'u') {
  let n = 0;
  return { randomUUID: () => `${prefix}-${(n += 1)}` };
}

test('overflow drops the oldest non-essential events first, keeping MQL/SQL/triggers/stage changes', async () => {
  const { fetch, sender, localStorage } = setup({ sender: { maxQueue: 5, maxBatch: 100, crypto: uuids() } });
  sender.enqueue([
    named('Content Recommended', 1),
    named('MQL Reached', 2),
    named('Visitor Classified', 3),
    named('SQL Reached', 4),
    named('Content Recommended', 5),
    named('Stage Changed', 6),
    named('Sales Trigger Fired', 7),
  ]);
  assert.equal(sender.size(), 5);
  const stored = JSON.parse(localStorage.map.get('bp_queue'));
  assert.deepEqual(names(stored), ['MQL Reached-2', 'SQL Reached-4', 'Content Recommended-5', 'Stage Changed-6', 'Sales Trigger Fired-7']);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue_dropped')), { dropped: 2, essential_dropped: 0, anonymousId: 'a' });
  await sender.flush();
  assert.deepEqual(names(fetch.requests[0].body.batch), names(stored), 'no report while the queue is full');
});

test('essential events are dropped (oldest first) only when no other event is left', () => {
  const { sender, localStorage } = setup({ sender: { maxQueue: 3, maxBatch: 100 } });
  sender.enqueue([named('MQL Reached', 1), named('Stage Changed', 2), named('SQL Reached', 3)]);
  sender.enqueue([named('Visitor Classified', 4), named('Sales Trigger Fired', 5)]);
  // Over by 2: the classification goes, then the oldest essential (the MQL).
  assert.deepEqual(names(JSON.parse(localStorage.map.get('bp_queue'))), ['Stage Changed-2', 'SQL Reached-3', 'Sales Trigger Fired-5']);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue_dropped')), { dropped: 2, essential_dropped: 1, anonymousId: 'a' });
});

test('after a successful flush, one Signals Dropped event reports every drop since the last report', async () => {
  const { clock, fetch, sender, localStorage } = setup({ sender: { maxQueue: 4, maxBatch: 100, flushMs: 3_600_000, crypto: uuids('drop') } });
  // Several overflowing enqueues (an outage), about two visitors: one report.
  sender.enqueue([named('Content Recommended', 1), named('MQL Reached', 2), named('Visitor Classified', 3), named('SQL Reached', 4)]);
  sender.enqueue(named('Content Recommended', 5, { anonymousId: 'b' })); // drops CR-1
  sender.enqueue([named('Stage Changed', 6), named('Stage Changed', 7)]); // drops VC-3, CR-5 (b)
  sender.enqueue(named('Sales Trigger Fired', 8)); // nothing else left: drops MQL-2 (a)
  assert.deepEqual(names(JSON.parse(localStorage.map.get('bp_queue'))), ['SQL Reached-4', 'Stage Changed-6', 'Stage Changed-7', 'Sales Trigger Fired-8']);
  assert.equal(fetch.requests.length, 0);
  await clock.advance(1234);
  await sender.flush();
  assert.equal(fetch.requests.length, 2, 'the kept events, then the report (there is room once they are delivered)');
  assert.deepEqual(names(fetch.requests[0].body.batch), ['SQL Reached-4', 'Stage Changed-6', 'Stage Changed-7', 'Sales Trigger Fired-8']);
  assert.deepEqual(fetch.requests[1].body.batch, [
    {
      type: 'track',
      event: DROPPED,
      messageId: 'drop-1',
      anonymousId: 'a',
      properties: { dropped: 4, essential_dropped: 1 },
      context: { consent: 'anonymous' },
      originalTimestamp: new Date(clock.now()).toISOString(),
    },
  ]);
  assert.equal(localStorage.map.has('bp_queue_dropped'), false, 'the count starts again from zero');
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')), []);
  sender.enqueue(named('Content Recommended', 9));
  await sender.flush();
  assert.equal(fetch.requests.flatMap((r) => r.body.batch).filter((e) => e.event === DROPPED).length, 1, 'reported once');
});

test('no report while every request fails; one after the collector is back', async () => {
  const { clock, fetch, sender } = setup({ script: Array(6).fill('network'), sender: { maxQueue: 5, maxBatch: 2, crypto: uuids('drop') } });
  for (let i = 0; i < 12; i += 1) {
    sender.enqueue(named(i % 3 === 0 ? 'MQL Reached' : 'Content Recommended', i));
    await clock.advance(700);
  }
  assert.equal(sender.size(), 5, 'bounded');
  assert.ok(fetch.requests.length >= 3 && fetch.requests.length <= 6, 'every attempt so far failed');
  await clock.advance(120_000);
  assert.ok(fetch.requests.length > 6);
  assert.ok(fetch.requests.slice(0, 6).every((r) => r.body.batch.every((e) => e.event !== DROPPED)), 'nothing reported while down');
  const after = fetch.requests.slice(6).flatMap((r) => r.body.batch);
  const reports = after.filter((e) => e.event === DROPPED);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].properties.dropped, 12 - (after.length - 1));
  assert.equal(reports[0].properties.essential_dropped, 0, 'the MQLs were kept');
  assert.deepEqual(names(after.filter((e) => e.event === 'MQL Reached')), ['MQL Reached-0', 'MQL Reached-3', 'MQL Reached-6', 'MQL Reached-9']);
  assert.equal(sender.size(), 0);
});

test('a page leaving with drops to report: the report leaves with the last beacon', async () => {
  const { navigator, sender } = setup({ sender: { maxQueue: 3, maxBatch: 100, crypto: uuids('drop') } });
  sender.enqueue([1, 2, 3, 4, 5].map((i) => named('Content Recommended', i)));
  await sender.flush({ beacon: true });
  assert.equal(navigator.beacons.length, 2);
  assert.deepEqual(names(navigator.beacons[0].body.batch), ['Content Recommended-3', 'Content Recommended-4', 'Content Recommended-5']);
  assert.deepEqual(navigator.beacons[1].body.batch.map((e) => [e.event, e.properties]), [[DROPPED, { dropped: 2, essential_dropped: 0 }]]);
  assert.equal(sender.size(), 0);
});

test('the report goes with the next enqueue once there is room (after a refused batch)', async () => {
  const { fetch, sender, errors } = setup({ script: [400], sender: { maxQueue: 3, maxBatch: 100, crypto: uuids('drop') } });
  sender.enqueue([1, 2, 3, 4, 5].map((i) => named('Visitor Classified', i)));
  await sender.flush(); // 400: dropped as refused, not a delivery
  assert.equal(errors.length, 1);
  assert.equal(sender.size(), 0);
  sender.enqueue(named('Stage Changed', 6));
  assert.equal(sender.size(), 2, 'the event, then the report');
  await sender.flush();
  assert.deepEqual(fetch.requests[1].body.batch.map((e) => [e.event, e.properties]), [
    ['Stage Changed', { i: 6 }],
    [DROPPED, { dropped: 2, essential_dropped: 0 }],
  ]);
});

test('the unreported count survives navigation, and the report id falls back to getRandomValues', async () => {
  const localStorage = fakeLocalStorage();
  const first = setup({ localStorage, sender: { maxQueue: 2, maxBatch: 100 } });
  first.sender.enqueue([named('MQL Reached', 1, { anonymousId: 'v1' }), named('SQL Reached', 2, { anonymousId: 'v1' }), named('Stage Changed', 3, { anonymousId: 'v1' })]);
  first.sender.stop(); // the page goes away (offline: nothing was sent)
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue_dropped')), { dropped: 1, essential_dropped: 1, anonymousId: 'v1' });
  const crypto = { getRandomValues: (b) => b.fill(0xab) }; // no randomUUID (not a secure context)
  const next = setup({ localStorage, sender: { maxQueue: 2, maxBatch: 100, crypto } });
  assert.equal(next.sender.size(), 2, 'the report waits for room');
  await next.sender.flush();
  const [kept, report] = next.fetch.requests.map((r) => r.body.batch);
  assert.deepEqual(names(kept), ['SQL Reached-2', 'Stage Changed-3']);
  assert.equal(report.length, 1);
  assert.equal(report[0].messageId, 'abababab-abab-4bab-abab-abababababab');
  assert.match(report[0].messageId, UUID_V4);
  assert.equal(report[0].anonymousId, 'v1');
  assert.deepEqual(report[0].properties, { dropped: 1, essential_dropped: 1 });
  assert.equal(localStorage.map.has('bp_queue_dropped'), false);
});

test('without crypto at all the report id is still a v4 UUID, fresh each time', async () => {
  let r = 0;
  const { fetch, sender } = setup({ sender: { maxQueue: 1, maxBatch: 100, crypto: null, random: () => ((r += 0.137) % 1) } });
  const reportIds = [];
  for (let round = 0; round < 2; round += 1) {
    sender.enqueue([named('Content Recommended', 2 * round), named('Content Recommended', 2 * round + 1)]);
    await sender.flush();
    reportIds.push(...fetch.requests.flatMap((q) => q.body.batch).filter((e) => e.event === DROPPED).map((e) => e.messageId));
  }
  const unique = [...new Set(reportIds)];
  assert.equal(unique.length, 2);
  for (const id of unique) assert.match(id, UUID_V4);
});

test('an unsent report dropped by a later overflow passes its counts on', async () => {
  const { fetch, sender } = setup({ script: [400], sender: { maxQueue: 3, maxBatch: 100, crypto: uuids('drop') } });
  sender.enqueue([1, 2, 3, 4, 5].map((i) => named('Content Recommended', i))); // 2 dropped
  await sender.flush(); // refused: room, but no delivery
  sender.enqueue(named('Content Recommended', 6)); // [CR-6, report(2)]
  sender.enqueue([7, 8, 9].map((i) => named('Content Recommended', i))); // drops CR-6 and the report
  assert.equal(sender.size(), 3);
  await sender.flush();
  const reports = fetch.requests.flatMap((q) => q.body.batch).filter((e) => e.event === DROPPED);
  assert.equal(reports.length, 1);
  assert.deepEqual(reports[0].properties, { dropped: 3, essential_dropped: 0 });
  assert.equal(reports[0].messageId, 'drop-2', 'a fresh id for the new count');
});

test('consent none forgets the drops with the queue', async () => {
  const { fetch, sender, localStorage } = setup({ sender: { maxQueue: 2, maxBatch: 100, crypto: uuids() } });
  sender.enqueue([1, 2, 3].map((i) => named('Content Recommended', i)));
  assert.ok(localStorage.map.has('bp_queue_dropped'));
  sender.setConsent('none');
  assert.equal(localStorage.map.size, 0);
  sender.setConsent('anonymous');
  sender.enqueue(named('Content Recommended', 4));
  await sender.flush();
  assert.deepEqual(fetch.requests.flatMap((q) => names(q.body.batch)), ['Content Recommended-4']);
});

test('a stopped sender no longer writes the stored queue (a restarted layer owns it)', async () => {
  const localStorage = fakeLocalStorage();
  let answer;
  const clock = fakeClock();
  const old = createSender({ endpoint: ENDPOINT, consent: 'anonymous', localStorage, fetch: () => new Promise((r) => (answer = r)), now: clock.now, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });
  old.enqueue([ev(1), ev(2)]);
  const sending = old.flush();
  old.stop();
  const fresh = setup({ localStorage, script: ['hang'] });
  assert.equal(fresh.sender.size(), 2, 'the new sender restored the batch in flight');
  fresh.sender.enqueue(ev(3));
  answer({ status: 200, headers: { get: () => null } });
  await sending;
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.properties.i), [1, 2, 3], 'the old answer did not overwrite it');
});

// ------------------------------------------------- beacons need a live collector

test('after a failed request the last flush is a keepalive fetch, and its events stay stored until answered', async () => {
  const { fetch, navigator, sender, localStorage } = setup({ script: ['network', 'hang'] });
  sender.enqueue([ev(1), ev(2)]);
  await sender.flush(); // fails: the collector is not answering
  await sender.flush({ beacon: true }); // the page goes away
  await settle();
  assert.equal(navigator.beacons.length, 0, 'no beacon: it could be lost unnoticed');
  assert.equal(fetch.requests.length, 2);
  assert.equal(fetch.requests[1].init.keepalive, true);
  assert.deepEqual(ids(fetch.requests[1]), [1, 2]);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.properties.i), [1, 2], 'kept for the next page');
});

test('a page that restored undelivered events trusts beacons again only after a delivery', async () => {
  const localStorage = fakeLocalStorage();
  localStorage.map.set('bp_queue', JSON.stringify([ev(1)]));
  const a = setup({ localStorage });
  await a.sender.flush({ beacon: true });
  await settle();
  assert.equal(a.navigator.beacons.length, 0);
  assert.equal(a.fetch.requests[0].init.keepalive, true, 'restored events: not confirmed yet');
  // A delivery (the keepalive answered 200 here) makes the collector trusted.
  a.sender.enqueue(ev(2));
  await a.sender.flush({ beacon: true });
  assert.equal(a.navigator.beacons.length, 1);
  assert.deepEqual(a.navigator.beacons[0].body.batch.map((e) => e.properties.i), [2]);
});

test('no beacon when the browser says it is offline', async () => {
  const { fetch, navigator, sender, localStorage } = setup({ script: ['network'] });
  navigator.onLine = false;
  sender.enqueue([ev(1)]);
  await sender.flush({ beacon: true });
  await settle();
  assert.equal(navigator.beacons.length, 0);
  assert.equal(fetch.requests.length, 1);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.properties.i), [1]);
});
