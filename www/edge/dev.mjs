#!/usr/bin/env node
// Runs the edge worker locally in workerd (through miniflare), with the built
// site as its assets and KV seeded from dist/kv.json: the same setup the edge
// tests use.
//
//   node scripts/build-www.mjs --edge
//   node www/edge/dev.mjs [--port 8787] [--collector http://127.0.0.1:8080]
//
// Binds 127.0.0.1 only. The state secret is a development one.

import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';

const here = dirname(fileURLToPath(import.meta.url));
export const edgeDist = join(here, 'dist');
export const siteDist = join(here, '..', 'dist');

/** Miniflare options for the worker; `vars` override the wrangler.toml defaults. */
export function edgeOptions(vars = {}) {
  if (!existsSync(join(edgeDist, 'worker.js'))) throw new Error('www/edge/dist is missing: run node scripts/build-www.mjs --edge');
  const bindings = {
    STATE_SECRET: 'dev-only-state-secret-change-me',
    COLLECTOR_URL: '',
    WRITE_KEY: 'demo-write-key',
    DEMO_SWITCHER: 'on',
    INSPECTOR: 'on',
    PLAYBOOK_TTL_SECONDS: '30',
    ...vars,
  };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  return {
    modulesRoot: edgeDist,
    modules: [
      { type: 'ESModule', path: join(edgeDist, 'worker.js') },
      { type: 'CompiledWasm', path: join(edgeDist, 'buyerpath_bg.wasm') },
    ],
    compatibilityDate: '2026-04-01',
    assets: {
      directory: siteDist,
      binding: 'ASSETS',
      routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true },
      assetConfig: { html_handling: 'auto-trailing-slash', not_found_handling: '404-page' },
    },
    kvNamespaces: ['BP_KV'],
    bindings,
  };
}

/** Puts dist/kv.json (the engine file, the organisation records) into the BP_KV namespace. */
export async function seedKv(mf, entries = JSON.parse(readFileSync(join(edgeDist, 'kv.json'), 'utf8'))) {
  const kv = await mf.getKVNamespace('BP_KV');
  // `base64: true` (as `wrangler kv bulk put` reads it): a binary value.
  for (const { key, value, base64 } of entries) await kv.put(key, base64 ? Uint8Array.from(Buffer.from(value, 'base64')).buffer : value);
  return kv;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
  };
  const port = Number(opt('--port', '8787'));
  const mf = new Miniflare({ ...edgeOptions({ COLLECTOR_URL: opt('--collector', '') }), host: '127.0.0.1', port });
  await seedKv(mf);
  const url = await mf.ready;
  console.log(`Lumora at the edge (workerd): ${url.href}  — try ${url.href}?as=fintech ; Ctrl-C to stop`);
}
