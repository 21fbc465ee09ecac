// The browser entries' Wasm loading (pkg-template/wasm-load.js): a failure
// names what to fix. The file's absence and another build's file are tried
// in a bundle (package.test.mjs); here the glue's init is stood in for, with
// the error Chromium gives when a page's Content Security Policy forbids
// compiling WebAssembly: the file was served, so serving it is no hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { root } from './fixtures.mjs';

const { loadWasm } = await import(join(root, 'pkg-template', 'wasm-load.js'));
const names = { entry: 'buyerpath', mark: 'mark', file: 'buyerpath_bg.wasm' };
const failing = (message) => async () => {
  throw new WebAssembly.CompileError(message);
};

test('a Wasm file the CSP refuses to compile names script-src wasm-unsafe-eval', async () => {
  for (const csp of [
    // Chromium
    "WebAssembly.instantiateStreaming(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script in the following Content Security Policy directive: \"script-src 'self'\"",
    // Firefox
    'call to WebAssembly.instantiate() blocked by CSP',
  ]) {
    await assert.rejects(loadWasm(failing(csp), 'https://shop.example/buyerpath_bg.wasm', names), (e) => {
      assert.equal(e.code, 'wasm_load_failed');
      assert.match(e.hint, /script-src 'wasm-unsafe-eval'/);
      assert.doesNotMatch(e.hint, /serve node_modules/);
      assert.ok(e.message.includes(csp), e.message);
      return true;
    });
  }
});

test('a missing or broken Wasm file names the file to serve', async () => {
  for (const message of ['HTTP 404', "WebAssembly.instantiate(): expected magic word 00 61 73 6d, found 3c 21 64 6f @+0"]) {
    await assert.rejects(loadWasm(failing(message), 'https://shop.example/buyerpath_bg.wasm', names), (e) => {
      assert.equal(e.code, 'wasm_load_failed');
      assert.match(e.hint, /serve node_modules\/buyerpath\/buyerpath_bg\.wasm at that URL/);
      return true;
    });
  }
  // Another build's module (no `mark` export).
  await assert.rejects(loadWasm(async () => ({}), 'https://shop.example/buyerpath_bg.wasm', names), (e) => /another build's/.test(e.message));
  assert.deepEqual(Object.keys(await loadWasm(async () => ({ mark() {} }), 'u', names)), ['mark']);
});
