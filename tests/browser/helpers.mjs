// Shared by the browser tests: Debian's Chromium through playwright-core, the
// built demo site on a local static server, and the package in Node to decide
// the same things the page decided.

import { mkdtempSync, rmSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { createSiteServer, listen } from '../../www/tools/static-server.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = join(root, 'www', 'dist');
export const screenshots = join(root, 'target', 'screenshots');
// Debian's Chromium by default; CHROMIUM=/path/to/chromium for another one.
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fails early, with the command to run, when the site or Chromium is missing. */
export function requireSetup() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup-browser.sh (or set CHROMIUM to a Chromium binary)`);
  if (!existsSync(join(dist, 'index.html')) || !existsSync(join(dist, 'pkg', 'browser.js'))) {
    throw new Error('www/dist is missing: run node scripts/build-www.mjs');
  }
}

/** Chromium with a fresh user-data dir (removed by close()). */
export async function launch() {
  const dataDir = mkdtempSync(join(tmpdir(), 'bp-chromium-'));
  // launchPersistentContext is how playwright passes a user-data dir.
  const context = await chromium.launchPersistentContext(dataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1360, height: 900 },
    deviceScaleFactor: 1,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The demo site on 127.0.0.1 (random port), recording POST /v1/batch. */
export async function serveSite() {
  const batches = [];
  const server = createSiteServer({ root: dist, batches });
  const { url, close } = await listen(server, 0);
  return { url, batches, close };
}

/** The browser-safe playbook the page loads. */
export function sitePlaybook(name = 'playbook.json') {
  return readFileSync(join(dist, name), 'utf8');
}

export function screenshotPath(name) {
  mkdirSync(screenshots, { recursive: true });
  return join(screenshots, name);
}

/** Waits until the page script has started and decided. */
export async function ready(page) {
  await page.waitForFunction(() => window.bpDemo && window.bpDemo.ready && window.bpDemo.decision, null, { timeout: 30000 });
}

/** What each slot shows: slot id → pick ids, read from the DOM. */
export async function slotsInDom(page) {
  return page.evaluate(() => {
    const out = {};
    for (const el of document.querySelectorAll('[data-bp-slot]')) {
      out[el.getAttribute('data-bp-slot')] = Array.from(el.querySelectorAll('a[data-bp-content]'), (a) => a.getAttribute('data-bp-content'));
    }
    return out;
  });
}

/** What a decision picked: slot id → pick ids. */
export function slotsOf(decision) {
  return Object.fromEntries(decision.slots.map((s) => [s.slot, s.picks.map((p) => p.id)]));
}

/**
 * A stand-in collector on 127.0.0.1 for an edge to forward to: every event of
 * every batch posted, in `received`; answers as the collector does.
 */
export async function fakeCollector() {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        received.push(...JSON.parse(Buffer.concat(chunks).toString()).batch);
      } catch {
        // not a batch
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"success":true}');
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    received,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((done) => (server.closeAllConnections(), server.close(done))),
  };
}
