import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSender, BEACON_LIMIT, DROPPED_EVENT } from '../../pkg-template/layer/sender.js';
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
// The retry delays scheduled: neither the batching timer (flushMs) nor a request's timeout.
const backoffs = (clock) => clock.delays.filter((d) => d !== 5000 && d !== 10_000);
// As a page stores them: stamped with the consent they were collected under.
const stamped = (e, consent = 'anonymous') => ({ ...e, context: { ...e.context, consent } });
// The stored drop count, without the mark of the sender that stored it.
function storedDrops(localStorage) {
  const { owner, ...rest } = JSON.parse(localStorage.map.get('bp_queue_dropped'));
  assert.equal(typeof owner, 'string');
  return rest;
}

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

test('consent none: the stored queue and marks are not even read', async () => {
  const localStorage = fakeLocalStorage();
  localStorage.map.set('bp_queue_down', String(Date.now()));
  const reads = [];
  const getItem = localStorage.getItem.bind(localStorage);
  localStorage.getItem = (k) => (reads.push(k), getItem(k));
  const { sender } = setup({ localStorage, sender: { consent: 'none' } });
  sender.enqueue(ev(1));
  await sender.flush();
  await sender.flush({ beacon: true });
  assert.deepEqual(reads, []);
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
  assert.deepEqual(backoffs(clock), [1000, 2000, 4000]);
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
  assert.deepEqual(backoffs(clock), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
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
  assert.deepEqual(fetch.requests.slice(0, 3).map(ids), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(fetch.requests.slice(3).map((r) => r.body.batch.map((e) => [e.event, e.properties])), [
    [['Signals Dropped', { dropped: 4, essential_dropped: 0, rejected: { 400: 4 } }]],
  ], 'then the loss is reported');
  assert.equal(sender.size(), 0);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /400/);
});

test('a refused batch reaches onError with code batch_refused, its HTTP status and a hint, once per status', async () => {
  const { sender, errors } = setup({ script: [401, 400, 401], sender: { maxBatch: 1 } });
  sender.enqueue([ev(1), ev(2), ev(3)]);
  await sender.flush();
  assert.deepEqual(errors.map((e) => [e.name, e.code, e.status]), [['BuyerpathError', 'batch_refused', 401], ['BuyerpathError', 'batch_refused', 400]]);
  assert.match(errors[0].hint, /writeKey/);
  assert.ok(errors.every((e) => e instanceof Error && typeof e.hint === 'string' && e.hint !== ''));
  assert.match(errors[1].message, /HTTP 400/);
});

test('408 (Request Timeout) is retried like 429 and 5xx, not dropped', async () => {
  const { clock, fetch, sender, errors } = setup({ script: [408] });
  sender.enqueue(ev(1));
  await sender.flush();
  await clock.advance(1000);
  assert.deepEqual(fetch.requests.map(ids), [[1], [1]]);
  assert.equal(sender.size(), 0);
  assert.deepEqual(errors, []);
});

test('a batch refused for good (4xx) counts in Signals Dropped as rejected, by status, and is never sent again', async () => {
  const localStorage = fakeLocalStorage();
  const first = setup({ localStorage, script: [422, 400], sender: { maxBatch: 2, crypto: uuids('drop') } });
  first.sender.enqueue([ev(1), ev(2, { event: 'SQL Reached' }), ev(3)]);
  await first.sender.flush();
  assert.deepEqual(first.fetch.requests.map(ids), [[1, 2], [3]]);
  assert.equal(first.sender.size(), 0);
  assert.ok(localStorage.map.has('bp_queue_dropped'), 'the refused events are counted');
  assert.deepEqual(storedDrops(localStorage), { dropped: 3, essential_dropped: 1, rejected: { 400: 1, 422: 2 }, anonymousId: 'a' });
  first.sender.stop(); // the page goes away: the next one reports the loss
  const next = setup({ localStorage, sender: { crypto: uuids('next') } });
  next.sender.enqueue(ev(4));
  await next.sender.flush();
  const sent = next.fetch.requests.flatMap((r) => r.body.batch);
  assert.deepEqual(sent.map((e) => [e.event, e.properties]), [
    ['Visitor Classified', { i: 4 }],
    ['Signals Dropped', { dropped: 3, essential_dropped: 1, rejected: { 400: 1, 422: 2 } }],
  ]);
  assert.deepEqual(first.fetch.requests.concat(next.fetch.requests).flatMap((r) => r.body.batch.map((e) => e.messageId)).filter((id) => /^m[123]$/.test(id)), ['m1', 'm2', 'm3'], 'each refused event sent once');
  assert.equal(localStorage.map.has('bp_queue_dropped'), false);
});

test('events an earlier page left and the collector refuses for good are counted: no other page would count them', async () => {
  const localStorage = fakeLocalStorage();
  localStorage.map.set('bp_queue', JSON.stringify([stamped(ev(1)), stamped(ev(2))]));
  const { sender } = setup({ localStorage, script: [401, 401], sender: { crypto: uuids('own') } });
  assert.equal(sender.size(), 2, 'restored');
  sender.enqueue(ev(3));
  await sender.flush();
  assert.equal(sender.size(), 0);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')), [], 'gone from the stored queue');
  assert.deepEqual(storedDrops(localStorage), { dropped: 3, essential_dropped: 0, rejected: { 401: 3 }, anonymousId: 'a' });
});

test('a refused Signals Dropped report alone is let go, not reported again: no loop when every batch is refused', async () => {
  const { clock, fetch, sender, errors, localStorage } = setup({ script: Array(50).fill(401), sender: { maxBatch: 100, crypto: uuids('drop') } });
  sender.enqueue([ev(1), ev(2), ev(3)]);
  await sender.flush(); // refused: 3 counted
  sender.enqueue(ev(4)); // queued with the report
  await sender.flush(); // refused together: the report's 3 carry over, with ev 4
  await sender.flush(); // the new report, alone, refused: let go
  await clock.advance(3_600_000);
  await sender.flush();
  await sender.flush({ beacon: true });
  const batches = fetch.requests.map((r) => r.body.batch.map((e) => (e.event === DROPPED_EVENT ? [DROPPED_EVENT, e.properties] : e.messageId)));
  assert.deepEqual(batches, [
    ['m1', 'm2', 'm3'],
    ['m4', [DROPPED_EVENT, { dropped: 3, essential_dropped: 0, rejected: { 401: 3 } }]],
    [[DROPPED_EVENT, { dropped: 4, essential_dropped: 0, rejected: { 401: 4 } }]],
  ]);
  assert.equal(sender.size(), 0);
  assert.equal(localStorage.map.has('bp_queue_dropped'), false, 'no count left to report');
  assert.deepEqual(errors.map((e) => e.status), [401], 'onError once');
});

test('a 413 for several events sends them again in halves, and later batches stay within the half', async () => {
  const { fetch, sender, errors } = setup({ script: [413], sender: { maxBatch: 4 } });
  sender.enqueue([ev(1), ev(2), ev(3), ev(4)]);
  await sender.flush();
  assert.deepEqual(fetch.requests.map(ids), [[1, 2, 3, 4], [1, 2], [3, 4]]);
  assert.equal(sender.size(), 0);
  assert.deepEqual(errors, []);
  sender.enqueue([ev(5), ev(6), ev(7)]);
  await sender.flush();
  assert.deepEqual(fetch.requests.slice(3).map(ids), [[5, 6], [7]]);
  assert.ok(fetch.requests.every((r) => r.body.batch.every((e) => e.event !== DROPPED_EVENT)), 'nothing lost');
});

test('a 413 down to one event drops that event, counted as rejected; each event is tried at most once per halving', async () => {
  const { fetch, sender, errors } = setup({ script: [413, 413, 413, 413, 413, 413], sender: { maxBatch: 4, crypto: uuids('drop') } });
  sender.enqueue([ev(1), ev(2), ev(3), ev(4)]);
  await sender.flush();
  // 4 → 2 → 1: events 1 and 2 refused alone; then 3 and 4 go one at a time.
  assert.deepEqual(fetch.requests.map(ids), [[1, 2, 3, 4], [1, 2], [1], [2], [3], [4]]);
  assert.equal(sender.size(), 0);
  await sender.flush();
  assert.deepEqual(fetch.requests.slice(6).map((r) => r.body.batch.map((e) => [e.event, e.properties])), [
    [[DROPPED_EVENT, { dropped: 4, essential_dropped: 0, rejected: { 413: 4 } }]],
  ]);
  assert.deepEqual(errors.map((e) => [e.code, e.status]), [['batch_refused', 413]]);
});

test('the bound a 413 lowered doubles back after a run of full batches delivered, never past maxBatch', async () => {
  const { fetch, sender } = setup({ script: [413], sender: { maxBatch: 8 } });
  const batch = (from) => Array.from({ length: 8 }, (_, k) => ev(from + k));
  sender.enqueue(batch(1));
  await sender.flush(); // 413: halves of 4, both delivered
  sender.enqueue(batch(9));
  await sender.flush(); // two more full batches of 4: the bound is back to 8
  sender.enqueue(batch(17).concat(batch(25)));
  await sender.flush();
  assert.deepEqual(fetch.requests.map((r) => r.body.batch.length), [8, 4, 4, 4, 4, 8, 8]);
  assert.deepEqual(fetch.requests.slice(1).flatMap(ids), Array.from({ length: 32 }, (_, k) => k + 1), 'all delivered, in order');
});

test('a bound brought down to one event by a large one grows back to maxBatch (doubling after each run of 4 full batches)', async () => {
  const { fetch, sender } = setup({ script: [413, 413, 413], sender: { maxBatch: 4, crypto: uuids('drop') } });
  sender.enqueue([ev(1), ev(2), ev(3), ev(4)]);
  await sender.flush(); // 4 → 2 → 1: event 1 refused alone; 2, 3, 4 and the drop report go one at a time
  for (let i = 5; i <= 28; i += 1) sender.enqueue(ev(i));
  await sender.flush();
  assert.deepEqual(fetch.requests.map((r) => r.body.batch.length), [4, 2, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4]);
  assert.equal(fetch.requests[6].body.batch[0].event, DROPPED_EVENT);
  assert.deepEqual(fetch.requests.slice(7).flatMap(ids), Array.from({ length: 24 }, (_, k) => k + 5), 'all delivered, in order');
  assert.equal(sender.size(), 0);
});

test('a request that never answers is aborted after 10 s and retried with the backoff; later batches still go', async () => {
  const { clock, fetch, sender } = setup({ script: ['hang'] });
  sender.enqueue(ev(1));
  sender.flush(); // (settles only once the request is given up)
  await clock.advance(9_999);
  assert.equal(fetch.requests.length, 1);
  assert.equal(fetch.requests[0].init.signal.aborted, false);
  await clock.advance(1);
  assert.equal(fetch.requests[0].init.signal.aborted, true, 'aborted at the timeout');
  await clock.advance(1000); // the first backoff step
  assert.deepEqual(fetch.requests.map(ids), [[1], [1]]);
  sender.enqueue(ev(2));
  await clock.advance(5000);
  assert.deepEqual(fetch.requests.map(ids), [[1], [1], [2]]);
  assert.equal(sender.size(), 0);
  assert.equal(clock.pending(), 0, 'no timeout left behind');
});

test('timeoutMs sets the wait, and a fetch that ignores the abort signal times out too', async () => {
  const { clock, fetch, sender } = setup({ script: ['deaf', 'deaf'], sender: { timeoutMs: 3000 } });
  sender.enqueue(ev(1));
  sender.flush(); // (settles only once the request is given up)
  await clock.advance(2999);
  assert.equal(fetch.requests.length, 1);
  await clock.advance(1 + 1000); // timed out, then the first backoff step
  assert.equal(fetch.requests.length, 2);
  await clock.advance(3000 + 2000);
  assert.equal(fetch.requests.length, 3);
  assert.equal(sender.size(), 0);
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
  localStorage.map.set('bp_queue', JSON.stringify(Array.from({ length: 12 }, (_, i) => stamped(ev(i)))));
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

test('an event over 64 KB leaves neither by beacon nor by keepalive fetch: it is refused at enqueue', async () => {
  const { fetch, navigator, sender, errors } = setup();
  sender.enqueue(ev(1, { properties: { i: 1, pad: 'x'.repeat(BEACON_LIMIT) } }));
  assert.equal(errors[0].code, 'event_too_large');
  await sender.flush({ beacon: true });
  await settle();
  const sent = navigator.beacons.flatMap((b) => b.body.batch).concat(fetch.requests.flatMap((r) => r.body.batch));
  assert.deepEqual(sent.map((e) => e.event), ['Signals Dropped']);
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

test('a fetch that throws at once leaves the page-exit flush with its events kept, not in a loop', async () => {
  let calls = 0;
  const localStorage = fakeLocalStorage();
  const { sender } = setup({
    nav: { accept: false },
    localStorage,
    sender: {
      fetch: () => {
        calls += 1;
        if (calls > 100) return Promise.reject(new Error('stop')); // ends a loop: the test then fails below
        throw new TypeError('fetch is not a function');
      },
    },
  });
  sender.enqueue([ev(1), ev(2)]);
  await sender.flush({ beacon: true });
  assert.equal(calls, 1);
  assert.equal(sender.size(), 2);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.messageId), ['m1', 'm2']);
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
  assert.deepEqual(storedDrops(localStorage), { dropped: 2, essential_dropped: 0, anonymousId: 'a' });
  await sender.flush();
  assert.deepEqual(names(fetch.requests[0].body.batch), names(stored), 'no report while the queue is full');
});

test('essential events are dropped (oldest first) only when no other event is left', () => {
  const { sender, localStorage } = setup({ sender: { maxQueue: 3, maxBatch: 100 } });
  sender.enqueue([named('MQL Reached', 1), named('Stage Changed', 2), named('SQL Reached', 3)]);
  sender.enqueue([named('Visitor Classified', 4), named('Sales Trigger Fired', 5)]);
  // Over by 2: the classification goes, then the oldest essential (the MQL).
  assert.deepEqual(names(JSON.parse(localStorage.map.get('bp_queue'))), ['Stage Changed-2', 'SQL Reached-3', 'Sales Trigger Fired-5']);
  assert.deepEqual(storedDrops(localStorage), { dropped: 2, essential_dropped: 1, anonymousId: 'a' });
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
  await sender.flush(); // 400: dropped as refused (and counted), not a delivery
  assert.equal(errors.length, 1);
  assert.equal(sender.size(), 0);
  sender.enqueue(named('Stage Changed', 6));
  assert.equal(sender.size(), 2, 'the event, then the report');
  await sender.flush();
  assert.deepEqual(fetch.requests[1].body.batch.map((e) => [e.event, e.properties]), [
    ['Stage Changed', { i: 6 }],
    [DROPPED, { dropped: 5, essential_dropped: 0, rejected: { 400: 3 } }],
  ]);
});

test('the unreported count survives navigation, and the report id falls back to getRandomValues', async () => {
  const localStorage = fakeLocalStorage();
  const first = setup({ localStorage, sender: { maxQueue: 2, maxBatch: 100 } });
  first.sender.enqueue([named('MQL Reached', 1, { anonymousId: 'v1' }), named('SQL Reached', 2, { anonymousId: 'v1' }), named('Stage Changed', 3, { anonymousId: 'v1' })]);
  first.sender.stop(); // the page goes away (offline: nothing was sent)
  assert.deepEqual(storedDrops(localStorage), { dropped: 1, essential_dropped: 1, anonymousId: 'v1' });
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
  await sender.flush(); // 3 refused: room, but no delivery
  sender.enqueue(named('Content Recommended', 6)); // [CR-6, report(5)]
  sender.enqueue([7, 8, 9].map((i) => named('Content Recommended', i))); // drops CR-6 and the report
  assert.equal(sender.size(), 3);
  await sender.flush();
  const reports = fetch.requests.flatMap((q) => q.body.batch).filter((e) => e.event === DROPPED);
  assert.equal(reports.length, 1);
  assert.deepEqual(reports[0].properties, { dropped: 6, essential_dropped: 0, rejected: { 400: 3 } });
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

test('events a page restored never leave by beacon (an earlier page may have found the collector down)', async () => {
  const localStorage = fakeLocalStorage();
  localStorage.map.set('bp_queue', JSON.stringify([stamped(ev(1))]));
  const a = setup({ localStorage });
  await a.sender.flush({ beacon: true });
  await settle();
  assert.equal(a.navigator.beacons.length, 0);
  assert.equal(a.fetch.requests[0].init.keepalive, true, 'restored events: kept stored until answered');
  // The page's own events do (no request of its own failed).
  a.sender.enqueue(ev(2));
  await a.sender.flush({ beacon: true });
  assert.equal(a.navigator.beacons.length, 1);
  assert.deepEqual(a.navigator.beacons[0].body.batch.map((e) => e.properties.i), [2]);
});

test('the next page of a tab that found the collector down sends its own events by keepalive fetch too, until an answer', async () => {
  const localStorage = fakeLocalStorage();
  const first = setup({ localStorage, script: ['network'] });
  first.sender.enqueue(ev(1));
  await first.sender.flush(); // fails: the collector is down
  first.sender.stop(); // the visitor goes on to the next page
  const next = setup({ localStorage, script: ['network', 'network'] });
  next.sender.enqueue(ev(2, { event: 'SQL Reached' }));
  await next.sender.flush({ beacon: true }); // and leaves it within a few seconds
  await settle();
  assert.equal(next.navigator.beacons.length, 0, 'a beacon to a collector found down would be lost unnoticed');
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.properties.i).sort(), [1, 2], 'both kept for the next page');
  // Once a request is answered, beacons are trusted again, on this page and the next.
  await next.clock.advance(60_000);
  assert.equal(localStorage.map.has('bp_queue_down'), false);
  const later = setup({ localStorage });
  later.sender.enqueue(ev(3));
  await later.sender.flush({ beacon: true });
  assert.equal(later.navigator.beacons.length, 1);
  // A failure long ago does not count.
  localStorage.map.set('bp_queue_down', String(later.clock.now() - 11 * 60_000));
  const after = setup({ localStorage });
  after.sender.enqueue(ev(4));
  await after.sender.flush({ beacon: true });
  assert.equal(after.navigator.beacons.length, 1);
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

test('a page leaving while the collector asked to wait (Retry-After) sends it nothing: the events stay stored', async () => {
  const { clock, fetch, navigator, sender, localStorage } = setup({ script: [{ status: 429, headers: { 'Retry-After': '30' } }] });
  sender.enqueue([ev(1), ev(2)]);
  await sender.flush(); // 429: not before 30 s
  sender.enqueue(ev(3));
  await clock.advance(10_000);
  await sender.flush({ beacon: true }); // the page goes away (or is hidden) meanwhile
  await settle();
  assert.equal(navigator.beacons.length, 0);
  assert.equal(fetch.requests.length, 1, 'neither beacon nor keepalive fetch before the wait is over');
  const stored = () => JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.properties.i);
  assert.deepEqual(stored(), [1, 2, 3], 'kept for the retry or the next page');
  await clock.advance(20_000); // the page stayed: the retry sends them
  assert.deepEqual(fetch.requests.slice(1).map(ids), [[1, 2, 3]]);
  assert.deepEqual(stored(), []);
  // Once answered, the page's last flush goes as before.
  sender.enqueue(ev(4));
  await sender.flush({ beacon: true });
  assert.deepEqual(navigator.beacons.map((b) => b.body.batch.map((e) => e.properties.i)), [[4]]);
});

test('a Retry-After wait outlives its page: the next page sends nothing before it is over', async () => {
  const first = setup({ script: [{ status: 429, headers: { 'Retry-After': '30' } }] });
  first.sender.enqueue([ev(1), ev(2)]);
  await first.sender.flush(); // 429: not before 30 s
  await first.clock.advance(5_000);
  await first.sender.flush({ beacon: true }); // the page goes: nothing sent, all stored
  first.sender.stop();
  assert.equal(first.localStorage.map.get('bp_queue_wait'), String(first.clock.now() + 25_000));
  // The next page, on the same storage and clock: it restores the events and waits.
  const next = setup({ localStorage: first.localStorage, script: [200], sender: { now: first.clock.now, setTimeout: first.clock.setTimeout, clearTimeout: first.clock.clearTimeout } });
  next.sender.enqueue(ev(3));
  await next.sender.flush();
  await first.clock.advance(24_000);
  assert.equal(next.fetch.requests.length, 0, 'nothing before the wait is over');
  await first.clock.advance(1_000);
  assert.deepEqual(next.fetch.requests.map(ids), [[1, 2, 3]]);
  assert.equal(first.localStorage.map.has('bp_queue_wait'), false, 'answered: the wait is over for every page');
});

test('a tab already open waits out the Retry-After another tab was given, beacon included', async () => {
  const a = setup({ script: [{ status: 429, headers: { 'Retry-After': '600' } }] });
  const b = setup({ localStorage: a.localStorage, script: [200, 200], sender: { now: a.clock.now, setTimeout: a.clock.setTimeout, clearTimeout: a.clock.clearTimeout } });
  a.sender.enqueue(ev(1));
  await a.sender.flush(); // 429 for tab A: the wait is stored
  b.sender.enqueue(ev(2));
  await b.sender.flush();
  await b.sender.flush({ beacon: true });
  await a.clock.advance(599_000);
  assert.equal(b.fetch.requests.length, 0, 'tab B sends nothing during the wait');
  assert.equal(b.navigator.beacons.length, 0);
  await a.clock.advance(1_000);
  assert.ok(b.fetch.requests.length >= 1, 'then it sends');
});

test('a wait longer than a Retry-After can ask for (the clock was set back) does not silence the sender', async () => {
  let back = 0;
  const clock = fakeClock();
  const { fetch, sender } = setup({ script: [{ status: 429, headers: { 'Retry-After': '30' } }, 200], sender: { now: () => clock.now() + back, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout } });
  sender.enqueue(ev(1));
  await sender.flush();
  back = -86_400_000; // the wall clock goes back a day
  await clock.advance(60_000);
  assert.deepEqual(fetch.requests.map(ids), [[1], [1]], 'the retry goes out on time');
});

test('a page leaving while the collector asked to wait still sends what storage could not keep', async () => {
  const { fetch, sender } = setup({ script: [{ status: 429, headers: { 'Retry-After': '30' } }, 'hang'], sender: { localStorage: null } });
  sender.enqueue([ev(1), ev(2)]);
  await sender.flush();
  await sender.flush({ beacon: true }); // the only chance these events get
  await settle();
  assert.deepEqual(fetch.requests.map(ids), [[1, 2], [1, 2]]);
  assert.equal(fetch.requests[1].init.keepalive, true);
});

test('a failure without Retry-After still gets the page’s last request (a keepalive fetch), though backing off', async () => {
  const { fetch, sender } = setup({ script: [503, 'hang'] });
  sender.enqueue(ev(1));
  await sender.flush(); // 503: backing off 1 s
  await sender.flush({ beacon: true });
  await settle();
  assert.deepEqual(fetch.requests.map(ids), [[1], [1]]);
  assert.equal(fetch.requests[1].init.keepalive, true);
});

// ------------------------------------------------------------ several tabs

test('two tabs share the stored queue: neither overwrites the other’s undelivered events', async () => {
  const localStorage = fakeLocalStorage();
  const a = setup({ localStorage, script: Array(3).fill('network') });
  const b = setup({ localStorage, script: Array(3).fill('network') });
  a.sender.enqueue([stamped(ev(1)), stamped(ev(2))]);
  b.sender.enqueue([stamped(ev(3)), stamped(ev(4))]);
  await a.sender.flush(); // both fail: the collector is down
  await b.sender.flush();
  a.sender.enqueue(stamped(ev(5)));
  const stored = () => JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.properties.i).sort();
  assert.deepEqual(stored(), [1, 2, 3, 4, 5], 'each tab keeps the other’s events stored');
  b.sender.stop(); // tab B is closed, its events undelivered
  await a.clock.advance(120_000); // A retries until the collector is back
  assert.deepEqual(stored(), [3, 4], 'A removes only what it delivered');
  const next = setup({ localStorage }); // the next page sends B's events
  await next.sender.flush();
  const delivered = [a, next].flatMap((t) => t.fetch.requests.slice(t === a ? 3 : 0).flatMap(ids));
  assert.deepEqual(delivered.sort(), [1, 2, 3, 4, 5]);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')), []);
});

test('one loss in two tabs is reported once: the stored drop count has one owner', async () => {
  const localStorage = fakeLocalStorage();
  const opts = (prefix) => ({ localStorage, script: ['network'], sender: { maxQueue: 3, maxBatch: 100, crypto: uuids(prefix) } });
  const a = setup(opts('a'));
  a.sender.enqueue([1, 2, 3, 4, 5].map((i) => stamped(named('Content Recommended', i)))); // 2 dropped
  await a.sender.flush(); // fails
  assert.deepEqual(storedDrops(localStorage), { dropped: 2, essential_dropped: 0, anonymousId: 'a' });
  const b = setup({ ...opts('b'), script: [] }); // another tab opens, restores the count, and delivers
  await b.sender.flush();
  await a.clock.advance(120_000); // A delivers too
  await b.clock.advance(120_000);
  const reports = [a, b].flatMap((t) => t.fetch.requests.flatMap((r) => r.body.batch)).filter((e) => e.event === DROPPED);
  assert.deepEqual(
    reports.map((e) => [e.messageId, e.properties]),
    [['b-1', { dropped: 2, essential_dropped: 0 }]],
  );
  assert.equal(localStorage.map.has('bp_queue_dropped'), false);
});

test('drops in two open tabs are added up, not overwritten, and reported once each', async () => {
  const localStorage = fakeLocalStorage();
  const opts = (prefix) => ({ localStorage, script: ['network'], sender: { maxQueue: 2, maxBatch: 100, crypto: uuids(prefix) } });
  const a = setup(opts('a'));
  const b = setup(opts('b'));
  a.sender.enqueue([1, 2, 3].map((i) => stamped(named('Content Recommended', i)))); // A drops 1
  b.sender.enqueue([4, 5, 6, 7].map((i) => stamped(named('MQL Reached', i, { anonymousId: 'b' })))); // B drops 2
  assert.deepEqual(storedDrops(localStorage), { dropped: 3, essential_dropped: 2, anonymousId: 'b' });
  a.sender.stop(); // A closes: B holds the whole count
  await b.sender.flush();
  await b.clock.advance(120_000);
  const reports = b.fetch.requests.flatMap((r) => r.body.batch).filter((e) => e.event === DROPPED);
  assert.deepEqual(
    reports.map((e) => e.properties),
    [{ dropped: 3, essential_dropped: 2 }],
  );
  assert.equal(localStorage.map.has('bp_queue_dropped'), false);
});

const storedIds = (localStorage) => JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.properties.i).sort((x, y) => x - y);

test('a new tab does not count (nor report) as dropped the events another open tab still holds', async () => {
  const localStorage = fakeLocalStorage();
  const opts = (prefix) => ({ localStorage, sender: { maxQueue: 4, maxBatch: 100, flushMs: 3_600_000, crypto: uuids(prefix) } });
  const a = setup(opts('a'));
  a.sender.enqueue([1, 2, 3, 4].map((i) => stamped(ev(i)))); // A's queue is full, nothing sent yet
  const b = setup(opts('b')); // restores A's four
  b.sender.enqueue([5, 6].map((i) => stamped(ev(i)))); // over by 2: B lets go of A's oldest
  assert.equal(b.sender.size(), 4);
  assert.equal(localStorage.map.has('bp_queue_dropped'), false, 'nothing of B’s was dropped');
  await b.sender.flush();
  await a.sender.flush();
  const sent = [a, b].flatMap((t) => t.fetch.requests.flatMap((r) => r.body.batch));
  assert.deepEqual(sent.filter((e) => e.event === DROPPED), [], 'no loss reported: A delivered its own');
  assert.deepEqual([...new Set(sent.map((e) => e.properties.i))].sort(), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')), []);
});

test('what a tab lets go of from what it restored is not taken for delivered: it stays stored for its owner', async () => {
  const localStorage = fakeLocalStorage();
  let failing = false; // a passing write error (a full quota)
  const setItem = localStorage.setItem;
  localStorage.setItem = (k, v) => {
    if (failing) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    setItem(k, v);
  };
  const opts = { localStorage, sender: { maxQueue: 4, maxBatch: 100, flushMs: 3_600_000 } };
  const a = setup(opts);
  a.sender.enqueue([1, 2, 3, 4].map((i) => stamped(ev(i))));
  const b = setup(opts); // restores A's four
  failing = true;
  b.sender.enqueue([5, 6].map((i) => stamped(ev(i)))); // B lets go of 1 and 2
  await b.sender.flush(); // B delivers 3, 4, 5, 6; its writes fail meanwhile
  failing = false;
  b.sender.enqueue([]); // B's next write
  assert.deepEqual(storedIds(localStorage), [1, 2], 'B removes only what it delivered');
  a.sender.stop(); // A closes before sending
  const next = setup({ localStorage });
  await next.sender.flush();
  assert.deepEqual(next.fetch.requests.flatMap(ids), [1, 2]);
});

test('a new tab trusts beacons for its own events; what it restored leaves by keepalive fetch', async () => {
  const localStorage = fakeLocalStorage();
  const a = setup({ localStorage, script: ['hang'] });
  a.sender.enqueue([stamped(ev(1)), stamped(ev(2))]);
  a.sender.flush(); // in flight, unanswered
  await settle();
  const b = setup({ localStorage, script: ['hang'] }); // restores 1 and 2
  b.sender.enqueue(stamped(ev(3)));
  await b.sender.flush({ beacon: true });
  await settle();
  assert.deepEqual(b.navigator.beacons.flatMap((x) => x.body.batch.map((e) => e.properties.i)), [3], 'no failure of its own: a beacon');
  assert.deepEqual(b.fetch.requests.map(ids), [[1, 2]]);
  assert.equal(b.fetch.requests[0].init.keepalive, true, 'restored events: kept stored until answered');
  assert.deepEqual(storedIds(localStorage), [1, 2]);
});

test('a tab at a lower consent neither sends nor erases a higher-consent tab’s stored events; a withdrawal erases them', async () => {
  const localStorage = fakeLocalStorage();
  const a = setup({ localStorage, script: ['network'], sender: { consent: 'full' } });
  a.sender.enqueue([stamped(ev(1), 'full'), stamped(ev(2), 'full')]);
  await a.sender.flush(); // fails: stored
  const b = setup({ localStorage }); // still at anonymous (a raise in A is not broadcast)
  assert.equal(b.sender.size(), 0, 'not B’s to send');
  b.sender.enqueue(stamped(ev(3)));
  assert.deepEqual(storedIds(localStorage), [1, 2, 3]);
  await b.sender.flush();
  assert.deepEqual(b.fetch.requests.flatMap(ids), [3]);
  assert.deepEqual(storedIds(localStorage), [1, 2], 'A’s events are still stored');
  b.sender.setConsent('anonymous'); // not a withdrawal
  assert.deepEqual(storedIds(localStorage), [1, 2]);
  localStorage.map.set('bp_queue', JSON.stringify([...JSON.parse(localStorage.map.get('bp_queue')), stamped(ev(4), 'full')])); // a closed tab's
  a.sender.setConsent('anonymous'); // withdrawn: what was collected under full goes, whoever stored it
  assert.deepEqual(storedIds(localStorage), []);
  await a.clock.advance(120_000);
  assert.deepEqual(a.fetch.requests.flatMap(ids), [1, 2], 'and A no longer sends it');
});

test('the merged stored queue over maxQueue cuts other tabs’ events first, not this tab’s own', () => {
  const localStorage = fakeLocalStorage();
  const opts = { localStorage, sender: { maxQueue: 4, maxBatch: 100, flushMs: 3_600_000 } };
  const b = setup(opts);
  const a = setup(opts);
  a.sender.enqueue([1, 2, 3].map((i) => stamped(named('MQL Reached', i))));
  b.sender.enqueue([4, 5].map((i) => stamped(named('Content Recommended', i))));
  assert.deepEqual(names(JSON.parse(localStorage.map.get('bp_queue'))), ['MQL Reached-2', 'MQL Reached-3', 'Content Recommended-4', 'Content Recommended-5']);
  a.sender.enqueue([]); // A stores its own again, cutting B's
  assert.deepEqual(names(JSON.parse(localStorage.map.get('bp_queue'))), ['Content Recommended-5', 'MQL Reached-1', 'MQL Reached-2', 'MQL Reached-3']);
  assert.equal(localStorage.map.has('bp_queue_dropped'), false, 'nobody dropped anything');
});

test('the set of delivered ids stays bounded where every storage write fails', async () => {
  const made = [];
  const RealSet = globalThis.Set;
  globalThis.Set = class extends RealSet {
    constructor(...args) {
      super(...args);
      made.push(this);
    }
  };
  let t;
  try {
    t = setup({ localStorage: fakeLocalStorage({ broken: true }), sender: { maxQueue: 5, maxBatch: 5 } });
  } finally {
    globalThis.Set = RealSet; // only the sender's own sets (made at creation) are spied on
  }
  for (let round = 0; round < 40; round += 1) {
    t.sender.enqueue([0, 1, 2, 3, 4].map((i) => stamped(ev(5 * round + i))));
    await t.sender.flush();
  }
  assert.equal(t.fetch.requests.flatMap(ids).length, 200);
  const largest = Math.max(...made.map((x) => x.size));
  assert.ok(largest <= 20, `at most max(2 × maxQueue, 20) ids kept, not one per delivered event (${largest})`);
});

test('a report queued while backing off takes the count off the stored record at once: another tab does not report it again', async () => {
  const localStorage = fakeLocalStorage();
  const a = setup({ localStorage, script: ['network'], sender: { consent: 'full', maxQueue: 3, maxBatch: 100, crypto: uuids('a') } });
  const cr = (i, level) => stamped(named('Content Recommended', i), level);
  a.sender.enqueue([cr(1, 'full'), cr(2, 'full'), cr(3, 'full'), cr(4, 'anonymous'), cr(5, 'anonymous')]); // 1 and 2 dropped
  await a.sender.flush(); // fails: backing off
  assert.deepEqual(storedDrops(localStorage), { dropped: 2, essential_dropped: 0, anonymousId: 'a' });
  a.sender.setConsent('anonymous'); // CR-3 goes: room for the report
  await a.sender.flush(); // still backing off: the report is only queued
  assert.equal(localStorage.map.has('bp_queue_dropped'), false, 'the count is in the queued report now');
  assert.ok(JSON.parse(localStorage.map.get('bp_queue')).some((e) => e.event === DROPPED), 'and the report is stored with the queue');
  const b = setup({ localStorage, sender: { maxQueue: 3, maxBatch: 100, crypto: uuids('b') } }); // another tab opens
  await b.sender.flush();
  await a.clock.advance(120_000);
  await b.clock.advance(120_000);
  const reports = [a, b].flatMap((t) => t.fetch.requests.flatMap((r) => r.body.batch)).filter((e) => e.event === DROPPED);
  assert.deepEqual([...new Set(reports.map((e) => e.messageId))], ['a-1'], 'one report (sent by both tabs, deduped by messageId)');
  assert.deepEqual(reports[0].properties, { dropped: 2, essential_dropped: 0 });
});

// ------------------------------------------------------------ hostile input

test('Retry-After: 0 (or a date already past) does not retry in a loop: the backoff still applies', async () => {
  for (const hint of ['0', new Date(Date.UTC(2001, 0, 1)).toUTCString()]) {
    const clock = fakeClock();
    const fetch = fakeFetch(Array(50).fill({ status: 429, headers: { 'Retry-After': hint } }));
    const sender = createSender({ endpoint: ENDPOINT, consent: 'anonymous', fetch, localStorage: null, now: clock.now, random: () => 0, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });
    sender.enqueue(stamped(ev(1)));
    await sender.flush();
    await clock.advance(1000);
    assert.equal(fetch.requests.length, 3, `${hint}: a retry every 500 ms at most`);
    assert.ok(backoffs(clock).every((d) => d >= 500), hint);
    sender.stop();
  }
  // With the usual jitter, the delays grow as without a hint.
  const { clock, fetch, sender } = setup({ script: Array(4).fill({ status: 429, headers: { 'Retry-After': '0' } }) });
  sender.enqueue(ev(1));
  await sender.flush();
  await clock.advance(60_000);
  assert.equal(fetch.requests.length, 5);
  assert.deepEqual(backoffs(clock), [1000, 2000, 4000, 8000]);
});

test('an event JSON cannot encode is refused at enqueue (onError), and the rest of its batch goes; flushes never throw', async () => {
  const { fetch, navigator, sender, errors, localStorage } = setup({ nav: { accept: false } });
  const cyclic = ev(3);
  cyclic.properties.self = cyclic;
  const odd = { ...ev(6), toJSON: () => 'an event' };
  sender.enqueue([ev(1), ev(2, { properties: { i: 2, amount: 10n } }), cyclic, odd, ev(4)]);
  assert.equal(sender.size(), 2);
  assert.equal(errors.length, 3);
  assert.match(errors[0].message, /JSON/);
  assert.deepEqual(errors.map((e) => e.code), ['event_not_json', 'event_not_json', 'event_not_json']);
  assert.ok(errors.every((e) => e.name === 'BuyerpathError' && typeof e.hint === 'string'));
  assert.deepEqual(JSON.parse(localStorage.map.get('bp_queue')).map((e) => e.properties.i), [1, 4]);
  // A host changing its object afterwards does not reach the queued copy.
  const later = ev(5);
  sender.enqueue(later);
  later.properties.amount = 1n;
  let flushed;
  assert.doesNotThrow(() => (flushed = sender.flush({ beacon: true })));
  await flushed;
  await settle();
  assert.deepEqual(navigator.beacons.flatMap((b) => b.body.batch.map((e) => e.properties.i)), [1, 4, 5]);
  assert.deepEqual(fetch.requests.flatMap(ids), [1, 4, 5], 'the refused beacon went by keepalive fetch');
  assert.equal(sender.size(), 0);
});

test('an event without a messageId gets one (a v4 UUID)', async () => {
  const { fetch, sender } = setup({ sender: { crypto: uuids('id') } });
  const { messageId, ...bare } = ev(1);
  sender.enqueue(bare);
  await sender.flush();
  assert.equal(fetch.requests[0].body.batch[0].messageId, 'id-1');
});

test('foreign entries in the stored queue are not restored: only objects stamped with an allowed consent', async () => {
  const localStorage = fakeLocalStorage();
  localStorage.map.set(
    'bp_queue',
    JSON.stringify([null, 1, 'x', [], { context: null }, {}, ev(1), stamped(ev(2), 'none'), stamped(ev(3), 'full'), stamped(ev(4)), stamped(ev(5), 'bogus')]),
  );
  const { fetch, sender } = setup({ localStorage });
  assert.equal(sender.size(), 1);
  await sender.flush();
  assert.deepEqual(fetch.requests[0].body.batch, [stamped(ev(4))]);
  assert.deepEqual(
    JSON.parse(localStorage.map.get('bp_queue')),
    [stamped(ev(3), 'full')],
    'the stored queue is cleaned, but for the event of a tab given more consent (not this one’s to send or erase)',
  );
  localStorage.map.set('bp_queue', '{"a":1}');
  assert.equal(setup({ localStorage }).sender.size(), 0);
});

// A sender at full with one batch in flight (m1 stamped full, m2
// anonymous) whose request fails (a network error) only once `open()` is called.
async function inFlightAtFull() {
  let open;
  const gate = new Promise((resolve) => (open = resolve));
  const failing = fakeFetch(['network']);
  const slow = async (url, init) => {
    await gate;
    return failing(url, init);
  };
  const { sender, localStorage } = setup({ sender: { consent: 'full', fetch: slow } });
  sender.enqueue([stamped(ev(1), 'full'), stamped(ev(2), 'anonymous')]);
  const sent = sender.flush();
  await settle();
  return { sender, localStorage, failing, open, sent };
}

test('a withdrawal while a batch is in flight: its events above the new level are not stored again, answered or not', async () => {
  // The request fails only after the withdrawal (a slow network).
  const { sender, localStorage, failing, open, sent } = await inFlightAtFull();
  sender.setConsent('anonymous');
  assert.deepEqual(storedIds(localStorage), [2], 'withdrawn from storage at once');
  open();
  await sent;
  await settle();
  assert.equal(failing.requests.length, 1);
  assert.deepEqual(storedIds(localStorage), [2], 'the failed batch does not bring it back');
  sender.stop();
});

test('a sender stopped during an outage sends nothing more (no retry loop)', async () => {
  const { clock, fetch, sender } = setup({ script: Array(1000).fill('network') });
  sender.enqueue(Array.from({ length: 25 }, (_, i) => ev(i)));
  const first = sender.flush();
  sender.stop();
  await first;
  await settle();
  await clock.advance(600_000);
  await settle();
  assert.ok(fetch.requests.length <= 1, `${fetch.requests.length} requests after stop()`);
});

test('an event withdrawn while in flight stays withdrawn when the level is raised again before the answer', async () => {
  const { sender, localStorage, open, sent } = await inFlightAtFull();
  sender.setConsent('anonymous');
  sender.setConsent('full');
  assert.deepEqual(storedIds(localStorage), [2], 'not stored again by the raise');
  open();
  await sent;
  await settle();
  assert.equal(sender.size(), 1, 'nor queued again by the retry');
  assert.deepEqual(storedIds(localStorage), [2]);
  sender.stop();
});

// ------------------------------------------------------------ size limits
// Segment's HTTP API takes events up to 32 KB and batch requests up to
// 500 KB (the collector answers 413 past 500 KiB); a beacon or keepalive
// body stops at 64 KiB. Padded with 'é' (2 bytes in UTF-8, 1 JavaScript
// character): a sender counting characters would see half the size.
const KiB = 1024;
const bytes = (s) => Buffer.byteLength(s, 'utf8');
const padded = (i, size, extra = {}) => ev(i, { properties: { i, pad: 'é'.repeat(size / 2) }, ...extra });

test('a batch is cut by bytes too: 40 events of 14 KB with maxBatch 40 go in bodies under 450 KB, all delivered in order', async () => {
  const { fetch, sender, errors } = setup({ sender: { maxBatch: 40 } });
  const list = Array.from({ length: 40 }, (_, i) => padded(i, 14_000));
  sender.enqueue(list);
  await sender.flush();
  await settle();
  assert.ok(fetch.requests.length >= 2, `${fetch.requests.length} request(s)`);
  for (const r of fetch.requests) assert.ok(bytes(r.init.body) <= 450 * KiB, `a body of ${bytes(r.init.body)} bytes`);
  assert.deepEqual(fetch.requests.flatMap(ids), list.map((e) => e.properties.i));
  assert.equal(sender.size(), 0);
  assert.equal(errors.length, 0);
});

test('an event over 32 KiB of JSON is refused at enqueue (onError, event_too_large) and counted as dropped; one of 32 KiB exactly goes', async () => {
  const { fetch, sender, errors } = setup();
  // Sized as queued: stamped with the consent level.
  const exact = ev(2, { properties: { i: 2, pad: '' } });
  const size = bytes(JSON.stringify({ ...exact, context: { consent: 'anonymous' } }));
  exact.properties.pad = 'x'.repeat(32 * KiB - size);
  const over = ev(3, { properties: { i: 3, pad: 'x'.repeat(32 * KiB - size + 1) } });
  sender.enqueue([ev(1), padded(9, 40 * KiB, { event: 'SQL Reached' }), exact, over, ev(4)]);
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e.code === 'event_too_large'), errors.map((e) => e.message).join('; '));
  await sender.flush();
  await settle();
  const sent = fetch.requests.flatMap((r) => r.body.batch);
  assert.deepEqual(sent.filter((e) => e.event !== 'Signals Dropped').map((e) => e.properties.i), [1, 2, 4]);
  const reports = sent.filter((e) => e.event === 'Signals Dropped');
  assert.deepEqual(reports.map((e) => e.properties), [{ dropped: 2, essential_dropped: 1 }]);
  assert.equal(sender.size(), 0);
});

test('page exit with 200 KB queued: every beacon (and keepalive fetch) body stays within 64 KiB', async () => {
  for (const accept of [true, false]) {
    const { fetch, navigator, sender } = setup({ sender: { maxBatch: 100 }, nav: { accept } });
    const list = Array.from({ length: 40 }, (_, i) => padded(i, 5_000));
    sender.enqueue(list);
    await sender.flush({ beacon: true });
    await settle();
    assert.ok(navigator.beacons.length >= 4, `${navigator.beacons.length} beacon(s)`);
    for (const b of navigator.beacons) assert.ok(bytes(b.data) <= 64 * KiB, `a beacon of ${bytes(b.data)} bytes`);
    for (const r of fetch.requests) assert.ok(bytes(r.init.body) <= 64 * KiB, `a keepalive body of ${bytes(r.init.body)} bytes`);
    const delivered = accept ? navigator.beacons.map((b) => b.body.batch) : fetch.requests.map((r) => r.body.batch);
    assert.deepEqual(delivered.flat().map((e) => e.properties.i), list.map((e) => e.properties.i), `accept: ${accept}`);
    assert.equal(sender.size(), 0);
  }
});

test('page exit with 200 KB restored from an earlier page: every keepalive fetch body stays within 64 KiB', async () => {
  const localStorage = fakeLocalStorage();
  const list = Array.from({ length: 40 }, (_, i) => stamped(padded(i, 5_000)));
  localStorage.map.set('bp_queue', JSON.stringify(list));
  const { fetch, navigator, sender } = setup({ localStorage, sender: { maxBatch: 100 } });
  await sender.flush({ beacon: true });
  await settle();
  assert.equal(navigator.beacons.length, 0);
  assert.ok(fetch.requests.length >= 4, `${fetch.requests.length} request(s)`);
  for (const r of fetch.requests) {
    assert.equal(r.init.keepalive, true);
    assert.ok(bytes(r.init.body) <= 64 * KiB, `a keepalive body of ${bytes(r.init.body)} bytes`);
  }
  assert.deepEqual(fetch.requests.flatMap(ids), list.map((e) => e.properties.i));
});
