// A small static server for the built demo site (www/dist): what
// `node scripts/build-www.mjs --serve` runs, and what the browser tests start.
// It maps `/pricing` to `pricing.html` (or `pricing/index.html`) the way the
// edge's asset binding does, serves `.wasm` as application/wasm, and accepts
// `POST /v1/batch` (the first-party signal path) by recording the batch and
// answering like Segment's API — the real collector comes later.
//
// Binds 127.0.0.1 only.

import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};
const MAX_BATCH_BYTES = 512 * 1024;

async function isFile(path) {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The file for a URL path inside `root`, or null. */
/** What /dashboard/ answers here: the account and funnel views need the collector. */
const NO_DASHBOARD = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dashboard: run the collector</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#101828}code{background:#f2f4f7;padding:0 4px;border-radius:4px}</style></head>
<body><h1>The dashboard needs the collector</h1>
<p>This is the static demo server (<code>node scripts/build-www.mjs --serve</code>): it shows the site and logs the signals, but keeps no store, so it has no accounts or funnel to show.</p>
<p>Run <code>./dev demo</code> instead (or <code>target/release/buyerpath serve</code>): the reference collector serves this same site, stores its signals in SQLite and shows them at <code>/dashboard/</code>.</p>
<p><a href="/">Back to the site</a></p></body></html>
`;

export async function resolvePath(root, pathname) {
  let p;
  try {
    p = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (p.includes('\0')) return null;
  const base = resolve(root);
  const full = resolve(base, `.${normalize(`/${p}`)}`);
  if (full !== base && !full.startsWith(base + sep)) return null;
  const candidates = p.endsWith('/') ? [join(full, 'index.html')] : [full, `${full}.html`, join(full, 'index.html')];
  for (const c of candidates) if (await isFile(c)) return c;
  return null;
}

/**
 * Creates the server (not yet listening).
 * @param {{ root: string, batches?: object[], onBatch?: (batch: object) => void, log?: boolean }} options
 */
export function createSiteServer({ root, batches = [], onBatch, log = false }) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url || '/', 'http://127.0.0.1');
    if (log) console.log(`${req.method} ${url.pathname}`);
    if (url.pathname === '/v1/batch') {
      if (req.method !== 'POST') {
        res.writeHead(405, { Allow: 'POST' }).end();
        return;
      }
      const chunks = [];
      let size = 0;
      for await (const c of req) {
        size += c.length;
        if (size > MAX_BATCH_BYTES) {
          res.writeHead(413).end();
          return;
        }
        chunks.push(c);
      }
      const body = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try {
        json = JSON.parse(body);
      } catch {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"success":false}');
        return;
      }
      const entry = { time: Date.now(), headers: req.headers, body, json };
      batches.push(entry);
      if (onBatch) onBatch(entry);
      if (log) console.log(`  batch of ${Array.isArray(json.batch) ? json.batch.length : 0}: ${(json.batch || []).map((e) => e.event).join(', ')}`);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"success":true}');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    // The dashboard is the collector's (`buyerpath serve`, what `./dev demo`
    // runs): this server has no store behind it, so it says where to find one.
    if (url.pathname === '/dashboard' || url.pathname.startsWith('/dashboard/')) {
      res.writeHead(404, { 'Content-Type': TYPES['.html'], 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? '' : NO_DASHBOARD);
      return;
    }
    const file = await resolvePath(root, url.pathname);
    if (!file) {
      const notFound = await resolvePath(root, '/404.html');
      res.writeHead(404, { 'Content-Type': TYPES['.html'], 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' || !notFound ? '' : await readFile(notFound));
      return;
    }
    const type = TYPES[extname(file)] || 'application/octet-stream';
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return server;
}

/** Starts the server on 127.0.0.1 (port 0: a free one); resolves to its URL and a close(). */
export async function listen(server, port = 0) {
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const { port: p } = server.address();
  return {
    url: `http://127.0.0.1:${p}`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}
