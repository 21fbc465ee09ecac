// The built package in Node: every shared journey vector replayed byte for
// byte (SHA-256 of each decision's JSON), errors as JS Errors with code/path/hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { requirePkg, vectors, playbookText, pkgDir } from './fixtures.mjs';
import { replayAll, request, briefOf } from './replay.mjs';

requirePkg();
const { Engine, Visitor, CompiledCondition } = await import(`${pkgDir}/node.js`);
const sha256 = async (s) => createHash('sha256').update(s).digest('hex');

test('every journey vector replays byte for byte in Node', async () => {
  const all = vectors();
  assert.ok(all.length >= 12, `${all.length} vectors`);
  const results = await replayAll(Engine, playbookText, all, sha256);
  const decisions = results.reduce((n, r) => n + r.decisions, 0);
  assert.ok(decisions >= 24, `${decisions} decisions`);
  const bad = results.filter((r) => r.mismatches.length);
  assert.deepEqual(bad.map((r) => `${r.name}: ${r.mismatches}`), []);
});

test('decide returns the same object as decideJson, and the playbook may be an object', () => {
  const [, v] = vectors()[0];
  const j = v.journey;
  const a = new Engine(playbookText).visitor(j.visitor_id);
  const b = new Engine(JSON.parse(playbookText)).visitor(j.visitor_id);
  for (const step of j.steps) {
    if (step.observe) {
      a.observe(step.observe);
      b.observe(JSON.stringify(step.observe));
    } else {
      const req = request(j, step.decide);
      assert.deepEqual(a.decide(req), JSON.parse(b.decideJson(JSON.stringify(req))));
    }
  }
  assert.match(a.explain(), /^Visitor /);
});

test('state round-trips through encode/decode, signed and unsigned', () => {
  const engine = new Engine(playbookText);
  const v = engine.visitor('round-trip-1');
  for (let i = 0; i < 50; i++) v.observe({ type: 'page_view', ts: 1793610000000 + i * 600000, content_id: 'pricing', dwell_seconds: 30 });
  const plain = v.encode();
  const signed = v.encode('s3cret');
  assert.ok(plain.length <= 1200 && /^[A-Za-z0-9_-]+$/.test(plain));
  assert.equal(engine.decode(plain).encode(), plain);
  assert.equal(Visitor.decode(engine, signed, { secret: 's3cret' }).encode('s3cret'), signed);
  assert.throws(() => engine.decode(signed, { secret: 'wrong' }), (e) => e.code === 'state_bad_signature');
  assert.throws(() => engine.decode(plain, { secret: 's3cret' }), (e) => e.code === 'state_unsigned');
});

test('bad input throws Errors with code, path and hint, never a panic', async () => {
  assert.throws(() => new Engine('{"version":1'), (e) => e instanceof Error && e.code === 'invalid_json' && e.path === '$');
  const broken = JSON.parse(playbookText);
  broken.content[3].stages[0] = 'supplier_selecton';
  broken.fit.criteria[2].weight = -2;
  assert.throws(() => new Engine(broken), (e) => e.issues.length === 2 && e.issues.some((i) => i.hint === 'did you mean `supplier_selection`?'));
  assert.throws(() => new Engine(42), (e) => e.code === 'invalid_argument');
  const engine = new Engine(playbookText);
  const v = engine.visitor('bad-input');
  assert.throws(() => v.observe({ type: 'page_veiw', ts: 1 }), (e) => e.code === 'unknown_event_type' && e.path === '$.type' && e.hint === 'did you mean `page_view`?');
  assert.throws(() => v.observe({ type: 'page_view', ts: 1, email: 'a@b.c' }), (e) => e.code === 'unknown_field');
  assert.throws(() => v.decide({ now: 1, slots: ['heroo'] }), (e) => e.code === 'unknown_slot');
  assert.throws(() => engine.visitor('jane@example.com'), (e) => e.code === 'invalid_visitor_id');
  for (const garbage of ['', 'x', 'QgEA', 'A'.repeat(9000), '!!!']) {
    assert.throws(() => engine.decode(garbage), (e) => typeof e.code === 'string' && e.code.startsWith('state_'));
  }
  // A string argument that is not a string (JSON.stringify forgotten, null,
  // a number) is the package's error, not a Wasm trap or a glue TypeError.
  const wrongType = (found) => (e) => e.name === 'BuyerpathError' && e.code === 'invalid_argument' && e.path === '$' && e.message.includes(`found ${found}`);
  assert.throws(() => v.decideJson({ now: 1793610000000 }), wrongType('an object'));
  assert.throws(() => v.observeJson([{ type: 'page_view' }]), wrongType('an array'));
  assert.throws(() => v.recordJson(null), wrongType('null'));
  assert.throws(() => engine.visitor(42), wrongType('a number'));
  assert.throws(() => engine.decode(undefined), wrongType('undefined'));
  assert.throws(() => v.encode(7), wrongType('a number'));
  assert.match(attempt(() => v.decideJson({})).hint, /JSON\.stringify/);
  const cyclic = { type: 'page_view', ts: 1 };
  cyclic.self = cyclic;
  assert.throws(() => v.observe(cyclic), (e) => e.code === 'invalid_argument' && /cannot be written as JSON: .*circular/i.test(e.message));
  assert.throws(() => v.observe({ type: 'page_view', ts: 1n }), (e) => e.code === 'invalid_argument' && /BigInt/.test(e.message));
  // Text past every limit is refused before it is copied into Wasm memory
  // (which never shrinks); past an input's own limit but not over 4 Mi
  // characters, the engine refuses it with the input's code.
  const huge = `{"type":"page_view","ts":1,"url":"/${'é'.repeat(5 * 1024 * 1024)}"}`;
  assert.throws(() => v.observeJson(huge), (e) => e.name === 'BuyerpathError' && e.code === 'input_too_large' && /Limits/.test(e.hint));
  assert.throws(() => new Engine(' '.repeat(4 * 1024 * 1024 + 1)), (e) => e.code === 'input_too_large');
  // 4 Mi characters, some of two bytes: over the playbook's 4 MiB.
  assert.throws(() => new Engine(`${' '.repeat(4 * 1024 * 1024 - 10)}${'é'.repeat(10)}`), (e) => e.code === 'playbook_too_large');
  assert.equal(JSON.parse(v.observeJson('{"type":"page_view","ts":1,"url":"/"}')).burst, false, 'the visitor still works');
  // Where a string or an object may be given (decide, observe, new Engine,
  // a secret), the string past 4 Mi is refused inside the call before it is
  // copied: it was refused by the copy, which threw out of the call and left
  // the object borrowed ("recursive use of an object" on every later call,
  // free() refused) and a JS-value slot taken; ~1,000 of them broke the module.
  const over = 'x'.repeat(4 * 1024 * 1024 + 1);
  const tooLarge = (e) => e.name === 'BuyerpathError' && e.code === 'input_too_large' && /4 Mi/.test(e.message);
  const state = v.encode();
  for (let i = 0; i < 1100; i++) {
    assert.throws(() => v.decide(over), tooLarge);
    assert.throws(() => v.observe(over), tooLarge);
    assert.throws(() => v.encode(over), tooLarge);
    assert.throws(() => engine.decode(state, { secret: over }), (e) => tooLarge(e) && e.path === '$.secret');
    assert.throws(() => new Engine(over), tooLarge);
    assert.throws(() => v.decide({ toJSON: () => over }), tooLarge);
  }
  assert.equal(JSON.parse(v.observeJson('{"type":"page_view","ts":2,"url":"/"}')).burst, false, 'the visitor still works');
  assert.ok(v.decideJson('{"now":3,"slots":["hero"]}').startsWith('{'));
  engine.visitor('spare').free();
  // decode's options: a bare secret or a misspelt key would turn the
  // signature check off; an empty secret signs nothing.
  const forged = engine.visitor('attacker').encode();
  assert.throws(() => engine.decode(forged, 'real'), (e) => e.code === 'invalid_argument' && e.hint === "pass the secret as { secret: '...' }");
  assert.throws(() => engine.decode(forged, { Secret: 'real' }), (e) => e.code === 'invalid_argument' && e.path === '$.Secret' && e.hint === 'did you mean `secret`?');
  assert.throws(() => engine.decode(forged, { secret: 'real', maxidle: 5 }), (e) => e.path === '$.maxidle');
  assert.throws(() => engine.decode(forged, { 'a b': 1 }), (e) => e.path === '$["a b"]');
  for (const secret of [undefined, null, '']) {
    assert.throws(() => engine.decode(forged, { secret }), (e) => e.code === 'invalid_argument' && e.path === '$.secret', `secret ${secret}`);
  }
  assert.throws(() => v.encode(''), (e) => e.code === 'invalid_argument' && /non-empty/.test(e.message));
  assert.equal(engine.decode(forged, {}).encode(), forged);
  // An object used after free() is the package's error, thrown before the
  // call enters Wasm (an exception from inside Wasm would leave the call's
  // arguments behind: ~1,000 caught ones exhausted the module's table of JS
  // values); a second free() does nothing.
  const freed = (e) => e.name === 'BuyerpathError' && e.code === 'freed' && e.path === '$' && /engine\.visitor\(id\)/.test(e.hint);
  const inWasm = (e) => /wasm-function|wasm:\/\//.test(String(e.stack));
  const gone = engine.visitor('gone');
  gone.free();
  gone.free();
  const spare = new Engine(playbookText);
  spare.free();
  spare.free();
  const cond = new CompiledCondition({ 'company.country': 'US' });
  cond.free();
  // Every method and getter of every class, now and as they are added.
  for (const [obj, cls] of [[gone, Visitor], [spare, Engine], [cond, CompiledCondition]]) {
    for (const name of Object.getOwnPropertyNames(cls.prototype)) {
      if (['constructor', 'free', '__destroy_into_raw'].includes(name)) continue;
      const d = Object.getOwnPropertyDescriptor(cls.prototype, name);
      const call = d.get ? () => d.get.call(obj) : () => d.value.call(obj, '{}', {});
      assert.throws(call, (e) => freed(e) && !inWasm(e), `${cls.name}.${name}`);
    }
  }
  const before = engine.visitor('after-free').decideJson(JSON.stringify({ now: 1793610000000, slots: ['hero'] }));
  // Options a Proxy's traps make unreadable are refused with a code, also
  // from before Wasm would have to unwind.
  const trapped = new Proxy({}, { ownKeys() { throw new Error('trap'); } });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  // Objects JSON cannot write (a cycle, a BigInt, a throwing toJSON): each
  // throw used to leave a slot of the module's JS-value table taken, and
  // about 8 million exhausted it.
  const unwritable = [cyclic, { ts: 1n }, { toJSON() { throw null; } }];
  const down = () => { throw new Error('vault down'); };
  const throwingOptions = [
    [{ get secret() { return down(); } }, '$.secret'],
    [{ get now() { return down(); } }, '$.now'],
    [{ now: 1, get maxIdleMs() { return down(); } }, '$.maxIdleMs'],
  ];
  const { initSync } = await import(`${pkgDir}/buyerpath.js`);
  const tableSize = () => initSync().__wbindgen_externrefs.length;
  const table = tableSize();
  for (let i = 0; i < 3000; i++) {
    for (const bad of unwritable) {
      assert.throws(() => v.observe(bad), (e) => e.code === 'invalid_argument' && /cannot be written as JSON/.test(e.message));
      assert.throws(() => engine.decode(forged, { secret: 'k', now: bad }), (e) => e.code === 'invalid_argument');
    }
    assert.throws(() => gone.decide({ now: 1793610000000, slots: ['hero'] }), freed);
    assert.throws(() => gone.decideJson('{"now":1,"slots":["hero"]}'), freed);
    assert.throws(() => cond.eval({ company: { country: 'US' } }), freed);
    assert.throws(() => Visitor.decode(spare, forged), freed);
    assert.throws(() => Visitor.prototype.decide.call({}, { now: 1, slots: ['hero'] }), (e) => e.code === 'invalid_argument' && !inWasm(e));
    assert.throws(() => engine.decode(forged, trapped), (e) => e.code === 'invalid_argument' && /cannot be read \(trap\)/.test(e.message));
    assert.throws(() => engine.decode(forged, revoked.proxy), (e) => e.code === 'invalid_argument');
    // An option whose getter throws: each such throw used to leave a slot
    // of the table taken (the import that read it returned a JS value).
    for (const [options, path] of throwingOptions) {
      assert.throws(() => engine.decode(forged, options), (e) => e.code === 'invalid_argument' && e.path === path && /\(vault down\)/.test(e.message));
      assert.throws(() => Visitor.decode(engine, forged, options), (e) => e.code === 'invalid_argument' && e.path === path);
    }
    // `new Visitor` makes none (visitors come from the engine): said at
    // once, not as `freed` at the first method.
    assert.throws(() => new Visitor(engine), (e) => e.name === 'BuyerpathError' && e.code === 'invalid_argument' && /not made with `new`/.test(e.message) && /engine\.visitor\(id\)/.test(e.hint));
  }
  // A method called on an object of another class is refused before Wasm:
  // its pointer would be read (and written) as this class's.
  const other = new CompiledCondition({ a: 1 });
  const wrong = (e) => e.name === 'BuyerpathError' && e.code === 'invalid_argument' && /belongs to/.test(e.message) && !inWasm(e);
  for (const [cls, self] of [[Visitor, engine], [Visitor, other], [Engine, v], [Engine, other], [CompiledCondition, engine], [CompiledCondition, v]]) {
    for (const name of Object.getOwnPropertyNames(cls.prototype)) {
      if (['constructor', '__destroy_into_raw'].includes(name)) continue;
      const d = Object.getOwnPropertyDescriptor(cls.prototype, name);
      for (let i = 0; i < 50; i++) {
        const call = d.get ? () => d.get.call(self) : () => d.value.call(self, '{"type":"page_view","ts":1}', {});
        assert.throws(call, wrong, `${cls.name}.${name} on a ${self.constructor.name}`);
      }
    }
  }
  other.free();
  assert.ok(tableSize() - table < 64, `the JS-value table grew from ${table} to ${tableSize()}`);
  assert.equal(engine.visitor('after-free').decideJson(JSON.stringify({ now: 1793610000000, slots: ['hero'] })), before);
  // The module still works after all those errors.
  assert.equal(v.decide({ now: 1793610000000, slots: ['hero'] }).slots.length, 1);
});

function attempt(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
}

test('secrets must be whole characters, unreadable options are refused, and a lone surrogate reads as U+FFFD in every form', () => {
  const engine = new Engine(playbookText);
  const v = engine.visitor('secrets-1');
  // Unpaired surrogates would all become U+FFFD in Wasm: different secrets
  // signing alike. Refused on both sides; a real U+FFFD is a character.
  const signed = v.encode('key-\ufffd');
  assert.equal(engine.decode(signed, { secret: 'key-\ufffd' }).encode('key-\ufffd'), signed);
  for (const lone of ['key-\ud800', 'key-\udfff', '\udbffx']) {
    assert.throws(() => v.encode(lone), (e) => e.code === 'invalid_argument' && e.path === '$' && /unpaired surrogate/.test(e.message), lone);
    assert.throws(() => engine.decode(signed, { secret: lone }), (e) => e.code === 'invalid_argument' && e.path === '$.secret', lone);
  }
  assert.equal(engine.decode(v.encode('key-\ud83d\ude00'), { secret: 'key-\ud83d\ude00' }).encode(), v.encode());
  // An option JavaScript cannot read is refused with its reason, never taken
  // as "no secret" (which would read unsigned states unchecked).
  const forged = engine.visitor('attacker').encode();
  const hasTrap = new Proxy({ secret: 'real' }, { has() { throw new Error('has trap'); } });
  assert.throws(() => engine.decode(forged, hasTrap), (e) => e.code === 'invalid_argument' && e.path === '$.secret' && /has trap/.test(e.message));
  const getter = { get secret() { throw new Error('vault unavailable'); } };
  assert.throws(() => engine.decode(forged, getter), (e) => e.code === 'invalid_argument' && e.path === '$.secret' && /vault unavailable/.test(e.message));
  const now = { get now() { throw new Error('no clock'); }, maxIdleMs: 5 };
  assert.throws(() => engine.decode(forged, now), (e) => e.code === 'invalid_argument' && e.path === '$.now' && /no clock/.test(e.message));
  // An unpaired surrogate reads as U+FFFD in an object as in its JSON text.
  const req = { now: 1793610000000, slots: ['hero'], context: { consent: 'full', campaign: { source: 'x\udc00' } } };
  const a = engine.visitor('lone-1');
  const b = engine.visitor('lone-1');
  const fromObject = a.decide(req);
  assert.deepEqual(fromObject, JSON.parse(b.decideJson(JSON.stringify(req).replace('\\udc00', '\udc00'))));
  // ... and as its JSON text, where JSON.stringify escapes it (JSON.parse reads that).
  const c = engine.visitor('lone-1');
  assert.deepEqual(fromObject, JSON.parse(c.decideJson(JSON.stringify(req))));
  const campaign = fromObject.signals[0].context.campaign;
  assert.equal(campaign.source, 'x\ufffd');
  // Campaign parameters not given are left out (the types say optional), not null.
  assert.deepEqual(Object.keys(campaign), ['source']);
  // A named value of the wrong type is invalid_type at its own path.
  for (const [bad, path] of [[{ detail: null }, '$.detail'], [{ detail: [] }, '$.detail'], [{ context: { consent: true } }, '$.context.consent']]) {
    assert.throws(() => a.decide({ now: 1793610000000, ...bad }), (e) => e.code === 'invalid_type' && e.path === path, JSON.stringify(bad));
  }
  // Deeper than JSON is read: the condition's own limit, not "invalid JSON".
  let deep = { 'company.country': 'US' };
  for (let i = 0; i < 70; i++) deep = { $and: [deep] };
  assert.throws(() => new CompiledCondition(deep), (e) => e.code === 'condition_too_deep' && e.path.length < 100);
});

test('scoreJson gives decide\'s gates, fit and engagement and changes nothing', () => {
  const [, v] = vectors()[0];
  const j = v.journey;
  const visitor = new Engine(playbookText).visitor(j.visitor_id);
  let checked = 0;
  for (const step of j.steps) {
    if (step.observe) {
      visitor.observe(step.observe);
      continue;
    }
    const req = JSON.stringify(request(j, step.decide));
    const before = visitor.encode();
    const s = JSON.parse(visitor.scoreJson(req));
    assert.equal(visitor.encode(), before);
    const d = JSON.parse(visitor.decideJson(req));
    assert.deepEqual(s, { qualified: d.qualified, gates: d.gates, fit: d.fit, engagement: d.engagement });
    checked++;
  }
  assert.ok(checked >= 2, `${checked} decisions`);
});

test('detail brief: decide objects, scoreJson and the state are the full call\'s, without the explaining lists; explain() still tells all', () => {
  const [, v] = vectors()[0];
  const j = v.journey;
  const full = new Engine(playbookText).visitor(j.visitor_id);
  const brief = new Engine(playbookText).visitor(j.visitor_id);
  let checked = 0;
  for (const step of j.steps) {
    if (step.observe) {
      full.observe(step.observe);
      brief.observe(step.observe);
      continue;
    }
    const req = request(j, step.decide);
    const s = JSON.parse(brief.scoreJson(JSON.stringify({ ...req, detail: 'brief' })));
    const d = full.decide(req);
    const b = brief.decide({ ...req, detail: 'brief' });
    assert.deepEqual(b, briefOf(d));
    assert.equal(b.gates, undefined);
    assert.ok(d.fit.criteria.length > 0 && d.slots.some((x) => x.picks.some((p) => p.reasons.length > 0)));
    const { criteria, ...fit } = d.fit;
    const { top, ...engagement } = d.engagement;
    assert.deepEqual(s, { qualified: d.qualified, fit, engagement });
    // The same decision underneath: the same state, the same report.
    assert.equal(brief.encode(), full.encode());
    assert.equal(brief.explain(), full.explain());
    checked++;
  }
  assert.ok(checked >= 2, `${checked} decisions`);
  assert.throws(
    () => brief.decide({ now: 1793610060000, detail: 'short' }),
    (e) => e.code === 'unknown_variant' && e.path === '$.detail' && /full, brief/.test(e.message + e.hint + JSON.stringify(e.issues)),
  );
});

test('recordJson folds an event as observeJson does, without an answer, and refuses the same events', () => {
  let steps = 0;
  for (const [name, v] of vectors()) {
    const j = v.journey;
    const a = new Engine(playbookText).visitor(j.visitor_id);
    const b = new Engine(playbookText).visitor(j.visitor_id);
    for (const step of j.steps) {
      if (step.observe) {
        const text = JSON.stringify(step.observe);
        assert.equal(typeof a.observeJson(text), 'string');
        assert.equal(b.recordJson(text), undefined);
        assert.equal(b.encode(), a.encode(), `${name}: the state after an event`);
        steps++;
      } else {
        const req = JSON.stringify(request(j, step.decide));
        assert.equal(b.decideJson(req), a.decideJson(req), `${name}: a decision`);
      }
    }
  }
  assert.ok(steps >= 30, `${steps} events`);
  const v = new Engine(playbookText).visitor('record-bad-input');
  const before = v.encode();
  for (const [bad, code, path] of [
    ['{"type":"page_veiw","ts":1}', 'unknown_event_type', '$.type'],
    ['{"type":"page_view","ts":1,"email":"a@b.c"}', 'unknown_field', '$.email'],
    ['{"type":"page_view"', 'invalid_json', '$'],
    ['{"type":"page_view","ts":1,"url":"\\ud80"}', 'invalid_json', '$.url'],
    ['[]', 'invalid_type', '$'],
  ]) {
    let want;
    assert.throws(() => v.observeJson(bad), (e) => (want = e) instanceof Error);
    const fields = (e) => ({ message: e.message, code: e.code, path: e.path, hint: e.hint, issues: e.issues });
    let got;
    assert.throws(() => v.recordJson(bad), (e) => (got = e) instanceof Error && e.code === code, bad);
    assert.deepEqual(fields(got), fields(want), bad);
    assert.equal(want.path, path, bad);
  }
  assert.equal(v.encode(), before, 'a refused event changes nothing');
});

test('a journey step that asks for detail is refused, as natively (its stored hashes are of full answers)', () => {
  const [, v] = vectors()[0];
  const j = v.journey;
  const step = j.steps.find((s) => s.decide).decide;
  assert.deepEqual(request(j, step).context, { ...(j.context ?? {}), ...(step.context ?? {}) });
  assert.throws(
    () => request(j, { ...step, detail: 'brief' }, '$.steps[3].decide'),
    (e) => e.code === 'unknown_field' && e.path === '$.steps[3].decide.detail' && /full answers/.test(e.hint),
  );
});
