// Packaging: `npm pack` the built package and install the tarball into fresh
// fixture projects — Node ESM (plus `tsc --strict` on a consumer), an esbuild
// browser bundle, a workerd worker bundle and a Deno script — and decide once in
// each; and `buyerpath/page` in Node, workerd and Deno, deciding the same.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, copyFileSync, rmSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { requirePkg, root, pkgDir, playbookText } from './fixtures.mjs';

requirePkg();
const bin = (name) => join(root, 'node_modules', '.bin', name);
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } });
let work;
let tarball;

// The consumer every fixture runs: compile the example playbook, observe, decide once.
const consumer = (importLine) => `${importLine}
const playbook = ${JSON.stringify(playbookText)};
const engine = new Engine(playbook);
${visitorWork}`;
// The same with `buyerpath/page`: the engine loaded from the example playbook
// compiled ahead (target/example.bpe, copied into the fixture as example.bpe).
const pageConsumer = (importLine, bytes) => `${importLine}
const engine = Engine.fromBytes(${bytes});
${visitorWork}`;
const visitorWork = `const v = engine.visitor('fixture-1');
v.observe({ type: 'page_view', ts: 1793610000000, content_id: 'pricing', dwell_seconds: 45 });
const d = v.decide({ now: 1793610060000, slots: ['hero', 'cta'], context: { consent: 'anonymous', company: { industry: 'software', employees: 900, country: 'US', region: 'MA' } } });
export const result = { tier: d.fit.tier, picks: d.slots.map((s) => s.picks[0].id), signals: d.signals.length, state: v.encode().length };
`;
const engineFile = join(root, 'target', 'example.bpe');

function install(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', private: true, type: 'module' }));
  sh('npm', ['install', '--no-audit', '--no-fund', '--offline', '--ignore-scripts', tarball], dir);
}

/**
 * Bundles `dir`/worker.mjs for workerd (esbuild, the `workerd` condition, the
 * Wasm copied next to it, an engine file embedded as bytes), runs it in
 * miniflare and returns its JSON answer.
 */
async function runWorker(dir) {
  sh(bin('esbuild'), ['worker.mjs', '--bundle', '--format=esm', '--platform=neutral', '--conditions=workerd', '--main-fields=module,main', '--loader:.wasm=copy', '--loader:.bpe=binary', '--asset-names=[name]', '--outdir=dist', '--log-level=error'], dir);
  const mf = new Miniflare({
    modulesRoot: join(dir, 'dist'),
    modules: [
      { type: 'ESModule', path: join(dir, 'dist', 'worker.js') },
      // The entry's module: buyerpath_server_bg.wasm (the package), buyerpath_bg.wasm (the page build).
      ...readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.wasm')).map((f) => ({ type: 'CompiledWasm', path: join(dir, 'dist', f) })),
    ],
    compatibilityDate: '2026-04-01',
  });
  try {
    const res = await mf.dispatchFetch('http://localhost/');
    assert.equal(res.status, 200, await res.clone().text());
    return await res.json();
  } finally {
    await mf.dispose();
  }
}

function check(result) {
  assert.ok(['A', 'B', 'C', 'D'].includes(result.tier), JSON.stringify(result));
  assert.equal(result.picks.length, 2);
  assert.ok(result.signals >= 1);
  assert.ok(result.state > 0 && result.state <= 1200);
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'bp-pack-'));
  const out = sh('npm', ['pack', pkgDir, '--pack-destination', work, '--json'], root);
  tarball = join(work, JSON.parse(out)[0].filename);
  assert.ok(statSync(tarball).size > 0);
});
after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds every package file and no test', () => {
  const listing = sh('tar', ['-tzf', tarball], work).split('\n').filter(Boolean).sort();
  const page = ['buyerpath_bg.wasm', 'buyerpath.js', 'engine.js', 'node.js', 'browser.js', 'workerd.js', 'deno.js', 'index.d.ts'].map((f) => `package/page/${f}`);
  for (const f of ['package/package.json', 'package/buyerpath_bg.wasm', 'package/buyerpath_server_bg.wasm', 'package/buyerpath.js', 'package/node.js', 'package/node-text.js', 'package/utf16.wasm', 'package/browser.js', 'package/workerd.js', 'package/deno.js', 'package/index.d.ts', 'package/playbook.schema.json', 'package/layer/index.js', 'package/README.md', ...page]) {
    assert.ok(listing.includes(f), `missing ${f}`);
  }
  assert.ok(!listing.some((f) => f.includes('test')), listing.join('\n'));
  const pj = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  for (const entry of ['.', './page']) {
    const conditions = Object.keys(pj.exports[entry]);
    assert.ok(conditions.indexOf('workerd') < conditions.indexOf('browser'), `${entry}: workerd before browser`);
  }
});

test('Node ESM project: install, import, decide; tsc --strict on a typed consumer', () => {
  const dir = join(work, 'node');
  install(dir);
  writeFileSync(join(dir, 'index.mjs'), consumer("import { Engine } from 'buyerpath';") + 'console.log(JSON.stringify(result));\n');
  check(JSON.parse(sh('node', ['index.mjs'], dir).trim()));
  writeFileSync(
    join(dir, 'consumer.ts'),
    `import { Engine, Visitor, type Decision, type BriefDecision, type DecideRequest, type Playbook, type BuyerpathEvent, type BuyerpathError, type Signal } from 'buyerpath';
import { start, createSender, type StartOptions } from 'buyerpath/layer';
import { Engine as PageEngine, Visitor as PageVisitor } from 'buyerpath/page';
const playbook: Playbook = JSON.parse('{}') as Playbook;
const engine = new Engine(playbook);
const v: Visitor = engine.visitor('ts-1');
const ev: BuyerpathEvent = { type: 'page_view', ts: Date.now(), content_id: 'pricing', dwell_seconds: 3 };
v.observe(ev);
const nothing: void = v.recordJson(JSON.stringify(ev));
const d: Decision = v.decide({ now: Date.now(), slots: ['hero'], context: { consent: 'full', company: { industry: 'software' } } });
const tier: string = d.fit.tier;
const first: string | undefined = d.slots[0]?.picks[0]?.id;
const sig: Signal | undefined = d.signals[0];
const bd: BriefDecision = v.decide({ now: Date.now(), detail: 'brief' });
const briefUrl: string | undefined = bd.slots[0]?.picks[0]?.url;
const runtimeReq: DecideRequest = { now: Date.now(), detail: bd.seq > 0 ? 'brief' : 'full' };
const either: Decision | BriefDecision = v.decide(runtimeReq);
const objectOrText: DecideRequest | string = bd.seq > 0 ? runtimeReq : '{"detail":"brief"}';
const eitherToo: Decision | BriefDecision = v.decide(objectOrText);
const gateCount: number = 'gates' in eitherToo ? eitherToo.gates.length : 0;
// @ts-expect-error: a request that may be either kind is not typed as a full answer
const notFull: Decision = v.decide(objectOrText);
const full: Decision = v.decide({ now: Date.now(), detail: 'full' });
const again: Visitor = Visitor.decode(engine, v.encode('k'), { secret: 'k' });
const fresh: Visitor = engine.decode(v.encode('k'), { secret: 'k', now: Date.now(), maxIdleMs: 86_400_000 });
try { new Engine('{}'); } catch (e) { const err = e as BuyerpathError; console.log(err.code, err.path, err.hint, err.issues.length); }
const pe: PageEngine = PageEngine.fromBytes(new Uint8Array(0));
const pv: PageVisitor = pe.visitor('ts-2');
const pd: Decision = pv.decide('{}');
pv.recordJson('{}');
const restored: PageVisitor = PageVisitor.decode(pe, pv.encode(), {});
const routes: Map<string, string> = new Map(pe.contentUrls());
const opts: Partial<StartOptions> = { consent: 'anonymous' };
// The layer takes the package's Engine class as it is (never called here: only type-checked).
const startLayer = () => start({ Engine, playbook, consent: 'anonymous', onDecision: (dd: Decision) => console.log(dd.fit.tier) });
console.log(typeof startLayer, tier, first, briefUrl, either.seq, eitherToo.seq, gateCount, notFull, full.gates.length, sig?.messageId, again.id, typeof start, typeof createSender, opts, pd.seq, restored.id, routes.size, nothing);
`,
  );
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], skipLibCheck: false }, files: ['consumer.ts'] }));
  sh(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir);
  // And a type error is caught.
  writeFileSync(join(dir, 'bad.ts'), "import { Engine } from 'buyerpath';\nconst e = new Engine('{}');\ne.visitor(42);\n");
  writeFileSync(join(dir, 'tsconfig.bad.json'), JSON.stringify({ extends: './tsconfig.json', files: ['bad.ts'] }));
  assert.throws(
    () => sh(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.bad.json')], dir),
    (e) => String(e.stdout).includes('TS2345'),
  );
  // buyerpath/page has no playbook compiler: `new Engine` is a type error
  // there; and one module's engine is not the other's (separate Wasm memories).
  for (const [bad, code] of [
    ["import { Engine } from 'buyerpath/page';\nconst e = new Engine();\n", 'TS2673'],
    ["import { Visitor } from 'buyerpath';\nimport { Engine } from 'buyerpath/page';\nVisitor.decode(Engine.fromBytes(new Uint8Array(0)), '');\n", 'TS2345'],
    ["import { Engine } from 'buyerpath';\nimport { Visitor } from 'buyerpath/page';\nVisitor.decode(new Engine('{}'), '');\n", 'TS2345'],
    // A brief decision has no explaining lists, and `detail` is one of two words.
    ["import { Engine } from 'buyerpath';\nconst v = new Engine('{}').visitor('x');\nconsole.log(v.decide({ now: 1, detail: 'brief' }).gates);\n", 'TS2339'],
    ["import { Engine } from 'buyerpath';\nconst v = new Engine('{}').visitor('x');\nv.decide({ now: 1, detail: 'short' });\n", 'TS2769'],
    // A request whose detail is known only at run time may be answered briefly.
    ["import { Engine, type DecideRequest, type Decision } from 'buyerpath';\nconst v = new Engine('{}').visitor('x');\nconst r: DecideRequest = { now: 1, detail: Math.random() < 0.5 ? 'brief' : 'full' };\nconst d: Decision = v.decide(r);\n", 'TS2322'],
    // Visitors come from an engine: `new Visitor()` made an object every method refused.
    ["import { Visitor } from 'buyerpath';\nnew Visitor();\n", 'TS2673'],
    ["import { Visitor } from 'buyerpath/page';\nnew Visitor();\n", 'TS2673'],
  ]) {
    writeFileSync(join(dir, 'bad.ts'), bad);
    assert.throws(
      () => sh(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.bad.json')], dir),
      (e) => String(e.stdout).includes(code),
      bad,
    );
  }
});

test('buyerpath/page: a Node ESM project, a browser bundle, a workerd bundle and Deno load the engine file and decide as buyerpath does', async () => {
  // What the package decides with the playbook compiled from JSON.
  const ref = join(work, 'page-ref');
  install(ref);
  writeFileSync(join(ref, 'index.mjs'), consumer("import { Engine } from 'buyerpath';") + 'console.log(JSON.stringify(result));\n');
  const expected = JSON.parse(sh('node', ['index.mjs'], ref).trim());
  check(expected);

  const node = join(work, 'page-node');
  install(node);
  copyFileSync(engineFile, join(node, 'example.bpe'));
  writeFileSync(join(node, 'index.mjs'), pageConsumer("import { Engine } from 'buyerpath/page';\nimport { readFileSync } from 'node:fs';", "readFileSync('example.bpe')") + 'console.log(JSON.stringify(result));\n');
  assert.deepEqual(JSON.parse(sh('node', ['index.mjs'], node).trim()), expected, 'Node');

  // The `browser` entry, bundled by esbuild with the engine file embedded, its
  // Wasm next to the bundle, run where file: URLs are fetched (Deno).
  const browser = join(work, 'page-browser');
  install(browser);
  copyFileSync(engineFile, join(browser, 'example.bpe'));
  writeFileSync(join(browser, 'app.mjs'), pageConsumer("import { Engine } from 'buyerpath/page';\nimport bytes from './example.bpe';", 'bytes') + 'console.log(JSON.stringify(result));\n');
  sh(bin('esbuild'), ['app.mjs', '--bundle', '--format=esm', '--platform=browser', '--loader:.bpe=binary', '--outfile=dist/app.js', '--log-level=error'], browser);
  const bundle = readFileSync(join(browser, 'dist', 'app.js'), 'utf8');
  assert.ok(bundle.includes('buyerpath_bg.wasm') && !bundle.includes('node:fs') && !bundle.includes('Deno.readFile'), 'the page browser entry chosen');
  copyFileSync(join(browser, 'node_modules', 'buyerpath', 'page', 'buyerpath_bg.wasm'), join(browser, 'dist', 'buyerpath_bg.wasm'));
  const browserOut = sh(bin('deno'), ['run', '--no-prompt', `--allow-read=${browser}`, join(browser, 'dist', 'app.js')], browser);
  assert.deepEqual(JSON.parse(browserOut.trim().split('\n').pop()), expected, 'browser bundle');
  // The other build's Wasm next to the bundle (both are buyerpath_bg.wasm),
  // then none: a clear error naming the file to serve, not a missing function.
  for (const wasm of [join(browser, 'node_modules', 'buyerpath', 'buyerpath_bg.wasm'), null]) {
    if (wasm) copyFileSync(wasm, join(browser, 'dist', 'buyerpath_bg.wasm'));
    else rmSync(join(browser, 'dist', 'buyerpath_bg.wasm'));
    const failed = (() => {
      try {
        sh(bin('deno'), ['run', '--no-prompt', `--allow-read=${browser}`, join(browser, 'dist', 'app.js')], browser);
        return null;
      } catch (err) {
        return String(err.stderr);
      }
    })();
    assert.ok(failed && failed.includes('buyerpath/page: the Wasm file at') && failed.includes('node_modules/buyerpath/page/buyerpath_bg.wasm'), `${wasm ? 'the package\'s Wasm' : 'no Wasm'}: ${failed}`);
  }

  const deno = join(work, 'page-deno');
  install(deno);
  copyFileSync(engineFile, join(deno, 'example.bpe'));
  writeFileSync(join(deno, 'deno.json'), JSON.stringify({ nodeModulesDir: 'manual' }));
  writeFileSync(join(deno, 'main.mjs'), pageConsumer("import { Engine } from 'buyerpath/page';", "await Deno.readFile('example.bpe')") + 'console.log(JSON.stringify(result));\n');
  const denoOut = sh(bin('deno'), ['run', '--no-prompt', `--allow-read=${deno}`, 'main.mjs'], deno);
  assert.deepEqual(JSON.parse(denoOut.trim().split('\n').pop()), expected, 'Deno');

  const worker = join(work, 'page-worker');
  install(worker);
  copyFileSync(engineFile, join(worker, 'example.bpe'));
  const body = pageConsumer('', 'bytes').split('\n').slice(1).join('\n  ').replace('export const result', 'const result');
  writeFileSync(join(worker, 'worker.mjs'), `import { Engine } from 'buyerpath/page';\nimport bytes from './example.bpe';\nexport default { async fetch() {\n  ${body}\n  return Response.json(result);\n} };\n`);
  assert.deepEqual(await runWorker(worker), expected, 'workerd');
});

test('esbuild browser bundle: bundles through the `browser` export and runs', () => {
  const dir = join(work, 'browser');
  install(dir);
  writeFileSync(join(dir, 'app.mjs'), consumer("import { Engine } from 'buyerpath';") + 'globalThis.__result = result; console.log(JSON.stringify(result));\n');
  sh(bin('esbuild'), ['app.mjs', '--bundle', '--format=esm', '--platform=browser', '--outfile=dist/app.js', '--log-level=error'], dir);
  copyFileSync(join(dir, 'node_modules', 'buyerpath', 'buyerpath_bg.wasm'), join(dir, 'dist', 'buyerpath_bg.wasm'));
  const bundle = readFileSync(join(dir, 'dist', 'app.js'), 'utf8');
  assert.ok(bundle.includes('buyerpath_bg.wasm') && !bundle.includes('node:fs') && !bundle.includes('Deno.readFile'), 'browser entry chosen');
  // Run the bundle in a browser-like runtime that fetches file: URLs (Deno); Chromium runs it in the demo-site tests.
  const out = sh(bin('deno'), ['run', '--no-prompt', `--allow-read=${dir}`, join(dir, 'dist', 'app.js')], dir);
  check(JSON.parse(out.trim().split('\n').pop()));
});

test('workerd worker bundle: the `workerd` export with the Wasm as a compiled module', async () => {
  const dir = join(work, 'worker');
  install(dir);
  writeFileSync(
    join(dir, 'worker.mjs'),
    consumer("import { Engine } from 'buyerpath';").replace(/^const playbook[\s\S]*$/m, '') +
      `export default { async fetch() {
  ${consumer('').split('\n').slice(1).join('\n  ').replace('export const result', 'const result')}
  return Response.json(result);
} };\n`,
  );
  check(await runWorker(dir));
});

test('Deno project: resolves the `deno` export from node_modules', () => {
  const dir = join(work, 'deno');
  install(dir);
  writeFileSync(join(dir, 'deno.json'), JSON.stringify({ nodeModulesDir: 'manual' }));
  writeFileSync(join(dir, 'main.mjs'), consumer("import { Engine } from 'buyerpath';") + 'console.log(JSON.stringify(result));\n');
  const out = sh(bin('deno'), ['run', '--no-prompt', `--allow-read=${dir}`, 'main.mjs'], dir);
  check(JSON.parse(out.trim().split('\n').pop()));
});
