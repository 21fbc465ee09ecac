// Replays the shared journey vectors (tests/vectors/*.json) through an Engine
// class from the built package. Runtime-neutral: the caller passes the Engine,
// the playbook text and a SHA-256 function (Node crypto, WebCrypto...).

/**
 * The decide request of a step: the journey's context with the step's keys laid
 * over it. As natively (src/journey.rs), a step may not ask for `detail`: a
 * journey's stored hashes are of full answers.
 */
export function request(journey, step, path = '$.steps[].decide') {
  if (step && Object.hasOwn(step, 'detail')) {
    throw Object.assign(new Error(`${path}.detail: unknown field \`detail\``), {
      code: 'unknown_field',
      path: `${path}.detail`,
      hint: 'a journey replays full answers; ask for `detail` when you call decide',
      expected: 'one of now, slots, context',
    });
  }
  return { ...step, context: { ...(journey.context ?? {}), ...(step.context ?? {}) } };
}

/**
 * Replays one vector; returns { name, decisions, digests, expected, mismatches }.
 * Decisions are the exact JSON strings the engine wrote (decideJson).
 */
export async function replayVector(Engine, playbookText, name, vector, sha256) {
  const engine = new Engine(playbookText);
  const j = vector.journey;
  const v = engine.visitor(j.visitor_id);
  const decisions = [];
  for (const [i, step] of j.steps.entries()) {
    if (step.observe) v.observe(step.observe);
    else decisions.push(v.decideJson(JSON.stringify(request(j, step.decide, `$.steps[${i}].decide`))));
  }
  const digests = [];
  for (const d of decisions) digests.push(await sha256(d));
  const mismatches = digests.map((d, i) => (d === vector.sha256[i] ? null : i + 1)).filter((x) => x !== null);
  if (decisions.length !== vector.sha256.length) mismatches.push('count');
  // The journey again with `detail: 'brief'`: each answer is the full one
  // without its explaining lists, key for key in the same order, and ASCII.
  const b = engine.visitor(j.visitor_id);
  let n = 0;
  for (const [i, step] of j.steps.entries()) {
    if (step.observe) {
      b.observe(step.observe);
      continue;
    }
    const brief = b.decideJson(JSON.stringify({ ...request(j, step.decide, `$.steps[${i}].decide`), detail: 'brief' }));
    const want = decisions[n] === undefined ? null : JSON.stringify(briefOf(JSON.parse(decisions[n])));
    n += 1;
    if (!/^[\x00-\x7f]*$/.test(brief) || JSON.stringify(JSON.parse(brief)) !== want) mismatches.push(`brief ${n}`);
  }
  b.free?.();
  v.free?.();
  engine.free?.();
  return { name, decisions: decisions.length, digests, mismatches };
}

/**
 * What `detail: 'brief'` answers for a full decision: the same, without the
 * gates, the fit criteria, the top engagement rules, the stage and role
 * distributions, the role's evidence and each pick's reasons.
 */
export function briefOf(decision) {
  const d = JSON.parse(JSON.stringify(decision));
  delete d.gates;
  delete d.fit.criteria;
  delete d.engagement.top;
  delete d.stage.distribution;
  delete d.role.evidence;
  delete d.role.distribution;
  for (const s of d.slots) for (const p of s.picks) delete p.reasons;
  return d;
}

/** Replays every vector; returns the per-vector results. */
export async function replayAll(Engine, playbookText, vectors, sha256) {
  const out = [];
  for (const [name, vector] of vectors) out.push(await replayVector(Engine, playbookText, name, vector, sha256));
  return out;
}

/** WebCrypto SHA-256 as lower-case hex (browsers, workerd, Deno, Node ≥ 19). */
export async function webSha256(text) {
  const buf = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
