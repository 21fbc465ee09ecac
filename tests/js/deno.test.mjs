// The package in Deno (the npm `deno` binary): every journey vector replayed
// byte for byte through the `deno` export, and through `buyerpath/page`'s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { requirePkg, root } from './fixtures.mjs';

requirePkg();

for (const mode of ['', 'page']) {
  test(`every journey vector replays byte for byte in Deno${mode ? ' through buyerpath/page' : ''}`, () => {
    const deno = join(root, 'node_modules', '.bin', 'deno');
    const out = execFileSync(deno, ['run', '--no-prompt', `--allow-read=${root}`, join(root, 'tests', 'js', 'deno-replay.mjs'), ...(mode ? [mode] : [])], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      timeout: 120_000,
    });
    const { runtime, results } = JSON.parse(out.trim().split('\n').pop());
    assert.match(runtime, /^deno 2\./);
    assert.ok(results.length >= 12);
    assert.ok(results.reduce((n, r) => n + r.decisions, 0) >= 24);
    assert.deepEqual(results.filter((r) => r.mismatches.length).map((r) => `${r.name}: ${r.mismatches}`), []);
  });
}
