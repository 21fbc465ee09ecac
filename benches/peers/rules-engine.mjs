// The playbook's gates, fit bands and engagement rules expressed as
// json-rules-engine rules (the most used JavaScript rules engine), with the
// shared host bookkeeping of common.mjs around them.
//
// Translation: every GrowthBook-style condition becomes a json-rules-engine
// condition tree (`all`/`any`/`not`; a dotted attribute `company.country` is
// fact `company` at path `$.country`). Built-in operators where the semantics
// agree (`equal notEqual in notIn lessThan lessThanInclusive greaterThan
// greaterThanInclusive`), and three custom operators where json-rules-engine
// has none: `exists`, `inList` (the playbook's named lists) and `anyInCi` (a
// fit band's case-insensitive `in`, also over array attributes such as
// `company.tech`). Two engines: one run per event (engagement rules on the
// event's facts) and one run per decision (gates, fit bands and engagement
// `only_if` on the attribute document). `engine.run` is asynchronous, as the
// library is.
import { Engine } from 'json-rules-engine';
import { attributes, conditionPaths, engagementAt, fitFrom, fold, lookup, newState, prepare } from './common.mjs';

const OPS = { $eq: 'equal', $ne: 'notEqual', $in: 'in', $nin: 'notIn', $lt: 'lessThan', $lte: 'lessThanInclusive', $gt: 'greaterThan', $gte: 'greaterThanInclusive' };

/** A dotted attribute path as a json-rules-engine fact reference. */
function fact(path) {
  const [f, ...rest] = path.split('.');
  return rest.length ? { fact: f, path: `$.${rest.join('.')}` } : { fact: f };
}

/** GrowthBook/MongoDB condition → json-rules-engine condition. */
export function translate(cond) {
  const all = [];
  for (const [k, v] of Object.entries(cond)) {
    if (k === '$and') all.push({ all: v.map(translate) });
    else if (k === '$or') all.push(v.length ? { any: v.map(translate) } : { all: [] });
    else if (k === '$nor') all.push({ not: { any: v.map(translate) } });
    else if (k === '$not') all.push({ not: translate(v) });
    else all.push(valueCondition(k, v));
  }
  return all.length === 1 ? all[0] : { all };
}

function valueCondition(path, v) {
  const isOps = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).every((k) => k.startsWith('$'));
  if (!isOps) return { ...fact(path), operator: 'equal', value: v };
  const parts = Object.entries(v).map(([op, x]) => {
    if (op === '$exists') return { ...fact(path), operator: 'exists', value: x };
    if (op === '$inList') return { ...fact(path), operator: 'inList', value: x };
    if (op === '$not') return { not: valueCondition(path, x) };
    if (!OPS[op]) throw new Error(`no json-rules-engine translation for ${op}`);
    return { ...fact(path), operator: OPS[op], value: x };
  });
  return parts.length === 1 ? parts[0] : { all: parts };
}

/** Compiles the playbook into two json-rules-engine engines. */
export function compile(playbook) {
  const pb = prepare(playbook);
  const operators = (engine) => {
    engine.addOperator('exists', (a, b) => (a !== undefined && a !== null) === b);
    engine.addOperator('inList', (a, name) => {
      const has = pb.lists.get(name);
      return !!has && (Array.isArray(a) ? a.some(has) : has(a));
    });
    engine.addOperator('anyInCi', (a, values) => {
      const hit = (x) => typeof x === 'string' && values.includes(x.toLowerCase());
      return Array.isArray(a) ? a.some(hit) : hit(a);
    });
    return engine;
  };
  const options = { allowUndefinedFacts: true };

  // Per event: the engagement rules.
  const events = operators(new Engine([], options));
  playbook.engagement.rules.forEach((r, i) => {
    const all = [];
    if (r.event !== '*') all.push({ fact: 'type', operator: 'equal', value: r.event });
    if (r.formats) all.push({ fact: 'content', path: '$.format', operator: 'in', value: r.formats });
    if (r.when) all.push(translate(r.when));
    events.addRule({ name: r.id, conditions: { all }, event: { type: 'engagement', params: { i } } });
  });

  // Per decision: gates, fit bands, engagement `only_if`.
  const decide = operators(new Engine([], options));
  pb.gates.forEach((g, i) => {
    decide.addRule({ name: `gate:${g.id}`, conditions: { all: [translate(g.require || g.exclude)] }, event: { type: 'gate', params: { i } } });
  });
  pb.criteria.forEach((c, ci) => {
    c.bands.forEach((b, bi) => {
      const all = [];
      const f = fact(c.attribute);
      if (b.min !== undefined) all.push({ ...f, operator: 'greaterThanInclusive', value: b.min });
      if (b.max !== undefined) all.push({ ...f, operator: 'lessThan', value: b.max });
      if (b.in) all.push({ ...f, operator: 'anyInCi', value: b.in.map((x) => x.toLowerCase()) });
      if (b.when) all.push(translate(b.when));
      decide.addRule({ name: `band:${c.id}:${bi}`, conditions: { all }, event: { type: 'band', params: { c: ci, b: bi } } });
    });
  });
  const onlyIf = [];
  playbook.engagement.rules.forEach((r, i) => {
    if (!r.only_if) return;
    onlyIf.push(i);
    decide.addRule({ name: `only_if:${r.id}`, conditions: { all: [translate(r.only_if)] }, event: { type: 'only_if', params: { i } } });
  });
  const gatePaths = pb.gates.map((g) => [...conditionPaths(g.require || g.exclude)].map((p) => p.split('.')));

  return {
    name: 'json-rules-engine',
    newVisitor: newState,
    async observe(s, ev) {
      const content = ev.content_id === undefined ? undefined : pb.content.get(ev.content_id);
      const facts = {
        type: ev.type, name: ev.name, cta: ev.cta, form: ev.form, dwell_seconds: ev.dwell_seconds,
        content: content ? { id: content.id, format: content.format, stages: content.stages, roles: content.roles, topics: content.topics, industries: content.industries, gated: !!content.gated } : ev.content_id !== undefined ? { id: ev.content_id } : undefined,
      };
      const { events: hits } = await events.run(facts);
      fold(pb, s, ev, hits.map((e) => e.params.i).sort((a, b) => a - b));
    },
    async score(s, request) {
      const attrs = attributes(pb, s, request);
      const { events: hits } = await decide.run(attrs);
      const gatePass = new Set();
      const bands = new Map();
      const allowed = new Set();
      for (const e of hits) {
        if (e.type === 'gate') gatePass.add(e.params.i);
        else if (e.type === 'band') {
          const prev = bands.get(e.params.c);
          if (prev === undefined || e.params.b < prev) bands.set(e.params.c, e.params.b);
        } else allowed.add(e.params.i);
      }
      let qualified = true;
      const gates = pb.gates.map((g, i) => {
        if (!gatePaths[i].some((p) => lookup(attrs, p) !== undefined)) return 'unknown';
        if (gatePass.has(i) !== !!g.exclude) return 'pass';
        qualified = false;
        return 'fail';
      });
      const fit = fitFrom(pb, (i) => (lookup(attrs, pb.criteria[i].path) === undefined ? undefined : bands.get(i) ?? -1));
      const onlyIfSet = new Set(onlyIf);
      const engagement = engagementAt(pb, s, request.now, (i) => !onlyIfSet.has(i) || allowed.has(i));
      return { qualified, gates, fit, engagement };
    },
  };
}
