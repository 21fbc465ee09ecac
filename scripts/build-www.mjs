#!/usr/bin/env node
// Builds the Lumora demo site into www/dist/ (gitignored):
//
//   1. the browser-safe playbooks, with the CLI (`buyerpath browser-playbook`):
//      www/dist/playbook.json       hashed lists, fit criteria kept (the
//                                   browser decides alone: static hosting)
//      www/dist/playbook-edge.json  hashed lists, no fit criteria (behind the
//                                   edge worker: the fit stays in its signed state)
//   2. a page per catalogue item, a home page and section indexes, from the
//      templates in www/src/ and the playbook's catalogue;
//   3. the page scripts (www/src/js/), the stylesheet, and the npm package
//      (pkg/ → www/dist/pkg/, built first if missing);
//   4. with --edge, the edge worker bundle (www/edge/dist/): esbuild with the
//      package's `workerd` export of `buyerpath/page` and its Wasm as a compiled
//      module, and dist/kv.json (the engine compiled ahead, the organisations).
//
// Usage: node scripts/build-www.mjs [--edge] [--serve [--port 8080]]
//   BUYERPATH_BIN=target/release/buyerpath uses that binary instead of `cargo run`.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const www = join(root, 'www');
const dist = join(www, 'dist');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const step = (msg) => process.stderr.write(`\x1b[1m== ${msg}\x1b[0m\n`);
const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });

const FULL_PLAYBOOK = join(root, 'examples', 'acme', 'playbook.json');
// Not secret: a salt only stops precomputed tables of hashed domains.
const SALT = 'lumora-web-2026:';

// ------------------------------------------------------------------ 0. the package
if (!existsSync(join(root, 'pkg', 'browser.js')) || !existsSync(join(root, 'pkg', 'layer', 'index.js')) || !existsSync(join(root, 'pkg', 'buyerpath_bg.wasm'))) {
  step('pkg/ is missing: building the npm package first (node scripts/build-pkg.mjs)');
  run(process.execPath, [join(root, 'scripts', 'build-pkg.mjs')]);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

// ------------------------------------------------------------------ 1. playbooks
step('browser-safe playbooks (buyerpath browser-playbook)');
function cli(cliArgs) {
  if (process.env.BUYERPATH_BIN) run(process.env.BUYERPATH_BIN, cliArgs);
  else run('cargo', ['run', '-q', '-p', 'buyerpath-cli', '--', ...cliArgs]);
}
function browserPlaybook(out, extra) {
  cli(['browser-playbook', FULL_PLAYBOOK, '-o', out, '--salt', SALT, ...extra]);
}
browserPlaybook(join(dist, 'playbook.json'), []);
browserPlaybook(join(dist, 'playbook-edge.json'), ['--strip-fit']);
for (const f of ['playbook.json', 'playbook-edge.json']) {
  const text = readFileSync(join(dist, f), 'utf8');
  // The whole point: no competitor or internal domain in clear.
  for (const clear of ['pipewatch.io', 'datasentry.com', 'lumora.io']) {
    if (text.includes(clear)) throw new Error(`${f} still contains ${clear} in clear`);
  }
}

// ------------------------------------------------------------------ 2. pages
step('pages');
const { contentPage, homePage, indexPage, page, SECTION_PAGES } = await import(pathToFileURL(join(www, 'src', 'templates.mjs')).href);
const playbook = JSON.parse(readFileSync(FULL_PLAYBOOK, 'utf8'));
const catalogue = new Map(playbook.content.map((c) => [c.id, c]));
const env = { catalogue, slots: playbook.slots };

function write(urlPath, html) {
  const file = urlPath === '/' ? join(dist, 'index.html') : join(dist, `${urlPath.replace(/^\//, '')}.html`);
  mkdirSync(dirname(file), { recursive: true });
  if (existsSync(file)) throw new Error(`two pages at ${urlPath}`);
  writeFileSync(file, html);
  return file;
}

const slotIds = playbook.slots.map((s) => s.id);
const pages = [];
pages.push(write('/', homePage(env)));
for (const item of playbook.content) pages.push(write(item.url, contentPage(item, env)));
for (const section of SECTION_PAGES) pages.push(write(section.path, indexPage(section, playbook.content, env)));
writeFileSync(
  join(dist, '404.html'),
  page({ path: '/404', title: 'Page not found', main: '<main class="wrap page-head"><h1>Page not found</h1><p class="lede">That page does not exist (any more). <a href="/">Back to the home page</a>.</p></main>' }),
);

// Every page carries every slot and names its content item.
for (const file of pages) {
  const html = readFileSync(file, 'utf8');
  for (const id of slotIds) if (!html.includes(`data-bp-slot="${id}"`)) throw new Error(`${relative(root, file)} lacks slot ${id}`);
}
for (const item of playbook.content) {
  const html = readFileSync(join(dist, `${item.url.slice(1)}.html`), 'utf8');
  if (!html.includes(`<meta name="buyerpath:content" content="${item.id}">`)) throw new Error(`${item.url} lacks its buyerpath:content meta`);
}

// ------------------------------------------------------------------ 3. assets
step('assets: page scripts, styles, the package');
cpSync(join(www, 'src', 'static'), dist, { recursive: true });
cpSync(join(www, 'src', 'js'), join(dist, 'js'), { recursive: true });
// The demo's pages compile their playbook: `buyerpath/page` (pkg/page/) is not served.
cpSync(join(root, 'pkg'), join(dist, 'pkg'), { recursive: true, filter: (src) => src !== join(root, 'pkg', 'page') });

// ------------------------------------------------------------------ 4. edge worker
if (flag('--edge')) {
  step('edge worker bundle (esbuild, workerd export)');
  // `buyerpath` resolves to the built package, as `npm install ../../pkg`
  // (www/edge/package.json) would link it.
  const link = join(www, 'edge', 'node_modules', 'buyerpath');
  mkdirSync(dirname(link), { recursive: true });
  let linked = false;
  try {
    linked = lstatSync(link).isSymbolicLink();
  } catch {
    linked = false;
  }
  if (!linked) {
    rmSync(link, { recursive: true, force: true });
    symlinkSync(relative(dirname(link), join(root, 'pkg')), link, 'dir');
  }
  const out = join(www, 'edge', 'dist');
  rmSync(out, { recursive: true, force: true });
  run(join(root, 'node_modules', '.bin', 'esbuild'), [
    join(www, 'edge', 'worker.mjs'),
    '--bundle',
    '--format=esm',
    '--platform=neutral',
    '--conditions=workerd',
    '--main-fields=module,main',
    '--loader:.wasm=copy',
    '--asset-names=[name]',
    `--outdir=${out}`,
    '--log-level=warning',
  ]);
  // KV contents: the FULL playbook (fit criteria included: it never leaves
  // the edge) compiled ahead by `buyerpath compile` under its revision (the
  // worker loads it with buyerpath/page, which has no JSON compiler), the
  // live revision, and the organisation records (`wrangler kv bulk put`
  // format: the engine file in base64).
  const engineFile = join(out, `engine-${playbook.revision}.bpe`);
  cli(['compile', FULL_PLAYBOOK, '-o', engineFile]);
  const orgs = JSON.parse(readFileSync(join(www, 'edge', 'orgs.json'), 'utf8'));
  const kv = [
    { key: 'playbook:revision', value: String(playbook.revision) },
    { key: `engine:${playbook.revision}`, value: readFileSync(engineFile).toString('base64'), base64: true },
    ...Object.entries(orgs)
      .filter(([name]) => !name.startsWith('_'))
      .map(([name, record]) => ({ key: `org:${name.toLowerCase()}`, value: JSON.stringify(record) })),
  ];
  writeFileSync(join(out, 'kv.json'), `${JSON.stringify(kv, null, 1)}\n`);
}

// ------------------------------------------------------------------ summary
function sizeOf(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? sizeOf(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `www/dist: ${pages.length + 1} pages (${playbook.content.length} catalogue items, ${SECTION_PAGES.length} indexes, home, 404), ` +
    `playbook.json ${kb(statSync(join(dist, 'playbook.json')).size)}, playbook-edge.json ${kb(statSync(join(dist, 'playbook-edge.json')).size)}, ` +
    `${kb(sizeOf(dist))} in all`,
);
if (flag('--edge')) console.log(`www/edge/dist: worker.js ${kb(statSync(join(www, 'edge', 'dist', 'worker.js')).size)}, buyerpath_bg.wasm ${kb(statSync(join(www, 'edge', 'dist', 'buyerpath_bg.wasm')).size)}`);

// ------------------------------------------------------------------ serve
if (flag('--serve')) {
  const { createSiteServer, listen } = await import(pathToFileURL(join(www, 'tools', 'static-server.mjs')).href);
  const port = Number(opt('--port', '8080'));
  const { url } = await listen(createSiteServer({ root: dist, log: true }), port);
  console.log(`\nLumora demo: ${url}/  (signals POSTed to ${url}/v1/batch are logged here; Ctrl-C to stop)`);
}
