// The package in workerd (Cloudflare's runtime, through miniflare): every
// journey vector replayed byte for byte through the `workerd` export, and
// through `buyerpath/page`'s with the example playbook compiled ahead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Miniflare } from 'miniflare';
import { readFileSync } from 'node:fs';
import { requirePkg, vectors, playbookText, root } from './fixtures.mjs';

requirePkg();

test('every journey vector replays byte for byte in workerd', async () => {
  const mf = new Miniflare({
    modulesRoot: root,
    modules: [
      { type: 'ESModule', path: `${root}/tests/js/worker.mjs` },
      { type: 'ESModule', path: `${root}/tests/js/replay.mjs` },
      { type: 'ESModule', path: `${root}/pkg/workerd.js` },
      { type: 'ESModule', path: `${root}/pkg/buyerpath.js` },
      { type: 'CompiledWasm', path: `${root}/pkg/buyerpath_server_bg.wasm` },
    ],
    compatibilityDate: '2026-04-01',
  });
  try {
    const res = await mf.dispatchFetch('http://localhost/', {
      method: 'POST',
      body: JSON.stringify({ playbook: playbookText, vectors: vectors() }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { results, error } = await res.json();
    assert.ok(results.length >= 12);
    assert.deepEqual(results.filter((r) => r.mismatches.length).map((r) => `${r.name}: ${r.mismatches}`), []);
    assert.ok(results.reduce((n, r) => n + r.decisions, 0) >= 24);
    assert.deepEqual(error, { code: 'invalid_json', path: '$', isError: true });
  } finally {
    await mf.dispose();
  }
});

test('every journey vector replays byte for byte through buyerpath/page in workerd', async () => {
  const mf = new Miniflare({
    modulesRoot: root,
    modules: [
      { type: 'ESModule', path: `${root}/tests/js/page-worker.mjs` },
      { type: 'ESModule', path: `${root}/tests/js/replay.mjs` },
      { type: 'ESModule', path: `${root}/pkg/page/workerd.js` },
      { type: 'ESModule', path: `${root}/pkg/page/engine.js` },
      { type: 'ESModule', path: `${root}/pkg/page/buyerpath.js` },
      { type: 'CompiledWasm', path: `${root}/pkg/page/buyerpath_bg.wasm` },
    ],
    compatibilityDate: '2026-04-01',
  });
  try {
    const engine = readFileSync(`${root}/target/example.bpe`).toString('base64');
    const res = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: JSON.stringify({ engine, vectors: vectors() }) });
    assert.equal(res.status, 200, await res.clone().text());
    const { results, errors } = await res.json();
    assert.ok(results.length >= 12);
    assert.deepEqual(results.filter((r) => r.mismatches.length).map((r) => `${r.name}: ${r.mismatches}`), []);
    assert.ok(results.reduce((n, r) => n + r.decisions, 0) >= 24);
    assert.deepEqual(errors, [
      { code: 'engine_file_invalid', path: '$', isError: true },
      { code: 'no_compiler', path: '$', isError: true },
    ]);
  } finally {
    await mf.dispose();
  }
});
