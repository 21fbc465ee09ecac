// `buyerpath/page` (the page build: no JSON playbook compiler) in Node,
// through the package's `page/node.js` entry, with the example playbook
// compiled ahead by `buyerpath compile` (target/example.bpe). Every shared
// journey vector replays byte for byte, a damaged engine file or wrong
// argument is an Error with code, path and hint, `new Engine` says why it is
// not there, and the module is smaller than the package's by the compiler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import vm from 'node:vm';
import { root, pkgDir, playbookText, vectors, requirePkg } from './fixtures.mjs';
import { replayAll } from './replay.mjs';

requirePkg();
const enginePath = join(root, 'target', 'example.bpe');
if (!existsSync(join(pkgDir, 'page', 'node.js')) || !existsSync(enginePath)) {
  throw new Error('pkg/page or target/example.bpe is missing: run `node scripts/build-pkg.mjs` and `buyerpath compile examples/acme/playbook.json -o target/example.bpe` (./dev test does both)');
}
const page = await import(join(pkgDir, 'page', 'node.js'));
const { Visitor } = await import(join(pkgDir, 'node.js'));
const engineBytes = readFileSync(enginePath);
const sha256 = async (s) => createHash('sha256').update(s).digest('hex');
const id = JSON.parse(playbookText).id;

test('every journey vector replays byte for byte through buyerpath/page and an engine file', async () => {
  // replayVector builds `new Engine(playbookText)`: here that loads the compiled file.
  function FromBytes() {
    return page.Engine.fromBytes(engineBytes);
  }
  const results = await replayAll(FromBytes, playbookText, vectors(), sha256);
  assert.ok(results.reduce((n, r) => n + r.decisions, 0) >= 24);
  assert.deepEqual(results.filter((r) => r.mismatches.length).map((r) => `${r.name}: ${r.mismatches}`), []);
});

test('a damaged or foreign engine file is an Error with a code, a path and a hint', async () => {
  const otherVersion = Uint8Array.from(engineBytes);
  otherVersion[5] ^= 1; // the first character of the version
  const flipped = Uint8Array.from(engineBytes);
  flipped[Math.floor(flipped.length / 2)] ^= 4;
  const cases = [
    [new Uint8Array([1, 2, 3]), 'engine_file_invalid'],
    [engineBytes.subarray(0, engineBytes.length - 9), 'engine_file_invalid'],
    [Uint8Array.from([...engineBytes, 0]), 'engine_file_invalid'],
    [new TextEncoder().encode(playbookText), 'engine_file_invalid'],
    [otherVersion, 'engine_file_version'],
    // One bit flipped in the engine itself (a title's, a weight's): the checksum.
    [flipped, 'engine_file_invalid', /checksum/],
  ];
  for (const [bytes, code, message] of cases) {
    assert.throws(() => page.Engine.fromBytes(bytes), (e) => {
      assert.ok(e instanceof Error);
      assert.equal(e.code, code);
      if (message) assert.match(e.message, message);
      assert.equal(e.path, '$');
      assert.ok(e.hint && e.hint.includes('buyerpath compile'), e.hint);
      return true;
    });
  }
  // The engine still loads after the failures (nothing was left half-done).
  assert.equal(page.Engine.fromBytes(engineBytes).playbookId, id);
  // The page build's glue has the package's patches too: use after free()
  // is `freed`, and a second free() does nothing.
  const engine = page.Engine.fromBytes(engineBytes);
  engine.free();
  engine.free();
  assert.throws(() => engine.visitor('v'), (e) => e.name === 'BuyerpathError' && e.code === 'freed' && /fromBytes/.test(e.hint));
  // One module's engine given to the other's Visitor.decode is refused with a code.
  const live = page.Engine.fromBytes(engineBytes);
  const state = live.visitor('v').encode();
  assert.throws(() => Visitor.decode(live, state), (e) => e.code === 'invalid_argument' && /separate Wasm memories/.test(e.hint));
  assert.equal(page.Visitor.decode(live, state).encode(), state);
  // A method of one module's class called on the other's object of that name.
  assert.throws(
    () => Visitor.prototype.encode.call(live.visitor('v')),
    (e) => e.code === 'invalid_argument' && /belongs to this module's Visitor: it was called on another module's Visitor/.test(e.message) && /separate Wasm memories/.test(e.hint),
  );
  // Bytes whose buffer was transferred away: refused with a code, many
  // times over, and the module still loads engines.
  const buffer = new ArrayBuffer(16);
  const view = new Uint8Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  const { initSync } = await import(join(pkgDir, 'page', 'buyerpath.js'));
  const table = initSync().__wbindgen_externrefs.length;
  for (let i = 0; i < 3000; i++) {
    for (const gone of [buffer, view]) {
      assert.throws(() => page.Engine.fromBytes(gone), (e) => e.code === 'invalid_argument' && /cannot be read/.test(e.message) && /transferred/.test(e.hint));
    }
    // A view whose byteLength lies, and a buffer-like object whose reading
    // throws: the Uint8Array made over them throws, and each such throw used
    // to leave a slot of the table taken.
    const lying = new Uint8Array(engineBytes);
    Object.defineProperty(lying, 'byteLength', { value: 1e9 });
    const unreadable = { byteLength: 5, get length() { throw new Error('length'); } };
    for (const bad of [lying, unreadable]) {
      assert.throws(() => page.Engine.fromBytes(bad), (e) => e.name === 'BuyerpathError' && typeof e.code === 'string' && typeof e.hint === 'string');
    }
  }
  assert.ok(initSync().__wbindgen_externrefs.length - table < 64, 'no JS-value table slot left behind per refusal');
  assert.equal(page.Engine.fromBytes(engineBytes).playbookId, id);
});

test('fromBytes refuses a large buffer that is no engine file before copying it into Wasm memory (which never shrinks)', () => {
  // In a process of its own, so that its memory is this call's: 300 MB of
  // zeros (pages the system has not handed out yet) refused by the header.
  const script = `
    const page = await import(${JSON.stringify(join(pkgDir, 'page', 'node.js'))});
    const before = process.memoryUsage().rss;
    let code = null;
    try { page.Engine.fromBytes(new Uint8Array(300 * 1024 * 1024)); } catch (e) { code = e.code; }
    console.log(JSON.stringify({ code, grew: process.memoryUsage().rss - before }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  assert.equal(out.code, 'engine_file_invalid');
  assert.ok(out.grew < 64 * 1024 * 1024, `the process grew by ${Math.round(out.grew / 1048576)} MiB`);
});

test('fromBytes takes a Uint8Array, a Buffer, a view or an ArrayBuffer, from any realm; new Engine says there is no compiler', () => {
  const arrayBuffer = engineBytes.buffer.slice(engineBytes.byteOffset, engineBytes.byteOffset + engineBytes.length);
  // Bytes made in another realm (a `vm` context, as in test runners and iframes), and a DataView.
  const foreign = vm.runInNewContext('(b) => { const u = new Uint8Array(b.length); u.set(b); return u; }')(engineBytes);
  const foreignBuffer = vm.runInNewContext('(b) => { const u = new Uint8Array(b.length); u.set(b); return u.buffer; }')(engineBytes);
  assert.ok(!(foreign instanceof Uint8Array) && !(foreignBuffer instanceof ArrayBuffer));
  const padded = new Uint8Array(engineBytes.length + 16);
  padded.set(engineBytes, 8);
  for (const bytes of [arrayBuffer, new Uint8Array(engineBytes), engineBytes, foreign, foreignBuffer, new DataView(padded.buffer, 8, engineBytes.length), padded.subarray(8, 8 + engineBytes.length)]) {
    const engine = page.Engine.fromBytes(bytes);
    assert.equal(engine.playbookId, id);
    assert.ok(engine instanceof page.Engine);
  }
  for (const wrong of [engineBytes.toString('latin1'), [...engineBytes.subarray(0, 8)], null, undefined]) {
    assert.throws(() => page.Engine.fromBytes(wrong), (e) => e.code === 'invalid_argument' && /Uint8Array/.test(e.hint));
  }
  assert.throws(() => new page.Engine(playbookText), (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.code, 'no_compiler');
    assert.match(e.hint, /buyerpath compile/);
    return true;
  });
});

test('contentUrls gives every catalogue item as [url, id], in playbook order, in both modules', async () => {
  const full = await import(join(pkgDir, 'node.js'));
  const expected = JSON.parse(playbookText).content.map((c) => [c.url, c.id]);
  assert.ok(expected.length >= 50);
  const compiled = new full.Engine(playbookText);
  const loaded = page.Engine.fromBytes(engineBytes);
  assert.deepEqual(compiled.contentUrls(), expected);
  assert.deepEqual(loaded.contentUrls(), expected);
  // What a host does with it: a request's path to the page's content id.
  assert.equal(new Map(loaded.contentUrls()).get('/pricing'), 'pricing');
  compiled.free();
  loaded.free();
});

test('visitors keep their state through encode and decode, signed and unsigned', () => {
  const engine = page.Engine.fromBytes(engineBytes);
  const v = engine.visitor('page-state-1');
  const view = JSON.stringify({ type: 'page_view', ts: 1793610000000, content_id: 'pricing', dwell_seconds: 45 });
  v.observeJson(view);
  // recordJson folds the same event into the same state, answering nothing.
  const quiet = engine.visitor('page-state-1');
  assert.equal(quiet.recordJson(view), undefined);
  assert.equal(quiet.encode(), v.encode());
  assert.notEqual(quiet.encode(), engine.visitor('page-state-1').encode());
  assert.throws(() => quiet.recordJson('{"type":"page_veiw","ts":1}'), (e) => e.code === 'unknown_event_type');
  quiet.free();
  const req = JSON.stringify({ now: 1793610060000, slots: ['hero'], context: { consent: 'anonymous' } });
  const first = JSON.parse(v.decideJson(req));
  for (const [state, options] of [[v.encode(), undefined], [v.encode('k'), { secret: 'k' }]]) {
    for (const back of [engine.decode(state, options), page.Visitor.decode(engine, state, options)]) {
      assert.ok(back instanceof page.Visitor);
      assert.equal(back.id, 'page-state-1');
      assert.equal(back.encode(), v.encode());
      assert.equal(JSON.parse(back.decideJson(req)).seq, first.seq + 1);
    }
  }
  assert.throws(() => engine.decode(v.encode('k'), { secret: 'other' }), (e) => typeof e.code === 'string' && e.code.startsWith('state_'));
});

test('the page build leaves the JSON compiler out', async () => {
  assert.deepEqual(Object.keys(page).sort(), ['Engine', 'Visitor']);
  const glue = await import(join(pkgDir, 'page', 'buyerpath.js'));
  assert.equal(typeof glue.CompiledCondition, 'undefined');
  assert.equal(typeof glue.evalCondition, 'undefined');
  const size = (dir) => statSync(join(dir, 'buyerpath_bg.wasm')).size;
  const gz = (dir) => gzipSync(readFileSync(join(dir, 'buyerpath_bg.wasm')), { level: 9 }).length;
  const pageDir = join(pkgDir, 'page');
  // The compiler is over a quarter of the module (raw), a fifth gzipped: far more than noise between builds.
  assert.ok(size(pageDir) < 0.8 * size(pkgDir), `page ${size(pageDir)} B, package ${size(pkgDir)} B`);
  assert.ok(gz(pageDir) < 0.85 * gz(pkgDir), `page ${gz(pageDir)} B gzip, package ${gz(pkgDir)} B gzip`);
});
