// Every error bad input gets from the package carries a code, a JSON path and
// a hint saying what to do, at the top and in each of its issues: a corpus
// of bad playbooks, events, decide requests, states, decode options and
// conditions (each case names the code and path it reaches), covering the
// places that gave no hint before (ranges, lengths, counts, JSON types, ids,
// dates, and names without a near one to suggest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkgDir, playbookText, requirePkg } from './fixtures.mjs';

requirePkg();
const { Engine, Visitor, CompiledCondition } = await import(`${pkgDir}/node.js`);

const base = JSON.parse(playbookText);
const NOW = 1_793_610_000_000;

/** The example playbook changed by `edit` (which may return a new root). */
function playbook(edit) {
  const p = structuredClone(base);
  return edit(p) ?? p;
}

// [what, the input, the code and the path of its first issue]
const playbooks = [
  ['not an object', () => [], 'invalid_type', '$'],
  ['name over 200 bytes', (p) => { p.name = 'n'.repeat(201); }, 'too_long', '$.name'],
  ['weight over 1000', (p) => { p.fit.criteria[0].weight = 1001; }, 'out_of_range', '$.fit.criteria[0].weight'],
  ['negative weight', (p) => { p.fit.criteria[0].weight = -1; }, 'negative_weight', '$.fit.criteria[0].weight'],
  ['tiers rising', (p) => { p.fit.tiers.reverse(); }, 'tiers_not_descending', '$.fit.tiers[1].min'],
  ['last tier above 0', (p) => { p.fit.tiers[p.fit.tiers.length - 1].min = 5; }, 'tiers_leave_gap', '$.fit.tiers[3].min'],
  ['empty stages', (p) => { p.stages = []; }, 'empty_section', '$.stages'],
  ['unknown stage, no near name', (p) => { p.content[0].stages = ['zzzzzzzz']; }, 'unknown_stage', '$.content[0].stages[0]'],
  ['unknown field, no near name', (p) => { p.qqqqqqq = 1; }, 'unknown_field', '$.qqqqqqq'],
  ['a word for a number', (p) => { p.slots[0].count = 'three'; }, 'invalid_type', '$.slots[0].count'],
  ['negative integer', (p) => { p.revision = -1; }, 'invalid_value', '$.revision'],
  ['slot count 11', (p) => { p.slots[0].count = 11; }, 'out_of_range', '$.slots[0].count'],
  ['recommend weight 11', (p) => { p.recommend = { ...p.recommend, role_weight: 11 }; }, 'out_of_range', '$.recommend.role_weight'],
  ['max_per_format 0', (p) => { p.recommend = { ...p.recommend, max_per_format: 0 }; }, 'out_of_range', '$.recommend.max_per_format'],
  ['recent_events over the limit', (p) => { p.state = { ...p.state, recent_events: 100_000 }; }, 'out_of_range', '$.state.recent_events'],
  ['bad id', (p) => { p.content[0].id = 'has space'; }, 'invalid_id', '$.content[0].id'],
  ['bad date', (p) => { p.content[0].start = '2027-13-45'; }, 'invalid_date', '$.content[0].start'],
  ['end before start', (p) => { Object.assign(p.content[0], { start: '2027-02-01', end: '2027-01-01' }); }, 'end_before_start', '$.content[0].end'],
  ['title over 300 bytes', (p) => { p.content[0].title = 't'.repeat(301); }, 'too_long', '$.content[0].title'],
  ['holdout 60%', (p) => { p.holdout = { ...p.holdout, percent: 60 }; }, 'out_of_range', '$.holdout.percent'],
  ['points over 1e9', (p) => { p.engagement.rules[0].points = 2e9; }, 'out_of_range', '$.engagement.rules[0].points'],
  ['unknown event type in a rule', (p) => { p.engagement.rules[0].event = 'qqqqqqq'; }, 'unknown_event_type', '$.engagement.rules[0].event'],
  ['empty list name', (p) => { p.lists = { ...p.lists, ' ': { values: ['acme.com'] } }; }, 'invalid_list_name', '$.lists[" "]'],
  ['empty list value', (p) => { p.lists = { ...p.lists, extra: { values: ['  '] } }; }, 'invalid_list_value', '$.lists.extra.values[0]'],
  ['unknown operator', (p) => { p.gates[0].require = { 'company.country': { $qqqqqq: 1 } }; }, 'unknown_operator', '$.gates[0].require.company.country.$qqqqqq'],
  ['$in not an array', (p) => { p.gates[0].require = { 'company.country': { $in: 'US' } }; }, 'invalid_operand', '$.gates[0].require.company.country.$in'],
  ['regex too long', (p) => { p.gates[0].require = { 'company.domain': { $regex: 'a'.repeat(300) } }; }, 'regex_too_large', '$.gates[0].require.company.domain.$regex'],
  ['unknown list', (p) => { p.gates[0].require = { 'company.domain': { $inList: 'zzzzzzzzzz' } }; }, 'unknown_list', '$.gates[0].require.company.domain.$inList'],
];

const events = [
  ['not an object', '[]', 'invalid_type', '$'],
  ['too large', { type: 'page_view', ts: NOW, url: '/' + 'u'.repeat(40_000) }, 'event_too_large', '$'],
  ['ts in microseconds', { type: 'page_view', ts: NOW * 1000 * 1000 }, 'out_of_range', '$.ts'],
  ['url over 2048 bytes', { type: 'page_view', ts: NOW, url: '/' + 'u'.repeat(2048) }, 'too_long', '$.url'],
  ['dwell over a day', { type: 'page_view', ts: NOW, dwell_seconds: 90_000 }, 'out_of_range', '$.dwell_seconds'],
  ['over 32 fields', { type: 'form_submit', ts: NOW, fields: Object.fromEntries([...Array(33).keys()].map((i) => [`f${i}`, 'x'])) }, 'too_many', '$.fields'],
  ['field value over 256 bytes', { type: 'form_submit', ts: NOW, fields: { budget: 'b'.repeat(300) } }, 'too_long', '$.fields.budget'],
  ['unknown type, no near name', { type: 'qqqqqqqq', ts: NOW }, 'unknown_event_type', '$.type'],
  ['negative ts', { type: 'page_view', ts: -1 }, 'invalid_value', '$.ts'],
];

const requests = [
  ['not an object', 'null', 'invalid_type', '$'],
  ['too large', { now: NOW, context: { company: { blob: 'x'.repeat(20_000) } } }, 'context_too_large', '$'],
  ['now out of range', { now: 9e15 }, 'out_of_range', '$.now'],
  ['over 16 slots', { now: NOW, slots: Array(17).fill('hero') }, 'too_many', '$.slots'],
  ['unknown slot, no near name', { now: NOW, slots: ['qqqqqqqq'] }, 'unknown_slot', '$.slots[0]'],
  ['over 64 attributes', { now: NOW, context: { company: Object.fromEntries([...Array(65).keys()].map((i) => [`a${i}`, 1])) } }, 'too_many', '$.context.company'],
  ['attribute too deep', { now: NOW, context: { company: { a: { b: { c: { d: { e: { f: 1 } } } } } } } }, 'invalid_value', '$.context.company.a'],
  ['title over 256 bytes', { now: NOW, context: { consent: 'full', person: { title: 't'.repeat(257) } } }, 'too_long', '$.context.person.title'],
  ['unknown consent, no near name', { now: NOW, context: { consent: 'qqqqqqq' } }, 'unknown_variant', '$.context.consent'],
  ['context a number', { now: NOW, context: 5 }, 'invalid_type', '$.context'],
];

/** The error `fn` throws (it must throw). */
function thrown(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('did not throw');
}

function assertComplete(what, err, code, path) {
  assert.ok(err instanceof Error, `${what}: ${err}`);
  assert.deepEqual([err.code, err.path], [code, path], `${what}: ${err.message}`);
  const complete = (x) => typeof x.code === 'string' && x.code !== '' && typeof x.path === 'string' && x.path.startsWith('$') && typeof x.hint === 'string' && x.hint.trim() !== '';
  assert.ok(complete(err), `${what}: ${err.code} at ${err.path}, hint ${JSON.stringify(err.hint)}: ${err.message}`);
  assert.ok(Array.isArray(err.issues) && err.issues.length > 0, `${what}: issues`);
  for (const i of err.issues) assert.ok(complete(i), `${what}: issue ${JSON.stringify(i)}`);
}

test('every refused playbook says what to do, at every issue', () => {
  for (const [what, edit, code, path] of playbooks) {
    assertComplete(`playbook: ${what}`, thrown(() => new Engine(JSON.stringify(playbook(edit)))), code, path);
  }
});

test('every refused event, decide request, state and option says what to do', () => {
  const engine = new Engine(playbookText);
  const v = engine.visitor('hints');
  const text = (x) => (typeof x === 'string' ? x : JSON.stringify(x));
  for (const [what, event, code, path] of events) assertComplete(`event: ${what}`, thrown(() => v.observeJson(text(event))), code, path);
  for (const [what, req, code, path] of requests) assertComplete(`request: ${what}`, thrown(() => v.decideJson(text(req))), code, path);
  v.observeJson(text({ type: 'page_view', ts: NOW, content_id: 'pricing' }));
  const plain = v.encode();
  const signed = v.encode('right-key');
  const flipped = signed.slice(0, 40) + (signed[40] === 'A' ? 'B' : 'A') + signed.slice(41);
  for (const [what, fn, code, path] of [
    ['not a state', () => Visitor.decode(engine, 'qqqq'), 'state_garbage', '$.state'],
    ['unsigned where a signature is required', () => Visitor.decode(engine, plain, { secret: 's' }), 'state_unsigned', '$.state'],
    ['a character of a signed state changed', () => Visitor.decode(engine, flipped, { secret: 'right-key' }), 'state_bad_signature', '$.state'],
    // The option named is the one that is wrong.
    ['now not a number', () => Visitor.decode(engine, plain, { now: 'x', maxIdleMs: 5 }), 'invalid_argument', '$.now'],
    ['now negative', () => Visitor.decode(engine, plain, { now: -1, maxIdleMs: 5 }), 'invalid_argument', '$.now'],
    ['maxIdleMs negative', () => Visitor.decode(engine, plain, { now: NOW, maxIdleMs: -5 }), 'invalid_argument', '$.maxIdleMs'],
  ]) {
    assertComplete(`decode: ${what}`, thrown(fn), code, path);
  }
  for (const [what, cond, code, path] of [
    ['unknown operator', { a: { $qqqqqq: 1 } }, 'unknown_operator', '$.a.$qqqqqq'],
    ['$type of a number', { a: { $type: 3 } }, 'invalid_operand', '$.a.$type'],
    ['$and not an array', { $and: { a: 1 } }, 'invalid_operand', '$.$and'],
  ]) {
    assertComplete(`condition: ${what}`, thrown(() => new CompiledCondition(cond)), code, path);
  }
  v.free();
  engine.free();
});
