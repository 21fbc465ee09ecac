// The package's two modules in headless Chromium, through their browser
// entries as a site serves them: `buyerpath` (pkg/browser.js, the JSON
// playbook compiler included) and `buyerpath/page` (pkg/page/browser.js, an
// engine compiled ahead by `buyerpath compile`, target/example.bpe). Every
// shared journey vector replays byte for byte through each (the same SHA-256
// digests as natively, by WebCrypto); a page that imports only
// `buyerpath/page` fetches only the page build's Wasm; a damaged engine file
// is an Error with a code, a path and a hint there too.
//
// Requires: scripts/setup-browser.sh, node scripts/build-pkg.mjs, and
// `buyerpath compile examples/acme/playbook.json -o target/example.bpe`
// (./dev test does all three).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSiteServer, listen } from '../../www/tools/static-server.mjs';
import { CHROMIUM, launch, root } from './helpers.mjs';
import { pkgDir, playbookText, vectors } from '../js/fixtures.mjs';

const enginePath = join(root, 'target', 'example.bpe');
for (const [path, fix] of [
  [CHROMIUM, 'run scripts/setup-browser.sh'],
  [join(pkgDir, 'page', 'browser.js'), 'run node scripts/build-pkg.mjs'],
  [enginePath, 'run `cargo run -p buyerpath-cli -- compile examples/acme/playbook.json -o target/example.bpe`'],
]) {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${fix} (./dev test does it)`);
}

// A site of its own: the built package under /pkg/, the runtime-neutral
// replay (tests/js/replay.mjs), the engine file, an empty page.
let dir;
let site;
let browser;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bp-page-site-'));
  cpSync(pkgDir, join(dir, 'pkg'), { recursive: true });
  cpSync(join(root, 'tests', 'js', 'replay.mjs'), join(dir, 'replay.mjs'));
  cpSync(enginePath, join(dir, 'example.bpe'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>buyerpath modules</title>\n');
  site = await listen(createSiteServer({ root: dir }), 0);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh page on the site, failing the test on any page error; records the Wasm files fetched. */
async function openPage() {
  const page = await browser.context.newPage();
  const wasm = [];
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname);
  });
  await page.goto(`${site.url}/index.html`);
  return { page, wasm };
}

const mismatched = (results) => results.filter((r) => r.mismatches.length).map((r) => `${r.name}: ${r.mismatches}`);

test('every journey vector replays byte for byte in Chromium through buyerpath and through buyerpath/page', async () => {
  const { page, wasm } = await openPage();
  const all = vectors();
  const out = await page.evaluate(
    async ({ all, playbookText }) => {
      const { replayAll, webSha256 } = await import('/replay.mjs');
      const full = await import('/pkg/browser.js');
      const pg = await import('/pkg/page/browser.js');
      const bytes = new Uint8Array(await (await fetch('/example.bpe')).arrayBuffer());
      // replayVector calls `new Engine(playbookText)`: for the page build that loads the file.
      function FromBytes() {
        return pg.Engine.fromBytes(bytes);
      }
      return {
        full: await replayAll(full.Engine, playbookText, all, webSha256),
        page: await replayAll(FromBytes, playbookText, all, webSha256),
        userAgent: navigator.userAgent,
      };
    },
    { all, playbookText },
  );
  await page.close();
  assert.match(out.userAgent, /Chrome\//);
  for (const key of ['full', 'page']) {
    assert.equal(out[key].length, all.length, `${key}: every vector replayed`);
    assert.ok(out[key].reduce((n, r) => n + r.decisions, 0) >= 24, `${key}: decisions made`);
    assert.deepEqual(mismatched(out[key]), [], `${key}: same digests as natively`);
  }
  // The two modules decided the same bytes (digests pairwise equal).
  assert.deepEqual(
    out.page.map((r) => r.digests),
    out.full.map((r) => r.digests),
  );
  assert.deepEqual(wasm.sort(), ['/pkg/buyerpath_bg.wasm', '/pkg/page/buyerpath_bg.wasm']);
});

test('a page that imports only buyerpath/page fetches only the page build, smaller than the full one', async () => {
  const { page, wasm } = await openPage();
  const out = await page.evaluate(async () => {
    const pg = await import('/pkg/page/browser.js');
    const bytes = new Uint8Array(await (await fetch('/example.bpe')).arrayBuffer());
    const engine = pg.Engine.fromBytes(bytes);
    const v = engine.visitor('chromium-page-1');
    v.observe({ type: 'page_view', ts: 1793610000000, url: '/blog/dbt-tests-are-not-enough', content_id: 'blog-dbt-tests-not-enough', dwell_seconds: 140 });
    const d = v.decide({ now: 1793610005000, slots: ['hero'] });
    const state = v.encode();
    const back = pg.Visitor.decode(engine, state);
    const again = back.encode();
    const errors = {};
    try {
      pg.Engine.fromBytes(bytes.subarray(0, bytes.length - 9));
    } catch (e) {
      errors.damaged = { isError: e instanceof Error, code: e.code, path: e.path, hint: e.hint };
    }
    try {
      new pg.Engine('{}');
    } catch (e) {
      errors.compiler = { isError: e instanceof Error, code: e.code };
    }
    return { playbookId: engine.playbookId, slots: d.slots.map((s) => s.slot), picks: d.slots[0].picks.length, same: state === again, errors };
  });
  await page.close();
  assert.equal(out.playbookId, JSON.parse(playbookText).id);
  assert.deepEqual(out.slots, ['hero']);
  assert.ok(out.picks >= 1);
  assert.ok(out.same, 'the state survives encode → decode → encode unchanged');
  assert.deepEqual(out.errors.damaged && [out.errors.damaged.isError, out.errors.damaged.code, out.errors.damaged.path], [true, 'engine_file_invalid', '$']);
  assert.match(out.errors.damaged.hint, /buyerpath compile/);
  assert.deepEqual(out.errors.compiler, { isError: true, code: 'no_compiler' });
  assert.deepEqual(wasm, ['/pkg/page/buyerpath_bg.wasm']);
  assert.ok(statSync(join(pkgDir, 'page', 'buyerpath_bg.wasm')).size < statSync(join(pkgDir, 'buyerpath_bg.wasm')).size);
});
