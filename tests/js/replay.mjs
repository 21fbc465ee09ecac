// Replays the shared journey vectors (tests/vectors/*.json) through an Engine
// class from the built package. Runtime-neutral: the caller passes the Engine,
// the playbook text and a SHA-256 function (Node crypto, WebCrypto...).

/** The decide request of a step: the journey's context with the step's keys laid over it. */
export function request(journey, step) {
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
  for (const step of j.steps) {
    if (step.observe) v.observe(step.observe);
    else decisions.push(v.decideJson(JSON.stringify(request(j, step.decide))));
  }
  const digests = [];
  for (const d of decisions) digests.push(await sha256(d));
  const mismatches = digests.map((d, i) => (d === vector.sha256[i] ? null : i + 1)).filter((x) => x !== null);
  if (decisions.length !== vector.sha256.length) mismatches.push('count');
  v.free?.();
  engine.free?.();
  return { name, decisions: decisions.length, digests, mismatches };
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
