// The playbook JSON Schema (schema/playbook.schema.json: what an editor
// validates a playbook with, through its "$schema") against the engine (the
// built package's `new Engine`, which runs `buyerpath check`'s rules).
//
// Every value rule the schema states is tried at its bounds and past them,
// with a pool of other values of its field, on the example playbook, and
// validated by both (ajv, draft-07). Two things must hold:
// - the schema never refuses a playbook the engine takes (no red squiggle on
//   a valid playbook);
// - where the engine refuses and the schema does not, the field is one of
//   the few whose rule a schema cannot state (ids other sections name,
//   falling tier minimums, calendar days...), and the engine's code is the
//   one that rule gives: listed below with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { requirePkg, pkgDir, playbookText, root } from './fixtures.mjs';

requirePkg();
const { Engine } = await import(`${pkgDir}/node.js`);
const schema = JSON.parse(readFileSync(join(root, 'schema', 'playbook.schema.json'), 'utf8'));
const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
const example = JSON.parse(playbookText);

/** The engine's first problem with a playbook, or null when it takes it. */
function engineProblem(doc) {
  try {
    new Engine(JSON.stringify(doc)).free();
    return null;
  } catch (e) {
    assert.equal(typeof e.code, 'string', `not a buyerpath error: ${e}`);
    return `${e.code} at ${e.path}`;
  }
}

// Where the example has (or can be given) one of each definition.
const firstWith = (list, key) => list.findIndex((x) => x[key] !== undefined);
const PLACES = {
  '': '',
  ActionSpec: '/actions/0',
  BandSpec: '/fit/criteria/0/bands/0',
  BantDimensionSpec: '/bant/0',
  BantOptionSpec: '/bant/0/options/0',
  BurstSpec: '/engagement/burst',
  ContentSpec: '/content/0',
  CriterionSpec: '/fit/criteria/0',
  EngagementRuleSpec: '/engagement/rules/0',
  EngagementSpec: '/engagement',
  ExplorationSpec: '/recommend/exploration',
  FitSpec: '/fit',
  GateSpec: '/gates/0',
  HandRaiseSpec: '/lifecycle/hand_raise/0',
  HoldoutSpec: '/holdout',
  LifecycleSpec: '/lifecycle',
  ListSpec: '/lists/competitors',
  PriorSpec: `/content/${firstWith(example.content, 'prior')}/prior`,
  RecommendSpec: '/recommend',
  RoleModelSpec: '/role_model',
  RoleSpec: '/roles/0',
  SenioritySpec: '/role_model/seniority/0',
  SignalsSpec: '/signals',
  SlotSpec: '/slots/0',
  StageModelSpec: '/stage_model',
  StageRuleSpec: '/stage_model/rules/0',
  StageSpec: '/stages/0',
  StateSpec: '/state',
  TierSpec: '/fit/tiers/0',
  TriggerSpec: '/triggers/0',
};

// Fields whose rule in the engine goes past what a schema can state: the
// engine's codes for them that the schema may let through, and why.
const cond = [['unknown_operator', 'unknown_attribute'], "a condition's own language: its operators, and what an event rule's may read"];
const BEYOND_A_SCHEMA = {
  'ActionSpec.when': cond,
  'BandSpec.when': cond,
  'ContentSpec.when': cond,
  'EngagementRuleSpec.when': cond,
  'EngagementRuleSpec.only_if': cond,
  'GateSpec.require': cond,
  'HandRaiseSpec.when': cond,
  'RecommendSpec.gated_requires': cond,
  'StageRuleSpec.when': cond,
  'StageSpec.requires': cond,
  'TriggerSpec.when': cond,
  'BurstSpec.max_events': [['out_of_range'], 'fewer than state.recent_events'],
  'StateSpec.recent_events': [['out_of_range'], 'more than engagement.burst.max_events'],
  'ContentSpec.start': [['invalid_date'], 'a calendar day (2026-02-30 is not one)'],
  'ContentSpec.end': [['invalid_date'], 'a calendar day'],
  'ContentSpec.format': [['default_not_allowed'], "a slot's default is of a format the slot shows"],
  'ContentSpec.id': [['unknown_content'], 'slots name content items'],
  'RoleSpec.id': [['unknown_role'], 'other sections name roles'],
  'StageSpec.id': [['unknown_stage'], 'other sections name stages'],
  'TierSpec.id': [['unknown_tier'], 'lifecycle.mql names the tiers'],
  'TierSpec.min': [['tiers_not_descending'], 'tier minimums fall from best to worst'],
  'FitSpec.tiers': [['tiers_not_descending', 'tiers_leave_gap'], 'tier minimums fall, the last is 0'],
  content: [['unknown_format'], 'slots name the formats'],
  roles: [['unknown_role'], 'other sections name roles'],
  stages: [['unknown_stage'], 'other sections name stages'],
  lists: [['unknown_list'], 'conditions name the lists ($inList)'],
};

// Strings for a field with a pattern (ids, dates).
const STRINGS = [
  '', ' ', 'a', 'Az09_.-', 'has space', 'a'.repeat(64), 'a'.repeat(65), 'ünï', 'a/b',
  '2026-01-31', '2026-1-1', '2026-13-01', '1969-12-31', '2026-02-30', '2026-01-01T00:00:00Z',
  'tomorrow',
];
// Numbers for every numeric field, beside its own bounds.
const NUMBERS = [-1, 0, 0.5, 1, 1e9 + 1, 4294967296];
// Anything for a field whose rule is its type (the conditions).
const ANY = [{}, { 'company.country': { $exists: true } }, { $exists: true }, 'x', 5, true, []];

/** The value's place in a copy of the example, made if missing. */
function withValue(pointer, property, value) {
  const doc = structuredClone(example);
  let at = doc;
  for (const key of pointer.split('/').slice(1)) {
    at[key] ??= {};
    at = at[key];
  }
  if (value === undefined) delete at[property];
  else at[property] = value;
  return doc;
}

/** Copies of an array's first element (ids made unique), or an object with copies of its first entry added. */
function copies(current, n) {
  if (Array.isArray(current)) {
    const first = current[0] ?? 'x';
    return Array.from({ length: n }, (_, k) =>
      first && typeof first === 'object' && 'id' in first ? { ...first, id: `${first.id}_${k}` } : first,
    );
  }
  // The entries the playbook names stay; copies of the first are added.
  const entries = Object.entries(current ?? {});
  const [name, value] = entries[0] ?? ['l', { values: [] }];
  for (let k = 0; entries.length < n; k++) entries.push([`${name}${k}`, value]);
  return Object.fromEntries(entries.slice(0, n));
}

/** Values to try in a field with these keywords (null and the bounds of each). */
function candidates(rule, current) {
  const types = [rule.type].flat();
  const out = [null];
  const bounds = (n) => [n - 1, n, n + 1];
  if (types.includes('number') || types.includes('integer')) out.push(...NUMBERS);
  if (rule.pattern || rule.items?.pattern) out.push(...STRINGS.map((s) => (rule.pattern ? s : [s])));
  if (types.includes('object') && !rule.propertyNames && !rule.additionalProperties) out.push(...ANY);
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum']) {
    if (typeof rule[k] === 'number') out.push(...bounds(rule[k]), rule[k] + 0.001, rule[k] - 0.001);
  }
  for (const k of ['minLength', 'maxLength']) {
    if (typeof rule[k] === 'number') out.push(...bounds(rule[k]).filter((n) => n >= 0).map((n) => 'a'.repeat(n)));
  }
  if ('const' in rule) out.push(rule.const, rule.const + 1);
  for (const e of rule.enum ?? []) out.push(e, `${e}x`);
  for (const e of rule.items?.enum ?? []) out.push([e], [`${e}x`]);
  for (const k of ['minItems', 'maxItems', 'maxProperties']) {
    if (typeof rule[k] === 'number') out.push(...bounds(rule[k]).filter((n) => n >= 0).map((n) => copies(current, n)));
  }
  // A repeated member (what `uniqueItems` refuses), and two distinct ones.
  if (rule.uniqueItems) out.push(['a', 'a'], ['a', 'b']);
  if (rule.propertyNames) for (const name of ['', ' ', '\u3000', '\ufeff', 'l']) out.push({ ...current, [name]: { values: [] } });
  // Wrong types inside: an item, an entry.
  if (rule.items) out.push([5], [null]);
  if (rule.additionalProperties) out.push({ ...current, [Object.keys(current)[0]]: '50' });
  if (rule.additionalProperties?.maximum !== undefined) {
    for (const n of [-1, 0, 100, 101]) out.push({ ...current, [Object.keys(current)[0]]: n });
  }
  return out;
}

const RULE_KEYWORDS = [
  'minimum', 'maximum', 'exclusiveMinimum', 'const', 'enum', 'pattern', 'minLength', 'maxLength',
  'minItems', 'maxItems', 'maxProperties', 'propertyNames', 'uniqueItems',
];
/** Every (definition, property, keywords) the schema gives a value rule. */
function rules() {
  const out = [];
  const defs = [['', schema], ...Object.entries(schema.definitions)];
  for (const [def, d] of defs) {
    for (const [prop, s] of Object.entries(d.properties ?? {})) {
      const ruled =
        RULE_KEYWORDS.some((k) => k in s) ||
        s.items?.enum ||
        s.items?.pattern ||
        s.additionalProperties?.maximum !== undefined ||
        (s.type === 'object' || (Array.isArray(s.type) && s.type[0] === 'object'));
      if (ruled && prop !== '$schema') out.push([def, prop, s]);
    }
  }
  return out;
}

test('the schema takes every playbook the repository ships', () => {
  const files = [
    'examples/acme/playbook.json',
    'examples/crm/playbook.r2.json',
    'www/dist/playbook.json',
    'www/dist/playbook.browser.json',
  ].filter((f) => existsSync(join(root, f)));
  assert.ok(files.length >= 2, files.join(', '));
  for (const f of files) {
    const doc = JSON.parse(readFileSync(join(root, f), 'utf8'));
    assert.equal(engineProblem(doc), null, f);
    assert.ok(validate(doc), `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  }
});

test('every value rule of the schema agrees with the engine at its bounds', (t) => {
  const all = rules();
  assert.ok(all.length >= 80, `${all.length} rules`);
  let tried = 0;
  let bothRefuse = 0;
  const falseRefusals = [];
  const missed = new Map();
  const excused = new Set();
  for (const [def, prop, rule] of all) {
    const place = PLACES[def];
    assert.notEqual(place, undefined, `no place in the example for ${def}: add one to PLACES`);
    const name = def ? `${def}.${prop}` : prop;
    const current = place.split('/').slice(1).reduce((at, k) => at?.[k], example)?.[prop];
    for (const value of [undefined, ...candidates(rule, current)]) {
      const doc = withValue(place, prop, value);
      const schemaOk = validate(doc);
      const problem = engineProblem(doc);
      tried++;
      if (!schemaOk && problem === null) {
        falseRefusals.push(`${name} = ${JSON.stringify(value)?.slice(0, 60)}: ${ajvErrors()}`);
      } else if (schemaOk && problem !== null) {
        const code = problem.split(' ')[0];
        const [codes] = BEYOND_A_SCHEMA[name] ?? [[]];
        if (codes.includes(code)) excused.add(name);
        else missed.set(name, `${JSON.stringify(value)?.slice(0, 60)} (${problem})`);
      } else if (!schemaOk) {
        bothRefuse++;
      }
    }
  }
  assert.deepEqual(falseRefusals, [], 'the schema refuses playbooks the engine takes');
  assert.deepEqual(Object.fromEntries(missed), {}, 'the engine refuses what the schema could have said');
  // Every excuse is still needed (a rule the schema came to state is no longer excused).
  assert.deepEqual(Object.keys(BEYOND_A_SCHEMA).filter((n) => !excused.has(n)), []);
  t.diagnostic(`${all.length} rules, ${tried} playbooks tried, ${bothRefuse} refused by both`);
  assert.ok(tried > 1000 && bothRefuse > 500, `${tried} tried, ${bothRefuse} refused by both`);
});

test('the schema states the rules no single field carries', () => {
  const gate = example.gates[0];
  const require = gate.require ?? gate.exclude;
  const gates = (g) => ({ ...example, gates: [g, ...example.gates.slice(1)] });
  const cases = [
    [gates({ ...gate, require, exclude: undefined }), true],
    [gates({ ...gate, require: undefined, exclude: require }), true],
    [gates({ ...gate, require, exclude: null }), true],
    [gates({ ...gate, require, exclude: require }), false],
    [gates({ ...gate, require: undefined, exclude: undefined }), false],
    [gates({ ...gate, require: null, exclude: null }), false],
  ];
  const hashed = (values) => ({ ...example, lists: { ...example.lists, h: { salt: 's', values } } });
  cases.push([hashed(['ab'.repeat(32)]), true], [hashed(['AB'.repeat(32)]), false], [hashed(['acme.com']), false]);
  for (const [doc, ok] of cases) {
    const label = JSON.stringify(doc.gates[0]).slice(0, 80) + JSON.stringify(doc.lists.h ?? '').slice(0, 40);
    assert.equal(engineProblem(doc) === null, ok, `engine: ${label}`);
    assert.equal(validate(doc), ok, `schema: ${label} ${ajvErrors()}`);
  }
});

function ajvErrors() {
  return JSON.stringify((validate.errors ?? []).slice(0, 2).map((e) => `${e.instancePath} ${e.message}`));
}
