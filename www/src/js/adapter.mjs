// An Engine for the layer's `Engine` option that wraps the real one. It adds
// no engine logic; it only
//
// - records what the layer asks of the visitor (the state it started from,
//   every observed event and decide request, every decision), so that the
//   inspector can show the history and a test can replay the exact same calls
//   through the package in Node and compare the decisions;
// - continues an edge decision: when the edge worker already decided this
//   page (and injected the decision and the visitor state), the layer's first
//   decide returns that decision instead of deciding again, and the visitor
//   continues from the state the edge wrote;
// - hands events the edge cannot see (clicks, downloads, forms, custom
//   events) to a callback, which forwards them to the edge.
//
// The engine is compiled once per page: the layer's start() is called again
// when the demo switches visitor, and gets the same compiled engine.

const clone = (x) => (x === undefined ? undefined : JSON.parse(JSON.stringify(x)));

/**
 * @param {Function} RealEngine the package's Engine class
 * @param {{ edge?: { decision: object, signals: object[], state?: string } | null,
 *           onObserve?: (event: object) => void }} options
 */
export function demoEngine(RealEngine, { edge = null, onObserve } = {}) {
  let compiled = null;
  const sessions = [];
  let edgeUsed = false;

  function session(initial) {
    const s = { initial, calls: [], decisions: [] };
    sessions.push(s);
    return s;
  }

  function wrap(inner, s, pending) {
    let first = pending;
    return {
      get id() {
        return inner.id;
      },
      get migrated() {
        return inner.migrated;
      },
      observe(event) {
        const r = inner.observe(event);
        s.calls.push({ observe: clone(event) });
        if (onObserve) {
          try {
            onObserve(event);
          } catch {
            // forwarding is best effort
          }
        }
        return r;
      },
      decide(request) {
        if (first) {
          const d = first;
          first = null;
          s.calls.push({ edge: true });
          s.decisions.push(d);
          return d;
        }
        const d = inner.decide(request);
        s.calls.push({ decide: clone(request) });
        s.decisions.push(d);
        return d;
      },
      encode(secret) {
        return secret === undefined ? inner.encode() : inner.encode(secret);
      },
      explain() {
        return inner.explain();
      },
      free() {
        inner.free();
      },
    };
  }

  // The edge's visitor, once: later starts (a consent change) load the
  // stored state like any page would.
  function fromEdge() {
    if (!edge || edgeUsed || typeof edge.state !== 'string') return null;
    edgeUsed = true;
    const inner = compiled.decode(edge.state);
    const s = session({ state: edge.state, edge: true });
    // The edge forwarded what it could; the layer sends only what is pending.
    // With INSPECTOR off this is a brief answer, handed to the demo's own
    // onDecision (the inspector renders either kind) though the layer types
    // it as a full Decision: only this demo adapter does that.
    return wrap(inner, s, { ...edge.decision, signals: Array.isArray(edge.signals) ? edge.signals : [] });
  }

  class DemoEngine {
    constructor(playbook) {
      if (!compiled) compiled = new RealEngine(playbook);
    }
    get playbookId() {
      return compiled.playbookId;
    }
    get revision() {
      return compiled.revision;
    }
    get slots() {
      return compiled.slots;
    }
    visitor(id) {
      const e = fromEdge();
      if (e) return e;
      return wrap(compiled.visitor(id), session({ id }), null);
    }
    decode(state, options) {
      const e = fromEdge();
      if (e) return e;
      const inner = options && options.secret !== undefined ? compiled.decode(state, options) : compiled.decode(state);
      return wrap(inner, session({ state }), null);
    }
  }

  return { Engine: DemoEngine, sessions };
}
