// The page build (`node scripts/build-pkg.mjs --page`): the module without the
// JSON playbook compiler, loading an engine compiled ahead by `buyerpath
// compile`. Every shared journey vector replays byte for byte through it,
// a damaged engine file is an Error with code, path and hint, and the module
// is smaller than the package's by the compiler it leaves out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { root, pkgDir, playbookText, vectors, requirePkg } from './fixtures.mjs';
import { replayAll } from './replay.mjs';

const pageDir = join(root, 'target', 'pkg-page');
const enginePath = join(pageDir, 'example.bpe');
if (!existsSync(join(pageDir, 'buyerpath_bg.wasm')) || !existsSync(enginePath)) {
  throw new Error('target/pkg-page is not built: run `node scripts/build-pkg.mjs --page --out target/pkg-page` and `buyerpath compile examples/acme/playbook.json -o target/pkg-page/example.bpe` (./dev test does both)');
}
requirePkg();
const page = await import(join(pageDir, 'buyerpath.js'));
page.initSync({ module: readFileSync(join(pageDir, 'buyerpath_bg.wasm')) });
const engineBytes = readFileSync(enginePath);
const sha256 = async (s) => createHash('sha256').update(s).digest('hex');

test('every journey vector replays byte for byte through an engine file in the page build', async () => {
  // replayVector builds `new Engine(playbookText)`: here that loads the compiled file.
  function FromBytes() {
    return page.Engine.fromBytes(engineBytes);
  }
  const all = vectors();
  const results = await replayAll(FromBytes, playbookText, all, sha256);
  const decisions = results.reduce((n, r) => n + r.decisions, 0);
  assert.ok(decisions >= 24, `${decisions} decisions`);
  assert.deepEqual(results.filter((r) => r.mismatches.length).map((r) => `${r.name}: ${r.mismatches}`), []);
});

test('a damaged or foreign engine file is an Error with a code, a path and a hint', () => {
  const cases = [
    [new Uint8Array([1, 2, 3]), 'engine_file_invalid'],
    [engineBytes.subarray(0, engineBytes.length - 9), 'engine_file_invalid'],
    [new TextEncoder().encode(playbookText), 'engine_file_invalid'],
  ];
  const otherVersion = Uint8Array.from(engineBytes);
  otherVersion[5] ^= 1; // the first character of the version
  cases.push([otherVersion, 'engine_file_version']);
  for (const [bytes, code] of cases) {
    assert.throws(() => page.Engine.fromBytes(bytes), (e) => {
      assert.ok(e instanceof Error);
      assert.equal(e.code, code);
      assert.equal(e.path, '$');
      assert.ok(e.hint && e.hint.includes('buyerpath compile'), e.hint);
      return true;
    });
  }
  // The engine still loads after the failures (nothing was left half-done).
  assert.equal(page.Engine.fromBytes(engineBytes).playbookId, JSON.parse(playbookText).id);
});

test('fromBytes takes a Uint8Array, a Buffer or an ArrayBuffer, and refuses anything else', () => {
  const id = JSON.parse(playbookText).id;
  const arrayBuffer = engineBytes.buffer.slice(engineBytes.byteOffset, engineBytes.byteOffset + engineBytes.length);
  assert.equal(page.Engine.fromBytes(arrayBuffer).playbookId, id);
  assert.equal(page.Engine.fromBytes(new Uint8Array(engineBytes)).playbookId, id);
  assert.equal(page.Engine.fromBytes(engineBytes).playbookId, id);
  for (const wrong of [engineBytes.toString('latin1'), [...engineBytes.subarray(0, 8)], null, undefined]) {
    assert.throws(() => page.Engine.fromBytes(wrong), (e) => {
      assert.equal(e.code, 'invalid_argument');
      assert.match(e.hint, /Uint8Array/);
      return true;
    });
  }
});

test('the page build leaves the JSON compiler out', () => {
  assert.equal(typeof page.CompiledCondition, 'undefined');
  assert.equal(typeof page.evalCondition, 'undefined');
  const size = (dir) => statSync(join(dir, 'buyerpath_bg.wasm')).size;
  const gz = (dir) => gzipSync(readFileSync(join(dir, 'buyerpath_bg.wasm')), { level: 9 }).length;
  // The compiler is over a quarter of the module (raw), a fifth gzipped: far more than noise between builds.
  assert.ok(size(pageDir) < 0.8 * size(pkgDir), `page ${size(pageDir)} B, package ${size(pkgDir)} B`);
  assert.ok(gz(pageDir) < 0.85 * gz(pkgDir), `page ${gz(pageDir)} B gzip, package ${gz(pkgDir)} B gzip`);
});
