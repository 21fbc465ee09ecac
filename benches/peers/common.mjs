// What both JavaScript peers share: the host code any implementation of the
// playbook's gates, fit and engagement needs around its rule evaluation —
// the attribute document, the engagement bookkeeping (half-life decay in
// millionths of a point, valued at a time moved an eighth of the shortest
// half-life at a time; daily caps, bot-like bursts, `only_if`) and the
// fit/gate arithmetic.
// Only *rule evaluation* differs between the peers: a hand-written evaluator
// (handwritten.mjs) or json-rules-engine (rules-engine.mjs). The arithmetic
// follows the engine's (src/observe.rs, src/engagement.rs, src/fit.rs,
// src/gates.rs) so the scores can be checked equal before anything is timed.
import { createHash } from 'node:crypto';

export const DAY_MS = 86400000;

/** Rust's `f64::round` (half away from zero); JS `Math.round` rounds -2.5 to -2. */
export const roundHalfAway = (x) => (x < 0 ? -Math.round(-x) : Math.round(x));
export const roundTo = (x, digits) => {
  const m = 10 ** digits;
  const r = roundHalfAway(x * m) / m;
  return r === 0 ? 0 : r;
};
const factor = (elapsed, halfLife) => (elapsed === 0 || !(halfLife > 0) ? 1 : 2 ** (-elapsed / halfLife));
export const decayFixed = (value, elapsed, halfLife) => (value === 0 || elapsed === 0 ? value : roundHalfAway(value * factor(elapsed, halfLife)));
/** The factor that moves a value at `from` to `to` (growth when `to` is earlier). */
const between = (from, to, halfLife) => (to >= from ? factor(to - from, halfLife) : !(halfLife > 0) ? 1 : 2 ** ((from - to) / halfLife));

/** Dotted path lookup; `null` counts as absent (undefined). */
export function lookup(doc, path) {
  let cur = doc;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = cur[seg];
  }
  return cur === null ? undefined : cur;
}

// ------------------------------------------------------------------ lists ($inList)

export function normalizeDomain(s) {
  let rest = s.trim().toLowerCase();
  const scheme = rest.indexOf('://');
  if (scheme > 0 && /^[a-z][a-z0-9+.-]*$/.test(rest.slice(0, scheme))) rest = rest.slice(scheme + 3);
  else if (rest.startsWith('//')) rest = rest.slice(2);
  rest = rest.split(/[/?#\\]/)[0];
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  rest = rest.split(':')[0].replace(/\.+$/, '');
  if (rest.startsWith('www.')) rest = rest.slice(4);
  return rest.trim();
}

/** `$inList` membership: plain or salted-SHA-256 lists, domains normalised. */
export function makeLists(lists = {}) {
  const out = new Map();
  for (const [name, l] of Object.entries(lists)) {
    const norm = l.kind === 'text' ? (s) => s.trim().toLowerCase() : normalizeDomain;
    const values = new Set(l.salt ? l.values : l.values.map(norm));
    out.set(name, (v) => {
      if (typeof v !== 'string') return false;
      const n = norm(v);
      return values.has(l.salt ? createHash('sha256').update(l.salt + n).digest('hex') : n);
    });
  }
  return out;
}

// ------------------------------------------------------------------ attributes

function tokens(raw) {
  return raw.toLowerCase().replaceAll('&', ' and ').split(/[^\p{L}\p{N}]+/u).filter(Boolean).slice(0, 32);
}

/** Title → seniority level id (the role model's phrases over normalised tokens). */
export function makeSeniority(roleModel = {}) {
  const syn = new Map(Object.entries(roleModel.synonyms || {}).map(([k, v]) => [k, tokens(v)]));
  const levels = (roleModel.seniority || []).map((s) => ({ id: s.id, phrases: s.titles.map(tokens) }));
  const has = (t, p) => {
    if (p.length === 0) return false;
    outer: for (let i = 0; i + p.length <= t.length; i++) {
      for (let j = 0; j < p.length; j++) if (t[i + j] !== p[j]) continue outer;
      return true;
    }
    return false;
  };
  return (title) => {
    const t = tokens(title).flatMap((x) => syn.get(x) || [x]);
    const level = levels.find((l) => l.phrases.some((p) => has(t, p)));
    return level ? level.id : undefined;
  };
}

/** BANT answers → bucket ids, per form field. */
export function makeBant(bant = []) {
  return bant.map((d) => ({ id: d.id, field: d.field, options: d.options.map((o) => ({ id: o.id, values: o.values.map((v) => v.trim().toLowerCase()) })) }));
}

/** The attribute document gates and fit read (what the engine's conditions see before classification). */
export function attributes(pb, state, request) {
  const ctx = request.context || {};
  const full = ctx.consent === 'full';
  const person = {};
  if (full && ctx.person && ctx.person.title) {
    person.title = ctx.person.title;
    const sen = pb.seniority(ctx.person.title);
    if (sen) person.seniority = sen;
  }
  const bant = {};
  if (full) for (const [k, v] of state.bant) bant[k] = v;
  const c = ctx.campaign || {};
  const page = {};
  if (ctx.page && ctx.page.content_id) {
    page.content_id = ctx.page.content_id;
    const item = pb.content.get(ctx.page.content_id);
    if (item) page.format = item.format;
  }
  if (ctx.page && ctx.page.url) page.url = ctx.page.url;
  return {
    company: ctx.company || {},
    account: ctx.account || {},
    person,
    bant,
    campaign: { source: c.source ?? null, medium: c.medium ?? null, name: c.name ?? null },
    page,
    consent: ctx.consent || 'none',
    visitor: { events: state.events, days_since_first: state.firstSeen > 0 ? Math.floor(Math.max(0, request.now - state.firstSeen) / DAY_MS) : 0 },
  };
}

// ------------------------------------------------------------------ the playbook, prepared

/** What both peers need from the playbook, outside rule evaluation. */
export function prepare(playbook) {
  const e = playbook.engagement;
  return {
    lists: makeLists(playbook.lists),
    seniority: makeSeniority(playbook.role_model),
    bant: makeBant(playbook.bant),
    content: new Map(playbook.content.map((c) => [c.id, c])),
    recentLimit: (playbook.state && playbook.state.recent_events) || 12,
    burstWindow: e.burst.window_seconds * 1000,
    burstMax: e.burst.max_events,
    saturation: e.saturation,
    // The state's valuation time moves once the clock is an eighth of this past it.
    shortest: Math.min(
      playbook.stage_model.half_life_days,
      playbook.role_model.half_life_days,
      ...e.rules.map((r) => r.half_life_days ?? e.half_life_days),
    ) * DAY_MS,
    rules: e.rules.map((r) => ({
      id: r.id,
      milli: roundHalfAway(r.points * 1000),
      cap: r.daily_cap === undefined ? null : roundHalfAway(r.daily_cap * 1000),
      halfLife: (r.half_life_days ?? e.half_life_days) * DAY_MS,
    })),
    gates: playbook.gates.filter((g) => g.require || g.exclude),
    criteria: playbook.fit.criteria.map((c) => {
      const weight = c.weight ?? 1;
      const otherwise = c.otherwise ?? 0;
      const best = Math.max(0, c.bands.reduce((m, b) => Math.max(m, b.points), otherwise));
      return { ...c, weight, otherwise, path: c.attribute.split('.'), max: best * weight };
    }),
    tiers: playbook.fit.tiers,
  };
}

// ------------------------------------------------------------------ engagement bookkeeping

export function newState() {
  return { events: 0, firstSeen: 0, anchor: 0, valuedAt: 0, recent: [], ignored: 0, aggs: new Map(), bant: new Map() };
}

/**
 * Folds one event: burst check, the clock and the valuation time, then the points of
 * every rule `matchRules(event, content)` returns (rule indices, in playbook
 * order), with daily caps.
 */
export function fold(pb, s, ev, matched) {
  s.events += 1;
  if (s.firstSeen === 0 || ev.ts < s.firstSeen) s.firstSeen = ev.ts;
  const start = Math.max(0, ev.ts - pb.burstWindow);
  let inWindow = 0;
  for (const r of s.recent) if (r >= start && r <= ev.ts) inWindow++;
  const burst = inWindow >= pb.burstMax;
  // the clock, and the valuation time once it is an eighth of the shortest half-life behind
  s.anchor = Math.max(s.anchor, ev.ts);
  const dt = s.anchor - s.valuedAt;
  if (dt > 0 && dt * 8 >= pb.shortest) {
    for (const [i, a] of s.aggs) a.micro = decayFixed(a.micro, dt, pb.rules[i].halfLife);
    s.valuedAt = s.anchor;
  }
  let pos = s.recent.length;
  while (pos > 0 && s.recent[pos - 1] > ev.ts) pos--;
  s.recent.splice(pos, 0, ev.ts);
  if (s.recent.length > pb.recentLimit) s.recent.splice(0, s.recent.length - pb.recentLimit);
  if (burst) {
    s.ignored += 1;
    return;
  }
  const day = Math.floor(ev.ts / DAY_MS);
  for (const i of matched) {
    const rule = pb.rules[i];
    let a = s.aggs.get(i);
    if (!a) s.aggs.set(i, (a = { micro: 0, capDay: 0, capUsed: 0 }));
    let pts = rule.milli;
    if (rule.cap !== null) {
      if (day > a.capDay) {
        a.capDay = day;
        a.capUsed = 0;
      }
      const used = day === a.capDay ? Math.min(Math.max(a.capUsed, 0), rule.cap) : rule.cap;
      const room = Math.max(rule.cap - used, 0);
      pts = Math.min(Math.max(pts, -room), room);
      if (day === a.capDay) a.capUsed += Math.abs(pts);
    }
    const micro = pts * 1000;
    a.micro += micro === 0 ? 0 : roundHalfAway(micro * between(ev.ts, s.valuedAt, rule.halfLife));
  }
  if (ev.type === 'form_submit' && ev.fields) {
    for (const d of pb.bant) {
      const answer = ev.fields[d.field];
      if (answer === undefined) continue;
      const opt = d.options.find((o) => o.values.includes(answer.trim().toLowerCase()));
      if (opt) s.bant.set(d.id, opt.id);
    }
  }
}

/** Engagement at `now`: every aggregate decayed, `onlyIf(ruleIndex)` filtered, summed, normalised. */
export function engagementAt(pb, s, now, onlyIf) {
  const dt = Math.max(now, s.anchor) - s.valuedAt;
  let total = 0;
  for (const [i, a] of s.aggs) {
    if (!onlyIf(i)) continue;
    total += decayFixed(a.micro, dt, pb.rules[i].halfLife);
  }
  const points = total / 1e6;
  return { score: roundTo(Math.min(Math.max((points / pb.saturation) * 100, 0), 100), 1), points: roundTo(points, 2) };
}

/** Fit from each criterion's matched band index (-1: otherwise; undefined: attribute unknown). */
export function fitFrom(pb, bandOf) {
  let total = 0;
  let fitMax = 0;
  for (let i = 0; i < pb.criteria.length; i++) {
    const c = pb.criteria[i];
    fitMax += c.max;
    const b = bandOf(i);
    if (b === undefined) continue;
    total += (b < 0 ? c.otherwise : c.bands[b].points) * c.weight;
  }
  const score = roundTo(fitMax > 0 ? Math.min(Math.max((total / fitMax) * 100, 0), 100) : 0, 1);
  const tier = (pb.tiers.find((t) => score >= t.min) || pb.tiers[pb.tiers.length - 1]).id;
  return { score, tier };
}

/** Attribute paths a condition reads (for the `unknown` gate status). */
export function conditionPaths(cond, out = new Set()) {
  for (const [k, v] of Object.entries(cond)) {
    if (k === '$and' || k === '$or' || k === '$nor') for (const c of v) conditionPaths(c, out);
    else if (k === '$not') conditionPaths(v, out);
    else out.add(k);
  }
  return out;
}
