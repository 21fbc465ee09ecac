// The Lumora demo site at the edge (Cloudflare Workers / workerd).
//
// Every HTML page is decided BEFORE it leaves the edge: the visitor state
// comes from a signed first-party cookie, the firmographics from `request.cf`
// plus a KV lookup of the visitor's organisation, and the `data-bp-slot`
// elements are filled before the page leaves (no flicker): in one pass over
// the page's bytes when its markup allows an exact answer (fill.mjs, the
// demo site's pages), else by HTMLRewriter (its output held until the page
// ends, up to 4 MiB, then streamed). The decision,
// the signals the edge did not forward and the visitor state are injected as a
// small inline JSON, so the browser layer continues without deciding again.
//
// Privacy: consent comes from the banner's `bp_consent` cookie (`none` when
// absent): at `none` nothing is read, stored or sent (a state cookie's
// signature is checked only to know whether it is this site's to expire). The
// page then holds its state signed (`resume`, in the page, stored nowhere): a consent
// given there posts it to /bp/consent, which verifies it and stores it, so
// the visitor who landed is the one the next pages continue.
// `Sec-GPC: 1` caps the consent at `anonymous` and sends no signal. A malformed, tampered or stale state
// cookie (idle past its 180-day lifetime: a replay) starts a fresh visitor; it never fails the request (nor does a
// missing playbook or an engine error: the page is then served as built).
// A prefetch or prerender of a page (`Sec-Purpose: prefetch`...) is declined
// (503): nothing is decided, stored or sent for a page the visitor may never
// see, and the navigation itself is decided.
//
// Bindings (wrangler.toml): ASSETS (the built site, run_worker_first), BP_KV
// (the playbook and the organisation records), STATE_SECRET (secret),
// COLLECTOR_URL, WRITE_KEY (secret: the edge's own signals, under a key the
// collector trusts with --trusted-write-key), BROWSER_WRITE_KEY (the public
// key the browser's batches are proxied under), DEMO_SWITCHER, INSPECTOR (`on`:
// the page gets the full decision for the demo's inspector; else a brief one),
// PLAYBOOK_TTL_SECONDS, ORG_TTL_SECONDS (how long an organisation record read
// from KV is reused, default 300), PERSONALIZE.

import { Engine } from 'buyerpath/page';
import { slotHtml, slotKey } from '../src/js/render.mjs';
import { compilePage, intoHead, readUpTo, renderPage, slotRewriter } from './fill.mjs';
import { preset, presetContext } from '../src/js/presets.mjs';
import { pagePath } from '../../pkg-template/layer/track.js';

const STATE_COOKIE = 'bp';
const VIEW_COOKIE = 'bp_view';
const EVENTS_COOKIE = 'bp_ev';
const CONSENT_COOKIE = 'bp_consent';
const STATE_MAX_AGE = 180 * 86400;
const SESSION_GAP_MS = 30 * 60 * 1000;
// Forwarding signals to the collector: tries, each request's limit, and the
// longest wait between two (all within waitUntil's 30 s after the response).
const FORWARD_ATTEMPTS = 3;
const FORWARD_TIMEOUT_MS = 10_000;
const FORWARD_MAX_WAIT_MS = 2_000;
// How long a browser's batch waits for the collector's answer on /v1/batch
// (`COLLECTOR_TIMEOUT_MS`, else 8 s).
const proxyTimeoutMs = (env) => (Number(env.COLLECTOR_TIMEOUT_MS) > 0 ? Number(env.COLLECTOR_TIMEOUT_MS) : 8_000);
// How long the page a visitor last saw is kept for their next visit.
const VIEW_MAX_AGE_MS = 7 * 86400 * 1000;
// The engine takes a page URL of at most this many bytes in a decide request.
const MAX_URL_BYTES = 256;

/** A request's path as the engine takes it: cut as the browser layer cuts it (whole characters' escapes). */
const pageUrl = (path) => pagePath(path, MAX_URL_BYTES);
const MAX_BATCH_BYTES = 512 * 1024;
// A POST to /bp/consent: `none`, or a grant with a state (under 4,000 characters) and a path.
const MAX_CONSENT_BYTES = 8 * 1024;
// The longest state cookie value set: with its name and attributes under the
// 4,096 bytes browsers keep.
const MAX_STATE_COOKIE = 4000;
// Pages up to this size are read whole and filled in one pass (fill.mjs);
// larger ones go through HTMLRewriter.
const FILL_MAX_BYTES = 1024 * 1024;
// HTMLRewriter's output is held until the page ends, up to this size, so that
// markup it cannot read gets the page as built rather than a cut one; past
// it, the page streams.
const REWRITE_BUFFER_BYTES = 4 * 1024 * 1024;
// Pages read once are kept compiled, per isolate, by their strong ETag (the
// asset's content hash), up to this many bytes of pages: later requests for
// them render from the copy and leave the asset's body unread.
const PAGE_CACHE_BYTES = 8 * 1024 * 1024;
const pageCache = new Map(); // path and ETag → { page: compiled | null (not for the one pass), size }
let pageCacheBytes = 0;
const EVENT_TYPES = new Set(['cta_click', 'download', 'form_submit', 'custom', 'video_play', 'trial_start', 'search', 'chat_open']);
const EVENT_KEYS = ['type', 'ts', 'content_id', 'cta', 'form', 'fields', 'name'];

// ------------------------------------------------------------------ playbook cache

// Per isolate: engines by playbook revision. KV holds `playbook:revision`
// (the live revision) and `engine:<revision>` (the full playbook compiled
// ahead by `buyerpath compile`, loaded with buyerpath/page: no JSON compiler
// in the worker, no compile on a cold start); the revision is re-read at
// most every PLAYBOOK_TTL_SECONDS.
const engines = new Map();
let live = null; // { revision, checkedAt }

async function loadEngine(env) {
  const now = Date.now();
  const ttl = ttlMs(env.PLAYBOOK_TTL_SECONDS, 30);
  if (live && now - live.checkedAt < ttl && engines.has(live.revision)) return engines.get(live.revision);
  const revision = String((await env.BP_KV.get('playbook:revision')) || '').trim();
  if (!revision) throw new Error('KV has no `playbook:revision`');
  live = { revision, checkedAt: now };
  let entry = engines.get(revision);
  if (!entry) {
    const bytes = await env.BP_KV.get(`engine:${revision}`, 'arrayBuffer');
    if (!bytes) throw new Error(`KV has no \`engine:${revision}\` (the playbook compiled by \`buyerpath compile\`)`);
    // `wrangler kv key put` without `--path` stores text: the file's bytes
    // written as base64 (`QlBF` is "BPE") are said so, not "no header".
    if (new TextDecoder().decode(new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength))) === 'QlBF') {
      throw new Error(`KV's \`engine:${revision}\` holds the engine file as base64 text: store the file itself (\`npx wrangler kv key put engine:${revision} --path engine.bpe --binding BP_KV\`)`);
    }
    const engine = Engine.fromBytes(bytes);
    const routes = routesOf(engine.contentUrls());
    entry = { revision, engine, routes };
    engines.set(revision, entry);
    // Keep the live revision and the one before (requests in flight).
    for (const key of [...engines.keys()]) {
      if (engines.size <= 2) break;
      if (key !== revision) {
        engines.get(key).engine.free();
        engines.delete(key);
      }
    }
  }
  return entry;
}

// ------------------------------------------------------------------ helpers

/** What a page served as built (no decision) carries: the playbook its script loads. */
const FALLBACK_META = '<meta name="bp-playbook" content="/playbook-edge.json">';

let lastFailure = null; // { message, at }: the failure last logged

/** Logs a failure of personalisation, the same one at most once a minute. */
function logFailure(err) {
  const message = String((err && err.message) || err);
  const now = Date.now();
  if (lastFailure && lastFailure.message === message && now - lastFailure.at < 60_000) return;
  lastFailure = { message, at: now };
  console.error(`buyerpath edge: ${err && err.stack ? err.stack : err} (the same failure is logged once a minute; pages are served as built)`);
}

/** A `*_SECONDS` setting in milliseconds (`fallback` seconds when unset). */
function ttlMs(value, fallback) {
  return Number(value ?? fallback) * 1000;
}

function isHtml(response) {
  return (response.headers.get('Content-Type') || '').toLowerCase().includes('text/html');
}

/** The request without its conditions (If-None-Match, If-Modified-Since...) nor a Range: the whole page. */
function unconditional(request, method = 'GET') {
  const headers = new Headers(request.headers);
  for (const h of ['If-None-Match', 'If-Modified-Since', 'If-Match', 'If-Unmodified-Since', 'If-Range', 'Range']) headers.delete(h);
  return new Request(request.url, { method, headers });
}

/**
 * A page's headers once the edge answers for it (decided or served as built):
 * per visitor, never stored by a shared cache nor revalidated against the
 * asset's ETag, which names other bytes.
 */
function pageHeaders(asset) {
  const headers = new Headers(asset.headers);
  for (const h of PAGE_HEADERS_DROPPED) headers.delete(h);
  headers.set('Cache-Control', 'private, no-store');
  const vary = headers.get('Vary');
  if (!vary || !/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(vary)) headers.set('Vary', vary ? `${vary}, Cookie` : 'Cookie');
  return headers;
}

// What the asset's headers say of the asset's bytes or of how to cache them,
// untrue of a page answered per visitor: validators, lengths and digests of
// other bytes, and the caching orders of CDNs (RFC 9213's CDN-Cache-Control
// and its kin take precedence over Cache-Control where they are read).
const PAGE_HEADERS_DROPPED = [
  'ETag', 'Last-Modified', 'Content-Length', 'Cache-Control', 'Expires', 'Age',
  'CDN-Cache-Control', 'Cloudflare-CDN-Cache-Control', 'Surrogate-Control',
  'Content-Digest', 'Repr-Digest', 'Digest', 'Content-MD5', 'Accept-Ranges', 'Content-Range',
];

/**
 * A speculative request (a prefetch or prerender: Speculation Rules,
 * `<link rel=prefetch>`, Cloudflare's Speed Brain): the visitor may never
 * see the page. `Sec-Purpose: prefetch` (`prefetch;prerender`...), or the
 * older `Purpose`, `X-Purpose` or `X-Moz: prefetch`.
 */
function speculative(request) {
  const h = request.headers;
  if (/(^|,)\s*prefetch\s*(;|,|$)/i.test(h.get('Sec-Purpose') || '')) return true;
  return ['Purpose', 'X-Purpose', 'X-Moz'].some((name) => (h.get(name) || '').trim().toLowerCase() === 'prefetch');
}

/**
 * The answer to a speculative page request: declined (503, what browsers drop
 * a prefetch on, and what Cloudflare answers one it will not serve). The page
 * is then asked for when the visitor goes to it, and decided then: served
 * undecided, a prefetch used for the navigation would leave the page to its
 * script, on a visitor other than the edge's (its state cookie is HttpOnly).
 */
function declined() {
  return new Response(null, { status: 503, headers: { 'Cache-Control': 'no-store', Vary: 'Sec-Purpose', 'X-Bp-Prefetch': 'declined' } });
}

/** A Cookie header's name/value pairs, in the order sent. */
function cookiePairs(header) {
  const out = [];
  for (const part of String(header || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq >= 0) out.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return out;
}

/** Every value of the cookie `name`, in the order sent (a parent domain's may come first). */
function cookieValues(header, name) {
  return cookiePairs(header).filter(([k]) => k === name).map(([, v]) => v);
}

/**
 * The `bp` values to try, in order: at most four shaped as a state
 * (base64url from the magic `B`, within a cookie's size), then the first
 * other one, whose refusal is reported if none is accepted. Another
 * domain's junk `bp` cookies (sent first, for their longer paths) cannot
 * push this site's own state out, and each costs no decode.
 */
function stateCandidates(header) {
  const all = cookieValues(header, STATE_COOKIE).filter(Boolean);
  const shaped = all.filter((v) => v.length <= MAX_STATE_COOKIE && /^Qg[A-Za-z0-9_-]+$/.test(v));
  const other = all.find((v) => !shaped.includes(v));
  return other === undefined ? shaped.slice(0, 4) : [...shaped.slice(0, 4), other];
}

/** The first value of each cookie. */
function parseCookies(header) {
  const out = {};
  for (const [k, v] of cookiePairs(header)) if (k && !(k in out)) out[k] = v;
  return out;
}

function cookie(name, value, { maxAge, httpOnly = true } = {}) {
  return `${name}=${value}; Path=/; Max-Age=${maxAge}; ${httpOnly ? 'HttpOnly; ' : ''}Secure; SameSite=Lax`;
}

function basicAuth(writeKey) {
  return `Basic ${btoa(`${writeKey}:`)}`;
}

const str = (v, max) => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined);

/** Consent from the banner's cookie, capped by Global Privacy Control. */
function consentOf(cookies, request) {
  const gpc = request.headers.get('Sec-GPC') === '1';
  let consent = cookies[CONSENT_COOKIE];
  if (consent !== 'anonymous' && consent !== 'full') consent = 'none';
  if (gpc && consent === 'full') consent = 'anonymous';
  return { consent, gpc };
}

// Per isolate: organisation records (and unknown organisations) read from KV
// in the last ORG_TTL_SECONDS, at most ORG_CACHE_SIZE of them, oldest read
// dropped first. A returning visitor's company costs no KV read.
const ORG_CACHE_SIZE = 1000;
const orgs = new Map();

async function orgRecord(env, key) {
  const now = Date.now();
  const hit = orgs.get(key);
  if (hit && now - hit.at < ttlMs(env.ORG_TTL_SECONDS, 300)) return hit.record;
  let text;
  try {
    text = await env.BP_KV.get(`org:${key}`);
  } catch {
    return null; // KV failed: unknown for this request only, not cached
  }
  let record = null;
  try {
    record = text ? JSON.parse(text) : null;
  } catch {
    record = null; // a broken record is an unknown organisation
  }
  orgs.delete(key);
  orgs.set(key, { record, at: now });
  if (orgs.size > ORG_CACHE_SIZE) orgs.delete(orgs.keys().next().value);
  return record;
}

/** Company (and account) from request.cf and the KV record of the organisation; the demo switcher overrides. */
async function firmographics(request, env, url) {
  if (env.DEMO_SWITCHER === 'on' && url.searchParams.has('as')) {
    const id = preset(url.searchParams.get('as')).id;
    const title = url.searchParams.has('title') ? url.searchParams.get('title') : preset(id).title;
    return { preset: id, ...presetContext(id, title) };
  }
  const cf = request.cf || {};
  const company = {};
  const country = str(cf.country, 2);
  if (country && /^[A-Z]{2}$/.test(country)) company.country = country;
  const region = str(cf.regionCode, 8) || str(cf.region, 64);
  if (region) company.region = region;
  const ctx = { company };
  const org = str(cf.asOrganization, 200);
  if (org) {
    const record = await orgRecord(env, org.trim().toLowerCase());
    if (record && typeof record === 'object') {
      // The record describes the company (its headquarters); the IP's
      // location is only a fallback.
      if (record.company && typeof record.company === 'object') Object.assign(company, record.company);
      if (record.account && typeof record.account === 'object') ctx.account = record.account;
    }
  }
  return ctx;
}

/** The page the visitor saw before this one (`<ts>:<path>`), as a page view with its dwell. */
function previousView(value, routes, now) {
  // (The path is at most 256 bytes, percent-encoded again here: up to 5×.)
  const m = /^(\d{12,14}):([^;]{1,1300})$/.exec(value || '');
  if (!m) return null;
  const ts = Number(m[1]);
  let path;
  try {
    path = decodeURIComponent(m[2]);
  } catch {
    return null;
  }
  if (!path.startsWith('/') || !(ts <= now) || now - ts > VIEW_MAX_AGE_MS) return null;
  const ev = { type: 'page_view', ts, url: path };
  const id = routes.get(path);
  if (id) ev.content_id = id;
  // The time until the next request is the dwell (as web analytics count
  // time on page); past a session gap the visitor left: the dwell is unknown.
  if (now - ts <= SESSION_GAP_MS) ev.dwell_seconds = Math.round((now - ts) / 1000);
  return ev;
}

/** Events the page handed over in its `bp_ev` cookie (clicks, downloads, forms, custom events). */
function pageEvents(value, now) {
  if (!value || value.length > 4096) return [];
  let list;
  try {
    list = JSON.parse(decodeURIComponent(value));
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const out = [];
  for (const e of list.slice(-8)) {
    if (!e || typeof e !== 'object' || !EVENT_TYPES.has(e.type)) continue;
    if (typeof e.ts !== 'number' || !(e.ts > now - 86400 * 1000 && e.ts <= now + 60_000)) continue;
    const ev = {};
    for (const k of EVENT_KEYS) if (e[k] !== undefined) ev[k] = e[k];
    ev.ts = Math.min(ev.ts, now);
    if (ev.fields !== undefined && (typeof ev.fields !== 'object' || ev.fields === null || Array.isArray(ev.fields) || Object.values(ev.fields).some((v) => typeof v !== 'string'))) {
      delete ev.fields;
    }
    out.push(ev);
  }
  return out;
}

/** Another site's host from `Referer` (a link within the site is none): only the host, as the engine keeps it. */
function referrerOf(request, url) {
  let host = '';
  try {
    host = new URL(request.headers.get('Referer') || '').hostname;
  } catch {
    return undefined;
  }
  return host && host !== url.hostname ? host : undefined;
}

function campaignOf(url) {
  const c = {};
  for (const [k, p] of [['source', 'utm_source'], ['medium', 'utm_medium'], ['name', 'utm_campaign']]) {
    const v = str(url.searchParams.get(p), 64);
    if (v) c[k] = v;
  }
  return Object.keys(c).length ? c : undefined;
}

/**
 * The page to fill in one pass (fill.mjs): `{ page, how }`, `page` from
 * `compilePage` (its slots known), `how` 'direct' (read and compiled now)
 * or 'cached' (compiled by an earlier request; the asset's body is not
 * read); or `{ body }` for HTMLRewriter (the page is too large, or its
 * markup is not one the pass reads exactly).
 */
async function preparePage(asset, path) {
  // The pass writes UTF-8: a page in another charset streams through HTMLRewriter.
  const charset = /charset=([^;\s]+)/i.exec(asset.headers.get('Content-Type') || '');
  if (charset && !/^"?utf-?8"?$/i.test(charset[1])) return { body: asset.body };
  // A strong ETag names the bytes of one URL (Cloudflare's assets are
  // content-hashed, but another origin's ETag may be a build id shared by
  // every page): the key, with the path.
  const etag = asset.headers.get('ETag');
  const key = etag && !etag.startsWith('W/') ? `${path} ${etag}` : null;
  const hit = key === null ? undefined : pageCache.get(key);
  if (hit && hit.page) {
    await asset.body?.cancel();
    return { page: hit.page, how: 'cached' };
  }
  if (hit) return { body: asset.body };
  const { bytes, stream } = await readUpTo(asset, FILL_MAX_BYTES);
  const page = bytes ? compilePage(bytes) : null;
  if (key !== null) {
    // A declined or oversized page is remembered too (later requests stream
    // it at once), and counted, so that it is evicted.
    const size = Math.max(page ? bytes.length : 0, 1024);
    for (const [k, v] of pageCache) {
      if (pageCacheBytes + size <= PAGE_CACHE_BYTES) break;
      pageCache.delete(k);
      pageCacheBytes -= v.size;
    }
    pageCache.set(key, { page, size });
    pageCacheBytes += size;
  }
  return page ? { page, how: 'direct' } : { body: bytes || stream };
}

/**
 * The organisation's record as the page gets it (`edgeData.context`): of
 * `company` and `account`, the attributes the page's playbook
 * (/playbook-edge.json, read once per engine revision) names, and those the
 * engine reads by name (`ENGINE_READS`); a whole record a condition names
 * (`"account": {...}`) goes whole. Without that playbook (not deployed: the
 * page cannot decide), or while it cannot be read (asked again at the next
 * request), the engine's own.
 */
async function pageContext(env, url, entry, firmo) {
  if (!entry.pageReads) {
    entry.pageReads = attributesRead(env, url).catch((err) => {
      entry.pageReads = null; // asked again by the next request
      throw err;
    });
  }
  const reads = await entry.pageReads.catch(() => ENGINE_READS);
  const kept = (root, record) => (reads.has(root) ? { ...record } : Object.fromEntries(Object.entries(record || {}).filter(([k]) => reads.has(`${root}.${k}`))));
  const context = { company: kept('company', firmo.company) };
  if (firmo.account) context.account = kept('account', firmo.account);
  if (firmo.person) context.person = firmo.person;
  return context;
}

/**
 * What the engine reads of the record by name, whatever the playbook says:
 * the account's domain (the signals' account), its stage (the stage
 * snapshot) and the industry (content tagged by industry).
 */
const ENGINE_READS = new Set(['company.domain', 'company.industry', 'account.stage']);

/**
 * The `company.*` and `account.*` attribute names the page's playbook names
 * anywhere (over-counting is harmless), `company` or `account` alone for a
 * condition on the whole record; a 404 is no page playbook, another failure
 * throws (asked again).
 */
async function attributesRead(env, url) {
  const res = await env.ASSETS.fetch(new Request(new URL('/playbook-edge.json', url)));
  if (!res.ok) {
    await res.body?.cancel();
    if (res.status === 404) return ENGINE_READS;
    throw new Error(`/playbook-edge.json answered ${res.status}`);
  }
  const reads = new Set(ENGINE_READS);
  const text = await res.text();
  for (const m of text.matchAll(/"((?:company|account)\.[^".\\]+)/g)) reads.add(m[1]);
  for (const m of text.matchAll(/"(company|account)"\s*:\s*\{/g)) reads.add(m[1]);
  return reads;
}

/** The playbook's slots (in its order) that a compiled page shows. */
function slotsOn(page, all) {
  const shown = new Set(page.marks.filter((m) => !m.head).map((m) => m.id));
  return all.filter((id) => shown.has(id));
}

const UNSAFE_IN_SCRIPT = /[<\u0080-\uffff]/;
const UNSAFE_IN_SCRIPT_ALL = /[<\u0080-\uffff]/g;
function inlineJson(value) {
  // `<` escaped so that no string in it can close the script element; every
  // non-ASCII character too, so that the JSON reads the same in a page of
  // any charset (HTMLRewriter writes what a page's charset cannot hold as
  // `&#...;`, which a script element never decodes).
  const json = JSON.stringify(value);
  return UNSAFE_IN_SCRIPT.test(json) ? json.replace(UNSAFE_IN_SCRIPT_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/** The collector's batch endpoint. */
function collectorBatch(env) {
  return `${String(env.COLLECTOR_URL).replace(/\/+$/, '')}/v1/batch`;
}

// `asserted`: the visitor chose what the decision rests on (the demo switcher's
// `?as=`/`title=`), so the signals go under the public browser key and the
// collector keeps them as claims, never as verified facts.
async function forward(env, signals, now, asserted) {
  const key = asserted ? env.BROWSER_WRITE_KEY || 'demo-write-key' : env.WRITE_KEY || 'demo-write-key';
  const body = JSON.stringify({ batch: signals, sentAt: new Date(now).toISOString() });
  // A collector busy (429), failing (5xx) or out of reach is tried again, a
  // few times within the seconds the response's waitUntil leaves (the store
  // dedupes by messageId, so a batch stored but not answered costs nothing).
  // Not one that asks for a longer wait, nor one that did not answer in time
  // (slow under load: another copy would only add to it).
  for (let attempt = 1; ; attempt += 1) {
    let res = null;
    try {
      res = await fetch(collectorBatch(env), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: basicAuth(key) },
        body,
        // A redirect is not followed: it would carry the batch, and the trusted
        // key with it, to wherever it points.
        redirect: 'manual',
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
    } catch (err) {
      if (attempt >= FORWARD_ATTEMPTS || (err && err.name === 'TimeoutError')) throw err;
    }
    if (res !== null) await res.body?.cancel().catch(() => undefined);
    const transient = res === null || res.status === 408 || res.status === 429 || res.status >= 500;
    if (res !== null && !transient) {
      if (!res.ok) console.warn(`buyerpath edge: the collector answered ${res.status}${redirected(res)}; the batch is dropped`);
      return;
    }
    // Retry-After (seconds) when it says; else 0.5 s, then 1 s.
    const after = Number(res && res.headers.get('Retry-After'));
    const wait = after > 0 ? after * 1000 : 500 * attempt;
    if (attempt >= FORWARD_ATTEMPTS || wait > FORWARD_MAX_WAIT_MS) {
      console.warn(`buyerpath edge: the collector answered ${res ? res.status : 'nothing'} (try ${attempt}); the batch is dropped`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

// ------------------------------------------------------------------ routes

// The catalogue's pages as path → content id: a root-relative URL keyed by
// its path as a request's `url.pathname` gives it (percent-encoded, no
// query), the first item of a URL several share (playbook order), as the
// browser layer maps a page.
function routesOf(urls) {
  const routes = new Map();
  for (const [url, id] of urls) {
    if (!url.startsWith('/') || url.startsWith('//')) continue;
    let path;
    try {
      path = new URL(url, 'https://catalogue.invalid').pathname;
    } catch {
      continue;
    }
    if (!routes.has(path)) routes.set(path, id);
  }
  return routes;
}

async function batch(request, env) {
  if (request.method !== 'POST') return new Response(null, { status: 405, headers: { Allow: 'POST' } });
  // Bytes, not text: the collector gets exactly what was sent (a BOM or a
  // broken UTF-8 sequence is its to refuse), and the cap counts bytes. A body
  // over the cap is never buffered: it is refused, and read (up to 4 MiB)
  // only to be discarded.
  // The bytes go on as sent, so a compressed body would reach the collector
  // without its coding: the layer never compresses, and another sender is
  // told to send it plain.
  const coding = (request.headers.get('Content-Encoding') || '').trim().toLowerCase();
  if (coding !== '' && coding !== 'identity') {
    await discard(request.body, 8 * MAX_BATCH_BYTES);
    return new Response(JSON.stringify({ code: 'unsupported_encoding', error: `Content-Encoding ${coding} is not accepted on this path: send the batch uncompressed` }), {
      status: 415,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    });
  }
  const { bytes: body, stream } = await readUpTo(request, MAX_BATCH_BYTES);
  if (!body || body.length > MAX_BATCH_BYTES) {
    // Read to its end, not cut off (a client still sending would see its
    // connection reset instead of the 413), up to a bound.
    await discard(stream, 8 * MAX_BATCH_BYTES);
    return new Response(JSON.stringify({ code: 'body_too_large', error: `the request is larger than ${MAX_BATCH_BYTES} bytes (512 KiB): send smaller batches` }), {
      status: 413,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    });
  }
  // Global Privacy Control: accepted and dropped.
  if (request.headers.get('Sec-GPC') === '1' || !env.COLLECTOR_URL) {
    return new Response(null, { status: 204, headers: { 'X-Bp-Dropped': request.headers.get('Sec-GPC') === '1' ? 'gpc' : 'no-collector' } });
  }
  let res;
  try {
    res = await fetch(collectorBatch(env), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        // The browser's batches go on under a client key, never the edge's own
        // (which the collector may trust: --trusted-write-key): what a browser
        // sends stays client-asserted.
        Authorization: request.headers.get('Authorization') || basicAuth(env.BROWSER_WRITE_KEY || 'demo-write-key'),
      },
      body,
      redirect: 'manual', // as in forward()
      // Answered before the layer's own 10 s timeout gives up on this request.
      signal: AbortSignal.timeout(proxyTimeoutMs(env)),
    });
  } catch (err) {
    // The collector is unreachable (or did not answer in time): the sender
    // keeps its queue and retries.
    console.warn(`buyerpath edge: /v1/batch: the collector is unreachable: ${err}`);
    return new Response('{"error":"collector_unreachable"}', { status: 502, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Retry-After': '5' } });
  }
  if (res.status >= 300 && res.status < 400) {
    // Not the browser's to follow (its sender would drop the batch as refused):
    // a misconfigured COLLECTOR_URL, said, and retried later.
    await res.body?.cancel();
    console.warn(`buyerpath edge: /v1/batch: the collector answered ${res.status}${redirected(res)}`);
    return new Response('{"error":"collector_redirected"}', { status: 502, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Retry-After': '60' } });
  }
  const headers = { 'Content-Type': res.headers.get('Content-Type') || 'application/json', 'Cache-Control': 'no-store' };
  const retry = res.headers.get('Retry-After');
  if (retry) headers['Retry-After'] = retry;
  return new Response(res.body, { status: res.status, headers });
}

/** What a redirect from the collector asks for: COLLECTOR_URL should name where it points. */
function redirected(res) {
  const to = res.status >= 300 && res.status < 400 ? res.headers.get('Location') : null;
  return to ? ` (a redirect to ${to.slice(0, 200)}: set COLLECTOR_URL to the collector's own URL)` : '';
}

/** Reads a stream to its end without keeping it, cancelling it past `max` bytes. */
async function discard(stream, max) {
  if (!stream) return;
  const reader = stream.getReader();
  try {
    for (let seen = 0; seen <= max; ) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the client went away: nothing to answer
  }
}

/**
 * A request another page than the site's own made (a form posted to
 * /bp/consent from elsewhere, a sibling subdomain included, which would wipe
 * the visitor's consent): by the browser's `Sec-Fetch-Site`, or, from a
 * browser without it, an `Origin` of another host.
 */
function crossSite(request, url) {
  const site = request.headers.get('Sec-Fetch-Site');
  if (site !== null) return site !== 'same-origin' && site !== 'none';
  const origin = request.headers.get('Origin');
  if (origin === null) return false;
  try {
    return new URL(origin).host !== url.host;
  } catch {
    return true; // `null` (an opaque origin: a sandboxed frame) or garbage
  }
}

/**
 * POST /bp/consent: `none` (the body as text) expires the edge's cookies; a
 * grant, `{"consent":"anonymous"|"full","state":"<resume>","path":"/..."}`,
 * stores the state a page at `none` was given (its `resume`), verified as a
 * state cookie is, and that page's view: the visitor who landed goes on.
 */
async function consentPost(request, env) {
  const { bytes, stream } = await readUpTo(request, MAX_CONSENT_BYTES);
  if (!bytes || bytes.length > MAX_CONSENT_BYTES) {
    await discard(stream, 8 * MAX_CONSENT_BYTES);
    return forget(); // no grant: a withdrawal always works
  }
  let body = null;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    // not a grant
  }
  // Anything but a grant withdraws (`none`, an empty body, a form post...):
  // the cookies go whatever shape the request has.
  if (!body || (body.consent !== 'anonymous' && body.consent !== 'full') || typeof body.state !== 'string') return forget();
  let view = null;
  if (body.path !== undefined) {
    try {
      if (typeof body.path !== 'string' || !body.path.startsWith('/') || body.path.startsWith('//')) throw new Error('not root-relative');
      view = encodeURIComponent(pageUrl(body.path));
    } catch {
      return consentError(400, 'invalid_path', 'the path is not a root-relative path', 'send the page\'s `location.pathname`, or no path');
    }
  }
  const cookies = parseCookies(request.headers.get('Cookie'));
  // The banner's cookie says the consent (GPC caps it as on a page): a grant
  // is stored only once the edge would store at that consent itself.
  if (consentOf(cookies, request).consent === 'none') {
    return consentError(409, 'consent_not_set', 'the bp_consent cookie does not grant consent', 'set the bp_consent cookie (the banner does) before posting the grant');
  }
  const secret = env.STATE_SECRET;
  if (!secret) return consentError(503, 'not_configured', 'STATE_SECRET is not set', 'the edge stores no state: nothing to resume');
  // base64url only: what the edge signs, and nothing a cookie header cannot hold.
  if (!/^[A-Za-z0-9_-]+$/.test(body.state) || body.state.length > MAX_STATE_COOKIE) return consentError(400, 'invalid_state', 'the state is not a state this edge signs', 'post the `resume` of a page this edge served, unchanged');
  let engine;
  try {
    ({ engine } = await loadEngine(env));
  } catch (err) {
    logFailure(err);
    return consentError(503, 'no_playbook', 'the edge has no playbook to verify the state with', 'try again later');
  }
  const now = Date.now();
  const usable = (state) => {
    try {
      decodeState(engine, state, secret, now).visitor.free();
      return true;
    } catch {
      return false;
    }
  };
  // A state the edge keeps already (another tab's grant, a page decided
  // since) is not replaced: that visitor goes on.
  if (stateCandidates(request.headers.get('Cookie')).some(usable)) {
    return new Response(null, { status: 204, headers: { 'Cache-Control': 'no-store' } });
  }
  let landed;
  try {
    // Signed here, fresh and of this playbook, as a state cookie must be.
    const { visitor } = decodeState(engine, body.state, secret, now);
    landed = visitor.lastActive;
    visitor.free();
  } catch (err) {
    const code = (err && err.code) || 'error';
    return consentError(400, 'invalid_state', `the state is refused (${code})`, 'post the `resume` of a page this edge served, unchanged, within its lifetime');
  }
  const headers = new Headers({ 'Cache-Control': 'no-store' });
  headers.append('Set-Cookie', cookie(STATE_COOKIE, body.state, { maxAge: STATE_MAX_AGE }));
  if (view !== null) {
    // The landing page's view counts at the next page, as any page's: at the
    // time it was decided (the fresh state's first decision), else now.
    const ts = landed > 0 && landed <= now && now - landed <= VIEW_MAX_AGE_MS ? landed : now;
    headers.append('Set-Cookie', cookie(VIEW_COOKIE, `${ts}:${view}`, { maxAge: VIEW_MAX_AGE_MS / 1000 }));
  }
  return new Response(null, { status: 204, headers });
}

function consentError(status, code, error, hint) {
  return new Response(JSON.stringify({ code, error, hint }), { status, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } });
}

function forget() {
  const headers = new Headers({ 'Cache-Control': 'no-store' });
  for (const name of [STATE_COOKIE, VIEW_COOKIE]) headers.append('Set-Cookie', cookie(name, '', { maxAge: 0 }));
  headers.append('Set-Cookie', cookie(EVENTS_COOKIE, '', { maxAge: 0, httpOnly: false }));
  headers.append('Set-Cookie', cookie(CONSENT_COOKIE, '', { maxAge: 0, httpOnly: false }));
  return new Response(null, { status: 204, headers });
}

// A state shaped by what the visitor chose (the demo switcher's `?as=` and
// `title=`) is signed with a key of its own, so the mark travels with the
// state: it can be neither forged nor removed (re-signing with the plain key
// needs the secret), and every later decision resting on it stays a claim.
function claimSecret(secret) {
  return `${secret}:claimed`;
}

// The refusals of a state whose signature this site's key (or its claims'
// key) verified: this site's own cookie, too old, of another playbook or of
// another encoding version (the engine checks the tag before the version).
const SIGNED_REJECTIONS = new Set(['state_expired', 'state_foreign_playbook', 'state_version']);

/** The signed state (`claimed`: signed with the claims' key); throws the first key's error. */
function decodeState(engine, text, secret, now) {
  const options = { now, maxIdleMs: STATE_MAX_AGE * 1000 };
  // A refusal is an answer here, never logged with its stack: capturing one
  // through the Wasm frames cost 0.1–0.2 ms per refused cookie.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return decodeWith(engine, text, secret, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** `decodeState` without its stack setting. */
function decodeWith(engine, text, secret, options) {
  try {
    return { visitor: engine.decode(text, { ...options, secret }), claimed: false };
  } catch (err) {
    if (!err || err.code !== 'state_bad_signature') throw err;
    try {
      return { visitor: engine.decode(text, { ...options, secret: claimSecret(secret) }), claimed: true };
    } catch (claimErr) {
      // Signed with the claims' key but refused for another reason (stale,
      // another playbook): that reason, not a bad signature.
      throw claimErr && claimErr.code !== 'state_bad_signature' ? claimErr : err;
    }
  }
}

/** Whether a state cookie was signed with this site's key (or its claims'), usable or not. */
function signedHere(engine, text, secret, now) {
  try {
    decodeState(engine, text, secret, now).visitor.free();
    return true;
  } catch (err) {
    return SIGNED_REJECTIONS.has(err && err.code);
  }
}

/** Decides the page and fills its slots; null to serve the page as built. */
async function personalise(request, env, ctx, asset, url) {
  const t0 = performance.now();
  const secret = env.STATE_SECRET;
  if (!secret) {
    logFailure('STATE_SECRET is not set: pages are not personalised');
    return null;
  }
  const entry = await loadEngine(env);
  const { engine, routes, revision } = entry;
  const cookies = parseCookies(request.headers.get('Cookie'));
  const { consent, gpc } = consentOf(cookies, request);
  const firmo = await firmographics(request, env, url);
  // The page first: where it is read exactly, only the slots it shows are
  // decided (a slot it lacks would be reported recommended, never seen).
  const prepared = await preparePage(asset, url.pathname);
  const slots = prepared.page ? slotsOn(prepared.page, engine.slots) : engine.slots;
  // A page that shows none (a legal page, the docs) is still decided (its
  // view, the visitor's classification) with `slots: []`: no picks, none
  // reported.
  const t1 = performance.now();
  const now = Date.now();
  const path = url.pathname;

  // The visitor: the signed state, or a fresh one (never an error page).
  let visitor = null;
  let claimed = false;
  let stateStatus = 'fresh';
  let rejection = null; // reported when no state is accepted
  // Every `bp` cookie sent is tried, in order: one of a parent domain (another
  // deployment, another tool) may come before this site's own.
  const states = stateCandidates(request.headers.get('Cookie'));
  for (const text of consent === 'none' ? [] : states) {
    try {
      // Signed (a forged cookie fails its HMAC) and fresh: a state idle for
      // longer than the cookie lives is an old cookie presented again.
      ({ visitor, claimed } = decodeState(engine, text, secret, now));
      stateStatus = visitor.migrated ? 'migrated' : 'ok';
      break;
    } catch (err) {
      // If none is accepted: the rejection of this site's own state (signed
      // with its key, refused as stale or of another playbook) says more
      // than one the signature refuses (a parent domain's, whichever came
      // first); among equals, the first.
      const code = (err && err.code) || 'error';
      if (rejection === null || (SIGNED_REJECTIONS.has(code) && !SIGNED_REJECTIONS.has(rejection))) rejection = code;
      visitor = null;
    }
  }
  if (!visitor) {
    visitor = engine.visitor(crypto.randomUUID());
    if (rejection !== null) stateStatus = `rejected:${rejection}`;
  }

  // What happened since the last page: its view (with the dwell) and what
  // the page reported (clicks, forms...). At `none` nothing is remembered.
  if (consent !== 'none') {
    const events = pageEvents(cookies[EVENTS_COOKIE], now);
    const view = stateStatus === 'ok' || stateStatus === 'migrated' ? previousView(cookies[VIEW_COOKIE], routes, now) : null;
    if (view) events.push(view);
    events.sort((a, b) => a.ts - b.ts);
    for (const ev of events) {
      try {
        visitor.recordJson(JSON.stringify(ev));
      } catch {
        // an event the engine refuses is dropped, not fatal
      }
    }
  }

  const page = { url: pageUrl(path) };
  if (routes.has(path)) page.content_id = routes.get(path);
  const referrer = referrerOf(request, url);
  if (referrer) page.referrer = referrer;
  const context = { consent, page, company: firmo.company };
  if (firmo.account) context.account = firmo.account;
  if (firmo.person) context.person = firmo.person;
  const campaign = campaignOf(url);
  if (campaign) context.campaign = campaign;
  const bm = request.cf && request.cf.botManagement;
  if (bm && (bm.verifiedBot === true || (typeof bm.score === 'number' && bm.score < 30))) context.bot = true;

  // With the inspector off the page gets a brief answer: the picks, scores,
  // stage, role and action it renders, without the lists that explain them
  // (39% less inline data; the page never needed them). The inspector shows
  // the full one.
  const detail = env.INSPECTOR === 'on' ? 'full' : 'brief';
  let decision;
  try {
    decision = JSON.parse(visitor.decideJson(JSON.stringify({ now, slots, context, detail })));
  } catch (err) {
    // A request the engine refuses (an organisation record over the
    // context's size): the page goes out as built, the visitor is freed now.
    visitor.free();
    throw err;
  }
  // What the visitor chose once (the demo switcher) stays in the state it
  // shaped: so do its signals' status as claims.
  const asserted = Boolean(firmo.preset) || claimed;
  const signed = visitor.encode(asserted ? claimSecret(secret) : secret);
  const stored = consent === 'none' ? null : signed;
  // At `none` the page gets the state as it would have been stored (in the
  // page, stored nowhere): a consent given on this page posts it to
  // /bp/consent, and the rest of the visit continues this visitor.
  const resume = consent === 'none' && signed.length <= MAX_STATE_COOKIE ? signed : undefined;
  const browserState = visitor.encode();
  visitor.free();

  // Signals: forwarded after the response (never delaying it), unless GPC.
  const signals = gpc ? [] : decision.signals || [];
  let pending = [];
  let forwarded = 0;
  if (signals.length > 0) {
    if (env.COLLECTOR_URL) {
      forwarded = signals.length; // once the page is built (below)
    } else {
      pending = signals; // the page's layer sends them to /v1/batch
    }
  }

  const bySlot = new Map(decision.slots.map((s) => [s.slot, s]));
  const edgeData = {
    v: 1,
    consent,
    gpc,
    preset: firmo.preset,
    playbook: '/playbook-edge.json',
    decision: { ...decision, signals: [] },
    signals: pending,
    forwarded,
    state: browserState,
    resume,
    // What the page's own decisions read of the organisation's record (its
    // playbook's conditions, the domain signals name the account by, the
    // account's stage), not the whole record: the KV's CRM fields (customer,
    // deal stage, roles engaged...) stay at the edge.
    context: await pageContext(env, url, entry, firmo),
  };
  const t2 = performance.now();

  const headers = pageHeaders(asset);
  headers.set('X-Bp-State', stateStatus);
  headers.set('X-Bp-Playbook', `r${revision}`);
  if (stored !== null && stored.length > MAX_STATE_COOKIE) {
    // Browsers drop a cookie past 4 KB without a word, and the visitor would
    // replay the old one: expired instead, and said (a visitor holding points
    // from 200+ engagement rules).
    console.warn(`buyerpath edge: a visitor state of ${stored.length} characters is over the cookie's ${MAX_STATE_COOKIE}: the visitor starts fresh`);
    headers.append('Set-Cookie', cookie(STATE_COOKIE, '', { maxAge: 0 }));
  } else if (stored !== null) {
    headers.append('Set-Cookie', cookie(STATE_COOKIE, stored, { maxAge: STATE_MAX_AGE }));
    // Kept as long as previousView reads it (a week): the last page of a
    // visit counts at the next, with its dwell unknown past a session gap.
    headers.append('Set-Cookie', cookie(VIEW_COOKIE, `${now}:${encodeURIComponent(pageUrl(path))}`, { maxAge: VIEW_MAX_AGE_MS / 1000 }));
  } else {
    // Consent `none` (never given, withdrawn, or its cookie expired while the
    // state's lived on): a state kept from before goes, not only unread. The
    // worker's cookies are host-only, and so is its expiry: a parent domain's
    // `bp` (another deployment's, another tool's) outlives it and would be
    // expired again on every page. So the state cookie is expired only when
    // one sent is signed with this site's key (its signature checked, its
    // content not used); one this site can no longer verify (a key since
    // rotated) stays until its Max-Age, never read.
    if (states.some((text) => signedHere(engine, text, secret, now))) headers.append('Set-Cookie', cookie(STATE_COOKIE, '', { maxAge: 0 }));
    if (cookies[VIEW_COOKIE] !== undefined) headers.append('Set-Cookie', cookie(VIEW_COOKIE, '', { maxAge: 0 }));
  }
  if (cookies[EVENTS_COOKIE] !== undefined) headers.append('Set-Cookie', cookie(EVENTS_COOKIE, '', { maxAge: 0, httpOnly: false }));

  // Server-Timing: the lookups (KV, firmographics) and the engine's share
  // (decode, observe, decide, encode).
  headers.set('Server-Timing', `kv;dur=${(t1 - t0).toFixed(2)}, bp;dur=${(t2 - t1).toFixed(2)};desc="decide"`);

  // What each slot becomes, the same for both ways of filling it.
  const slotEdit = (id) => {
    const slot = bySlot.get(id);
    if (!slot || slot.picks.length === 0) return null;
    return {
      html: asciiHtml(slotHtml(slot)),
      attrs: [
        ['data-bp-rendered', slotKey(slot)],
        ['data-bp-default', slot.default ? 'true' : 'false'],
        ['data-bp-by', 'edge'],
      ],
    };
  };
  const headHtml = `<script type="application/json" id="bp-edge">${inlineJson(edgeData)}</script>`;
  let answer;
  if (prepared.page) {
    headers.set('X-Bp-Fill', prepared.how);
    answer = new Response(renderPage(prepared.page, slotEdit, headHtml), { status: asset.status, headers });
  } else {
    headers.set('X-Bp-Fill', 'rewriter');
    answer = await rewritten(slotRewriter(slotEdit, headHtml), new Response(prepared.body, { status: asset.status, headers }));
  }
  // Forwarded only once the page that shows the picks is built (a page that
  // fails is served as built: its picks were never shown), and after the
  // response (never delaying it).
  if (forwarded > 0) ctx.waitUntil(forward(env, signals, now, asserted).catch((err) => console.warn(`buyerpath edge: forwarding failed: ${err}`)));
  return answer;
}

/**
 * HTMLRewriter's output, read to its end before it is answered: its parser
 * gives up on some markup it cannot read unambiguously (`<select><style>`,
 * a `<frameset>` then a `<script>`), and as it streams, that failure would
 * reach the browser as a 200 with an empty or cut page. Thrown here, it
 * gets the page as built.
 */
async function rewritten(rewriter, response) {
  const out = rewriter.transform(response);
  let read;
  try {
    // Held whole up to REWRITE_BUFFER_BYTES; a larger page streams on from
    // there (held whole, it could take the isolate's memory), and a failure
    // past that point cuts it short.
    read = await readUpTo(out, REWRITE_BUFFER_BYTES);
  } catch (err) {
    throw Object.assign(new Error(`HTMLRewriter could not read the page: ${err && err.message}`), { unreadable: true });
  }
  return new Response(read.bytes || read.stream, { status: out.status, headers: out.headers });
}

/** Markup with each non-ASCII character as a character reference: the same in a page of any charset. */
const asciiHtml = (html) => (/[^\x00-\x7f]/.test(html) ? html.replace(/[^\x00-\x7f]/gu, (c) => `&#${c.codePointAt(0)};`) : html);

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === '/v1/batch') return batch(request, env);
    if (url.pathname === '/bp/consent' && request.method === 'POST') return crossSite(request, url) ? new Response(null, { status: 403 }) : consentPost(request, env);
    // The fit criteria stay at the edge: only the browser-safe copy without them
    // (`buyerpath browser-playbook --strip-fit`) is served.
    if (url.pathname === '/playbook.json') return new Response('Not found', { status: 404 });

    if (env.PERSONALIZE === 'off' || (request.method !== 'GET' && request.method !== 'HEAD')) return env.ASSETS.fetch(request);
    let asset = await env.ASSETS.fetch(request);
    // A conditional request for a page the edge decides must not be answered
    // 304: the copy the browser holds may be one served as built (an outage,
    // personalisation off), and the page view would go uncounted. A 304 that
    // does not say its type (RFC 9110 lets it leave it out) is asked its
    // type by a HEAD first (assets still get their 304, and are not
    // downloaded for it). A part of a page (a Range request's 206) is no part
    // of the page the visitor gets: the whole page is decided instead. A 206
    // that does not say its type is passed through, as a 200 without one is
    // (nothing says it is a page; refetching it whole would cost a download).
    if (asset.status === 304 && !asset.headers.has('Content-Type')) {
      const probe = await env.ASSETS.fetch(unconditional(request, 'HEAD'));
      await probe.body?.cancel();
      if (!isHtml(probe)) return asset;
    }
    if ((asset.status === 304 && (isHtml(asset) || !asset.headers.has('Content-Type'))) || (asset.status === 206 && isHtml(asset))) {
      await asset.body?.cancel();
      asset = await env.ASSETS.fetch(unconditional(request));
    }
    if (asset.status !== 200 || !isHtml(asset)) return asset;
    // HEAD: a page's headers as GET would send them, without deciding (a HEAD
    // has no side effects: no page view, no cookie, no signal).
    if (request.method === 'HEAD') {
      await asset.body?.cancel();
      return new Response(null, { status: 200, headers: pageHeaders(asset) });
    }
    // A prefetch or prerender of a page the edge would decide is declined:
    // nothing decided, stored or sent for a page perhaps never seen; the
    // navigation is decided.
    if (env.STATE_SECRET && speculative(request)) {
      await asset.body?.cancel();
      return declined();
    }
    try {
      // Not decided (no STATE_SECRET): the page as built, as below.
      return (await personalise(request, env, ctx, asset, url)) || (await asBuilt(request, env, asset));
    } catch (err) {
      // Never a failed page: the site as built, with its default slots.
      // An outage (no engine in KV) is logged once a minute.
      logFailure(err);
      const built = await env.ASSETS.fetch(unconditional(request));
      // Markup HTMLRewriter could not read: not given to it again.
      if (err && err.unreadable) return new Response(built.body, { status: built.status, headers: pageHeaders(built) });
      return asBuilt(request, env, built);
    }
  },
};

// A page the edge does not decide: as built, with its default slots, told
// which playbook its own script may load (/playbook.json is not served
// here), still per visitor for caches, as every page the edge answers. Not
// revalidatable: its ETag names the asset's bytes, not these.
async function asBuilt(request, env, built) {
  try {
    return await rewritten(
      intoHead(new HTMLRewriter(), FALLBACK_META),
      new Response(built.body, { status: built.status, headers: pageHeaders(built) }),
    );
  } catch {
    // Markup HTMLRewriter cannot read: the bytes as built (the page's
    // script then finds no decision and no playbook named, and keeps its
    // default slots).
    const again = await env.ASSETS.fetch(unconditional(request));
    return new Response(again.body, { status: again.status, headers: pageHeaders(again) });
  }
}
