// The "why not just write it in JavaScript" baseline: the playbook's gates,
// fit and engagement rules evaluated by a straightforward hand-written
// interpreter of the condition language (the operators the playbook uses,
// with GrowthBook's semantics), plus the shared bookkeeping of common.mjs.
// No stages, roles, recommendations, signals or state encoding: it computes
// only the scores the engine's decision also contains.
import { attributes, conditionPaths, engagementAt, fitFrom, fold, lookup, newState, prepare } from './common.mjs';

/** A minimal evaluator for the GrowthBook/MongoDB conditions used by the playbook. */
export function makeEval(lists) {
  const get = (doc, path) => {
    let cur = doc;
    for (const seg of path.split('.')) {
      if (cur === null || cur === undefined || typeof cur !== 'object') return null;
      cur = cur[seg];
    }
    return cur === undefined ? null : cur;
  };
  const isOps = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).every((k) => k.startsWith('$'));
  const eq = (a, b) => a === b || (a !== null && b !== null && typeof a === 'object' && JSON.stringify(a) === JSON.stringify(b));
  const inArr = (actual, arr) => (Array.isArray(actual) ? actual.some((x) => arr.some((y) => eq(x, y))) : arr.some((y) => eq(actual, y)));
  function op(o, expected, actual) {
    switch (o) {
      case '$eq': return actual === expected;
      case '$ne': return actual !== expected;
      case '$lt': return actual < expected;
      case '$lte': return actual <= expected;
      case '$gt': return actual > expected;
      case '$gte': return actual >= expected;
      case '$in': return Array.isArray(expected) && inArr(actual, expected);
      case '$nin': return Array.isArray(expected) && !inArr(actual, expected);
      case '$exists': return expected ? actual !== null : actual === null;
      case '$not': return !value(expected, actual);
      case '$inList': {
        const has = lists.get(expected);
        return !!has && (Array.isArray(actual) ? actual.some(has) : has(actual));
      }
      default: throw new Error(`operator ${o} is not implemented in the hand-written baseline`);
    }
  }
  function value(expected, actual) {
    if (isOps(expected)) {
      for (const [o, v] of Object.entries(expected)) if (!op(o, v, actual)) return false;
      return true;
    }
    return eq(actual, expected);
  }
  function evalCond(cond, doc) {
    for (const [k, v] of Object.entries(cond)) {
      if (k === '$or') { if (v.length && !v.some((c) => evalCond(c, doc))) return false; }
      else if (k === '$and') { if (!v.every((c) => evalCond(c, doc))) return false; }
      else if (k === '$nor') { if (v.some((c) => evalCond(c, doc))) return false; }
      else if (k === '$not') { if (evalCond(v, doc)) return false; }
      else if (!value(v, get(doc, k))) return false;
    }
    return true;
  }
  return evalCond;
}

/** Compiles the playbook for the hand-written scorer. */
export function compile(playbook) {
  const pb = prepare(playbook);
  const evalCond = makeEval(pb.lists);
  const rules = playbook.engagement.rules.map((r) => ({
    type: r.event,
    formats: r.formats ? new Set(r.formats) : null,
    when: r.when || null,
    onlyIf: r.only_if || null,
  }));
  const gates = pb.gates.map((g) => ({ ...g, paths: [...conditionPaths(g.require || g.exclude)].map((p) => p.split('.')) }));
  const criteria = pb.criteria.map((c) => ({ ...c, bands: c.bands.map((b) => ({ ...b, in: b.in ? b.in.map((x) => x.toLowerCase()) : null })) }));

  /** The engagement rules an event matches (indices). */
  function match(ev) {
    const content = ev.content_id === undefined ? undefined : pb.content.get(ev.content_id);
    let doc = null;
    const out = [];
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if (r.type !== '*' && r.type !== ev.type) continue;
      if (r.formats && !(content && r.formats.has(content.format))) continue;
      if (r.when) {
        doc ??= {
          type: ev.type, name: ev.name, cta: ev.cta, form: ev.form, dwell_seconds: ev.dwell_seconds,
          content: content ? { id: content.id, format: content.format, stages: content.stages, roles: content.roles, topics: content.topics, industries: content.industries, gated: !!content.gated } : ev.content_id !== undefined ? { id: ev.content_id } : undefined,
        };
        if (!evalCond(r.when, doc)) continue;
      }
      out.push(i);
    }
    return out;
  }

  function bandMatches(b, v, attrs) {
    if (b.min !== undefined || b.max !== undefined) {
      if (typeof v !== 'number') return false;
      if ((b.min !== undefined && v < b.min) || (b.max !== undefined && v >= b.max)) return false;
    }
    if (b.in) {
      const hit = (x) => typeof x === 'string' && b.in.includes(x.toLowerCase());
      if (!(Array.isArray(v) ? v.some(hit) : hit(v))) return false;
    }
    return b.when ? evalCond(b.when, attrs) : true;
  }

  return {
    name: 'hand-written JS',
    newVisitor: newState,
    observe(s, ev) {
      fold(pb, s, ev, match(ev));
    },
    /** Gates, fit and engagement at `request.now`. */
    score(s, request) {
      const attrs = attributes(pb, s, request);
      let qualified = true;
      const gateStatus = gates.map((g) => {
        if (!g.paths.some((p) => lookup(attrs, p) !== undefined)) return 'unknown';
        if (evalCond(g.require || g.exclude, attrs) !== !!g.exclude) return 'pass';
        qualified = false;
        return 'fail';
      });
      const fit = fitFrom(pb, (i) => {
        const c = criteria[i];
        const v = lookup(attrs, c.path);
        if (v === undefined) return undefined;
        const b = c.bands.findIndex((band) => bandMatches(band, v, attrs));
        return b;
      });
      const engagement = engagementAt(pb, s, request.now, (i) => !rules[i].onlyIf || evalCond(rules[i].onlyIf, attrs));
      return { qualified, gates: gateStatus, fit, engagement };
    },
  };
}
