// The browser layer in one call: load the visitor, decide, render the picks,
// track what the visitor does, keep the state, and send the signals.
//
//   import { Engine } from 'buyerpath';
//   import { start } from 'buyerpath/layer';
//   const bp = start({ Engine, playbook, endpoint, writeKey, consent: 'anonymous' });
//
// Consent `none` (the default) still decides and renders for this page view,
// in memory, but stores nothing and sends nothing.
//
// A single-page app's routes are pages too: its router calls `bp.page()`
// once a route has rendered, or `spa: true` follows the History API.
//
// Consent is the visitor's, not the tab's: a lower level set in one tab (a
// withdrawal) reaches the site's other open tabs at once, through a
// BroadcastChannel (same origin, nothing stored), so that no tab stores or
// sends under consent the visitor has taken back. A higher level applies in
// the tab where it was given (elsewhere at the next page or setConsent).
//
// A page prerendered by Speculation Rules (`document.prerendering`) decides
// and renders as it loads, on a copy of the visitor, but reports and stores
// nothing until it is shown (`prerenderingchange`): it is decided again then,
// and that decision is reported. A prerender never shown leaves no trace.

/** The BroadcastChannel name on which a tab's lowered consent reaches the others. */
export const CONSENT_CHANNEL = 'buyerpath:consent';

import { CONSENT_LEVELS, attempt, consentRank, createStore, normalizeConsent } from './storage.js';
import { createSender, eraseQueue, ESSENTIAL_EVENTS, DROPPED_EVENT } from './sender.js';
import { autoTrack, bantFields, cataloguePaths, pageInfo, pageLocation, pagePath } from './track.js';

export { createStore, createSender, autoTrack, bantFields, pageInfo, ESSENTIAL_EVENTS, DROPPED_EVENT };

// Only these schemes become links: a playbook URL such as `javascript:...`
// must never turn a recommendation into script.
const SAFE_URL = /^(?:https?:|mailto:|[^:]*$|[^:]*[/?#])/i;

/** `url` if it is safe to put in an href, else null. */
export function safeHref(url) {
  if (typeof url !== 'string') return null;
  const u = url.trim();
  return SAFE_URL.test(u) ? u : null;
}

/**
 * Renders a slot's picks into its element: the children are replaced with a
 * list of links (`<li><a href data-bp-cta data-bp-content>title</a></li>`),
 * built with textContent only. A slot without picks keeps its own content
 * (the server-rendered fallback).
 */
export function defaultRender(el, slot, { document: doc = el.ownerDocument } = {}) {
  if (!slot || !Array.isArray(slot.picks) || slot.picks.length === 0) return;
  const isList = /^(?:UL|OL)$/i.test(String(el.tagName || ''));
  const list = isList ? el : doc.createElement('ul');
  const items = slot.picks.map((p) => {
    const li = doc.createElement('li');
    const a = doc.createElement('a');
    const href = safeHref(p.url);
    if (href !== null) a.setAttribute('href', href);
    if (p.cta) a.setAttribute('data-bp-cta', String(p.cta));
    a.setAttribute('data-bp-content', String(p.id));
    a.textContent = String(p.title == null ? '' : p.title);
    li.appendChild(a);
    return li;
  });
  while (el.firstChild) el.removeChild(el.firstChild);
  for (const li of items) list.appendChild(li);
  if (!isList) el.appendChild(list);
}

/** A random v4 UUID: randomUUID() needs a secure context, so fall back. */
export function newId(crypto = attempt(() => globalThis.crypto, undefined)) {
  const id = attempt(() => crypto.randomUUID(), null);
  if (typeof id === 'string' && id) return id;
  const b = new Uint8Array(16);
  if (!attempt(() => (crypto.getRandomValues(b), true), false)) {
    for (let i = 0; i < 16; i += 1) b[i] = Math.floor(Math.random() * 256);
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// The elements of one slot. Compared by attribute rather than put into a
// selector, so that no slot id can break (or inject into) the query.
function slotElements(document, id) {
  return attempt(() => Array.from(document.querySelectorAll('[data-bp-slot]')), []).filter(
    (el) => attempt(() => el.getAttribute('data-bp-slot'), null) === id,
  );
}

function slotIds(document) {
  const ids = attempt(() => Array.from(document.querySelectorAll('[data-bp-slot]'), (el) => el.getAttribute('data-bp-slot')), []);
  return [...new Set(ids.filter((x) => typeof x === 'string' && x !== ''))];
}

/** An error of start's options or of the page, shaped as the engine's own (code, path, hint). */
function argError(path, message, hint, code = 'invalid_argument') {
  return Object.assign(new Error(`${code} at ${path}: ${message} (${hint})`), { name: 'BuyerpathError', code, path, hint });
}

// The engine's limit on the decide request's `context.page.url`, in UTF-8
// bytes (an event's `url` may be longer: see pagePath).
const MAX_CONTEXT_URL = 256;

// The campaign (UTM) parameters of the page's URL, as the edge worker reads
// them (www/edge/worker.mjs, campaignOf; kept apart, as the site and the
// package ship separately): `utm_source` → `source`, `utm_medium` → `medium`,
// `utm_campaign` → `name`, each as decoded, kept when it is 1 to 64
// characters long and left out otherwise; undefined when none is kept.
const UTM = [['source', 'utm_source'], ['medium', 'utm_medium'], ['name', 'utm_campaign']];
const MAX_UTM = 64;

function pageCampaign({ document, window }) {
  const loc = pageLocation({ document, window });
  const params = attempt(() => new URLSearchParams(loc.search), null);
  if (!params) return undefined;
  const c = {};
  for (const [k, p] of UTM) {
    const v = attempt(() => params.get(p), null);
    if (typeof v === 'string' && v.length > 0 && v.length <= MAX_UTM) c[k] = v;
  }
  return Object.keys(c).length > 0 ? c : undefined;
}

// The referring site's host, when it is another site (a link within the
// site is no referrer): only the host, as the engine keeps it (a path or
// query may be personal).
function pageReferrer({ document, window }) {
  const ref = attempt(() => document.referrer, '');
  const host = attempt(() => new URL(ref).hostname, '');
  const own = attempt(() => pageLocation({ document, window }).hostname, '');
  return typeof host === 'string' && host !== '' && host !== own ? host : undefined;
}

/** Whether `t` has no unpaired surrogate (encodeURIComponent refuses exactly those). */
const wellFormed = (t) => attempt(() => (encodeURIComponent(t), true), false);

/** Starts buyerpath on the page. See index.d.ts for every option. */
export function start({
  Engine,
  playbook,
  engine: given,
  endpoint,
  writeKey,
  consent = 'none',
  context = {},
  slots,
  secret,
  render = defaultRender,
  document = globalThis.document,
  window = globalThis.window,
  storage = {},
  sending = {},
  localStorage,
  fetch,
  navigator,
  crypto,
  now = () => Date.now(),
  random,
  setTimeout,
  clearTimeout,
  onError,
  onDecision,
  onConsent,
  firstReported = false,
  // Only between a browser's tabs: in Node or Deno one channel spans the
  // process, and would carry one visitor's withdrawal to every other's.
  BroadcastChannel: Channel = globalThis.window === globalThis ? globalThis.BroadcastChannel : undefined,
  gpc,
  spa = false,
  anonymousId,
} = {}) {
  const report = (err) => attempt(() => onError && onError(err), undefined);
  // A broken playbook throws here, with .code/.path/.hint: that one is for
  // the developer to see, not to swallow.
  // An engine already made (buyerpath/page's Engine.fromBytes) is used as given.
  if (given === undefined && typeof Engine !== 'function') {
    throw argError('$.Engine', 'no engine: pass { Engine, playbook } or { engine }', "import { Engine } from 'buyerpath' and pass it with the playbook, or pass an engine already made as { engine } (buyerpath/page's Engine.fromBytes)");
  }
  const engine = given !== undefined ? given : new Engine(playbook);
  // So is a secret that is not a non-empty string: every state would be
  // refused on reading (decode) and none written (encode).
  // (A string with an unpaired surrogate becomes U+FFFD in Wasm: the engine
  // refuses it as a secret, so every state would go unwritten.)
  if (secret !== undefined && (typeof secret !== 'string' || secret === '' || !wellFormed(secret))) {
    throw argError('$.secret', 'the secret must be a non-empty string of whole characters', 'pass a non-empty secret (no unpaired surrogates), or leave it out for unsigned states');
  }
  // Global Privacy Control (the browser's "do not sell or share"): full
  // consent is capped at anonymous and no signal leaves the page.
  // (The browser's navigator is asked too: a host's wrapper around it, for
  // sendBeacon, need not carry the flag.)
  const flagged = (nav) => attempt(() => nav.globalPrivacyControl === true, false);
  const privacyControl = gpc !== undefined ? gpc === true : flagged(navigator) || flagged(globalThis.navigator);
  const cap = (l) => {
    const n = normalizeConsent(l);
    return privacyControl && n === 'full' ? 'anonymous' : n;
  };
  let level = cap(consent);
  let prerendering = attempt(() => document.prerendering === true, false);
  const store = createStore({ ...storage, consent: level, document, localStorage });
  const makeSender = () => (endpoint && !privacyControl
    ? createSender({ ...sending, endpoint, writeKey, consent: level, fetch, navigator, localStorage, now, random, setTimeout, clearTimeout, onError })
    : null);
  // A prerendered page has no sender until it is shown: one would take the
  // queue earlier pages stored over, and send and store it.
  let sender = prerendering ? null : makeSender();

  // The state string this tab last read from the store or wrote to it (as
  // read back: a write that failed silently, over quota, does not count).
  // Several tabs of the site share one stored state: when the store holds
  // another string, another tab has moved the visitor on, and this tab
  // continues from there (see sync).
  let known = null;

  // The stored visitor, or a fresh one: a state that does not decode (old,
  // foreign, tampered, signed with another secret) only makes a new visitor.
  function load() {
    const saved = store.get();
    known = saved;
    return saved ? decode(saved) : null;
  }
  function decode(saved) {
    try {
      return engine.decode(saved, secret === undefined ? {} : { secret });
    } catch (err) {
      report(err);
      return null;
    }
  }
  // A new visitor takes the host's id when it gives one (the anonymousId of
  // the site's analytics.js, so that the signals join the visitor it already
  // tracks); one that is not a non-empty string, or that the engine refuses
  // (`invalid_visitor_id`: an e-mail, an IP address), is reported and a random id
  // used instead. A stored visitor keeps its own.
  function fresh() {
    if (anonymousId === undefined) return engine.visitor(newId(crypto));
    let id;
    let why;
    try {
      id = typeof anonymousId === 'function' ? anonymousId() : anonymousId;
      why = typeof id === 'string' ? 'is an empty string' : `is ${id === null ? 'null' : typeof id}, not a string`;
    } catch (err) {
      why = `threw (${attempt(() => err.message, 'an error')})`;
    }
    if (typeof id === 'string' && id !== '') {
      try {
        return engine.visitor(id);
      } catch (err) {
        // Reported without the value the engine's message quotes: it may be
        // the personal data (an e-mail) that made the engine refuse it.
        const code = attempt(() => err.code, undefined) || 'invalid_visitor_id';
        const hint = attempt(() => err.hint, undefined) || 'use a random anonymous id (e.g. a UUID), never an e-mail, a name or an IP address';
        report(argError('$.anonymousId', 'the engine refused the anonymousId as a visitor id: the visitor gets a random id', hint, code));
        return engine.visitor(newId(crypto));
      }
    }
    report(argError('$.anonymousId', `the anonymousId ${why}: the visitor gets a random id`, 'pass a non-empty string, or a function returning one (such as the anonymousId of your analytics.js, once it is ready)'));
    return engine.visitor(newId(crypto));
  }
  // At `none` nothing is stored or sent, and a consent tool may not have let
  // the host's analytics load: the host's id is asked for only once consent
  // is given (see applyConsent), and this page's visitor is random till then.
  let visitor = load() || (level === 'none' ? engine.visitor(newId(crypto)) : fresh());
  // Withdrawn on this page: the next visitor is never the host's id (the
  // host's analytics may still give the same one).
  let withdrawn = false;

  // Whether the visitor may hold what the engine keeps only at `full` (BANT
  // answers, the job title's role, the campaign): set by a form submit, by a
  // lowered level and by events seen at `none`, cleared by the next decision,
  // which weighs them at the level in force and forgets what it must not
  // keep. Until then, nothing is stored below `full`: the stored copy stays
  // the last one decided.
  let undecided = false;
  // The state this tab stored last: a lowered level that cannot be decided
  // erases the stored state only when it is still this tab's own.
  let written = null;

  // Before each event and each decision: if another tab of the site stored a
  // newer state, continue from it rather than from this tab's copy, which
  // would overwrite the other tab's history, and number its decisions (and
  // so the signals' messageIds) from the same point again. A string that
  // does not decode is reported once (it is `known` from then on), and this
  // tab goes on with its own visitor. The replaced visitor is not freed: the
  // host may hold it (bp.visitor), and the engine's finalizer frees it.
  function sync() {
    if (level === 'none') return;
    const saved = store.get();
    if (saved === null || saved === known) return;
    known = saved;
    const other = decode(saved);
    if (other) visitor = other;
  }
  // This page's events, kept in memory only, so that a consent given after
  // start can fold them into the stored visitor instead of replacing it.
  const seen = [];

  // The page each decision is for: read at start, and again at each route
  // change of a single-page app (see newPage).
  let page;
  let campaign;
  let wanted;
  const defined = attempt(() => engine.slots, undefined);
  const unknownSeen = new Set();
  // The catalogue's pages (path → content id, as the edge worker maps a
  // request's path): the content id of a page that names none, and the ids a
  // page may name. Read once; an engine without `contentUrls()` (older, or a
  // stand-in) gives neither.
  const urls = attempt(() => engine.contentUrls(), null);
  const catalogue = Array.isArray(urls) ? attempt(() => cataloguePaths(urls), null) : null;
  // Every item's id (items may share a URL: the path maps to the first).
  const catalogued = catalogue && attempt(() => new Set(urls.map((pair) => pair[1])), null);
  const unknownContent = new Set();
  // `landed`: the page the visitor arrived on. A route change within the
  // site has the site itself as its referrer, which is none (document.referrer
  // still names the site the visitor came from).
  function readPage(landed, read = pageInfo({ document, window, catalogue })) {
    page = read;
    // A content id the page names that the catalogue lacks (a typo) makes its
    // page views score nothing: reported once, and still passed (a page
    // outside the catalogue may name its own, for the playbook's conditions).
    const named = page.content_id;
    if (catalogued && named !== undefined && !catalogued.has(named) && !unknownContent.has(named)) {
      unknownContent.add(named);
      report(argError('$.context.page.content_id', `the page's content id ${JSON.stringify(named)} is not in the playbook's catalogue: its page views score nothing`, 'name a catalogue item\'s id in <meta name="buyerpath:content"> (or <body data-bp-content>), or leave it out where the page\'s path is the item\'s url', 'unknown_content'));
    }
    const referrer = landed ? pageReferrer({ document, window }) : undefined;
    if (referrer) page.referrer = referrer;
    // The page's campaign, for each decision on it, unless the host passes
    // its own `context.campaign`, which is taken whole instead (`{}`: none).
    // The engine decides what is kept and reported of it, by consent.
    campaign = context && context.campaign !== undefined ? undefined : pageCampaign({ document, window });
    // Slots: as given, else those present on the page (deciding for slots the
    // page does not show would report recommendations nobody saw). One the
    // playbook does not define (a template ahead of the playbook, a typo)
    // would make the engine refuse the whole decision: it is left out, and
    // reported once (not again on each route that shows it).
    const found = slotIds(document);
    const unknown = Array.isArray(defined) ? found.filter((id) => !defined.includes(id)) : [];
    const unreported = unknown.filter((id) => !unknownSeen.has(id));
    if (unreported.length > 0) {
      for (const id of unreported) unknownSeen.add(id);
      const ids = unreported.map((id) => JSON.stringify(id)).join(', ');
      report(argError('$.slots', `the page's slots ${ids} are not in the playbook: left out`, 'add them to the playbook, or remove their data-bp-slot', 'unknown_slot'));
    }
    const onPage = found.filter((id) => !unknown.includes(id));
    // A page without slots is decided with none: classified, nothing picked
    // or reported.
    wanted = slots !== undefined ? slots : onPage;
  }
  readPage(true);
  let decision = null;

  function save() {
    if (prerendering || level === 'none' || (undecided && level !== 'full')) return;
    // Signed with the same secret, or the next decode({ secret }) rejects it.
    const state = attempt(() => (secret === undefined ? visitor.encode() : visitor.encode(secret)), null);
    if (typeof state !== 'string') return;
    store.set(state);
    known = store.get();
    written = known;
  }

  // What this page shows, per slot (the ids of its picks, as a set), and
  // what it has reported, per slot (every content id in a Content
  // Recommended queued since the page loaded). A decision made again on the
  // page (a click or a form that may be a hand-raise, an event the page
  // tracks, a consent given or lowered) sends its other signals (SQL,
  // triggers) and:
  // - after a click, once the page's picks are reported, changes nothing on
  //   the page (the visitor is on the way out, or looking at what they
  //   clicked: no content swapped under the pointer) and reports nothing;
  // - likewise when the visitor's situation is what it was (qualified, fit
  //   tier, stage, role, lifecycle step, action and consent the same, and
  //   no content on show taken since: downloaded, played): exploration
  //   draws again at each decision, and picks that only drew differently
  //   would swap content under the reader;
  // - otherwise re-renders only the slots whose picks changed, and reports
  //   only the picks not reported on this page yet (a pick can come back; a
  //   second report would count the page twice in the store's impressions
  //   and click-through).
  // While a report is owed (a sender, a consent above `none`, and none queued
  // yet on this page: a consent given late), a decision renders and reports
  // what it picks, as the first would.
  const shown = new Map();
  const told = new Map();
  // Whether this page has had its first decision (a page without slots shows
  // nothing, so `shown` cannot tell).
  let decidedHere = false;
  let situation = null;
  // An edge's report (`firstReported`) is of the page it served: not of a
  // route the app shows later without asking it.
  let edgeReported = firstReported === true && !prerendering; // a prerender: reported once shown
  const situationOf = (d) =>
    attempt(() => JSON.stringify([d.qualified, d.fit.tier, d.stage.id, d.role.id, d.lifecycle.stage, d.action && d.action.id, level]), null);
  // Whether a content id is among the picks on show.
  const onShow = (id) => typeof id === 'string' && [...shown.values()].some((ids) => attempt(() => JSON.parse(ids).includes(id), false));
  const idsOf = (s) => attempt(() => JSON.stringify(((s && s.picks) || []).map((p) => p && p.id).sort()), '');
  // A Content Recommended cut to the picks not reported yet (DROP when none
  // is left); any other signal as it is.
  const DROP = {};
  const untold = (signal) => {
    if (!signal || signal.event !== 'Content Recommended' || told.size === 0) return signal;
    const slots = signal.properties && signal.properties.slots;
    if (!Array.isArray(slots)) return DROP;
    const fresh = [];
    for (const x of slots) {
      const had = (x && told.get(x.slot)) || new Set();
      const ids = x && Array.isArray(x.content_ids) ? x.content_ids.filter((id) => !had.has(id)) : [];
      if (ids.length > 0) fresh.push({ ...x, content_ids: ids });
    }
    return fresh.length > 0 ? { ...signal, properties: { ...signal.properties, slots: fresh } } : DROP;
  };
  const tellIds = (slot, ids) => {
    if (!told.has(slot)) told.set(slot, new Set());
    for (const id of ids) told.get(slot).add(id);
  };
  const tell = (signal) => {
    const slots = signal && signal.event === 'Content Recommended' && signal.properties && signal.properties.slots;
    for (const x of Array.isArray(slots) ? slots : []) {
      if (x && Array.isArray(x.content_ids)) tellIds(x.slot, x.content_ids);
    }
  };
  // A copy of the visitor (null if it cannot be made).
  function scratch() {
    const state = attempt(() => (secret === undefined ? visitor.encode() : visitor.encode(secret)), null);
    return typeof state === 'string' ? decode(state) : null;
  }
  function decide({ click = false, taken = undefined } = {}) {
    sync();
    const pageCtx = { ...page, ...((context && context.page) || {}) };
    if (typeof pageCtx.url === 'string') pageCtx.url = pagePath(pageCtx.url, MAX_CONTEXT_URL);
    const req = { now: now(), context: { ...context, consent: level, page: pageCtx } };
    if (campaign) req.context.campaign = { ...campaign };
    if (wanted !== undefined) req.slots = wanted;
    // Prerendering: a copy decides, as the visitor must not move on (its
    // triggers fire once, its decisions are numbered) for a page unseen.
    const who = prerendering ? scratch() : visitor;
    if (!who) return null;
    let d;
    try {
      d = who.decide(req);
    } catch (err) {
      report(err);
      return null;
    }
    decision = d;
    if (!prerendering) {
      undecided = false;
      save(); // decide moves the state on (triggers fire once, digests)
    }
    const first = !decidedHere;
    // After a click, or when nothing but the draws changed, nothing changes
    // on the page (`situation` is that of what it shows), unless a report is
    // owed.
    const current = situationOf(d);
    // An edge that decided the page and sent its Content Recommended itself
    // (`firstReported`): what it shows is reported.
    if (first && edgeReported) {
      for (const x of (d && Array.isArray(d.slots) && d.slots) || []) {
        const ids = attempt(() => x.picks.map((p) => p.id), []);
        if (ids.length > 0) tellIds(x.slot, ids);
      }
    }
    // Nothing is owed on a page without slots: it shows nothing to report.
    const slotted = Boolean(d && Array.isArray(d.slots) && d.slots.length > 0);
    const owed = Boolean(sender) && level !== 'none' && told.size === 0 && slotted;
    const still = !first && !owed && (click || (current !== null && current === situation && !onShow(taken)));
    if (!still) situation = current;
    if (first || !still) {
      for (const s of (d && Array.isArray(d.slots) && d.slots) || []) {
        const ids = idsOf(s);
        if (!first && shown.get(s.slot) === ids) continue;
        shown.set(s.slot, ids);
        for (const el of slotElements(document, s.slot)) {
          try {
            render(el, s, { document });
          } catch (err) {
            report(err);
          }
        }
      }
    }
    decidedHere = true;
    // What the page shows is reported once: in full until a report has
    // been queued, then only the picks not reported yet. After a click that
    // rendered nothing, nothing new is shown.
    let signals = d && Array.isArray(d.signals) ? d.signals : [];
    if (still) signals = signals.filter((x) => !x || x.event !== 'Content Recommended');
    if (prerendering) signals = []; // unseen yet: reported by the decision made when shown
    signals = signals.map(untold).filter((x) => x !== DROP);
    if (sender && level !== 'none') signals.forEach(tell);
    if (sender && signals.length > 0) sender.enqueue(signals);
    if (onDecision) attempt(() => onDecision(d, { rendered: !still }), undefined);
    return d;
  }

  decide();
  let stopped = false;

  // An event into the visitor: observed (a refused one is reported and
  // dropped), kept for a consent given later, and decided again when
  // `again`. The state is stored after that decision (which drops below
  // `full` what it must not keep), not before it; if it fails, or none is
  // made, save's own rule applies.
  function take(ev, again, click) {
    sync();
    try {
      visitor.observe(ev);
    } catch (err) {
      report(err);
      return null;
    }
    if (seen.length < 100) seen.push(ev);
    if (ev.type === 'form_submit') undecided = true;
    const d = again ? decide({ click, taken: ev.content_id }) : null;
    if (!d) save();
    return d;
  }

  const tracker = autoTrack({
    document,
    window,
    catalogue,
    now,
    setTimeout,
    clearTimeout,
    // A click or a form can be a hand-raise: decided again so that the
    // SQL / trigger signals go out now, not on the next page.
    onEvent: (ev) => take(ev, ev.type === 'cta_click' || ev.type === 'form_submit', ev.type === 'cta_click'),
  });

  // Registered after autoTrack's own listeners, so the held page view is
  // observed (and stored) before the last flush.
  const offs = [];
  const listen = (target, type, fn) => {
    if (!target || typeof target.addEventListener !== 'function') return;
    target.addEventListener(type, fn);
    offs.push(() => target.removeEventListener(type, fn));
  };
  const leave = () => sender && sender.flush({ beacon: true });
  listen(window, 'pagehide', leave);
  // Back or forward to this page from the back/forward cache: a page view
  // again (autoTrack holds a new one), so it is decided again, from the
  // state other pages stored meanwhile, and what it shows is reported again.
  listen(window, 'pageshow', (e) => {
    if (stopped || !attempt(() => e.persisted === true, false)) return;
    shown.clear();
    told.clear();
    decidedHere = false;
    situation = null;
    edgeReported = false; // the cache served it: the edge saw no request
    decide();
  });
  listen(document, 'visibilitychange', () => {
    if (attempt(() => document.visibilityState, 'visible') === 'hidden') leave();
  });
  // The prerendered page is shown: decided again, on the visitor (from the
  // state other pages stored meanwhile), stored and reported; the slots
  // whose picks changed are rendered.
  if (prerendering) {
    listen(document, 'prerenderingchange', () => {
      if (stopped || !prerendering) return;
      prerendering = false;
      sender = makeSender();
      // What the host tracked meanwhile is on this tab's visitor, unsaved:
      // it goes onto the one another tab stored since, if any.
      const mine = visitor;
      sync();
      if (visitor !== mine) for (const ev of seen) attempt(() => visitor.observe(ev), undefined);
      decide();
    });
  }

  // A single-page app's route change, once the new route has rendered: a new
  // page view, as a load would be, when the page changed (its path or its
  // content id: a query or a hash alone is the same page, and a second view
  // of it would count the visit twice). The previous route's held page view
  // is observed with its dwell, then the page, its campaign and its slots are
  // read again and decided, rendered and reported afresh (as after the
  // back/forward cache), from the state other tabs stored meanwhile.
  function newPage() {
    if (stopped) return null;
    const next = pageInfo({ document, window, catalogue });
    if (next.url === page.url && next.content_id === page.content_id) return null;
    tracker.nextPage(next);
    readPage(false, next);
    shown.clear();
    told.clear();
    decidedHere = false;
    situation = null;
    edgeReported = false;
    return decide();
  }

  // `spa`: route changes through the History API are seen by the layer
  // itself: `popstate` (back, forward), and pushState / replaceState, wrapped
  // (the host's call runs as it would, its errors its own). Routers change
  // the URL before or while they render the route, so the page is read
  // after the next frame (an animation frame, then a task: a render the
  // change scheduled has run by then), and several changes in one frame
  // count once. Without animation frames (none, or a hidden tab, where they
  // wait for the tab to show), after a task.
  let due = null;
  const wait = setTimeout || attempt(() => globalThis.setTimeout, undefined);
  const unwait = clearTimeout || attempt(() => globalThis.clearTimeout, undefined);
  function routed() {
    if (stopped || due !== null) return;
    due = true;
    const run = () => {
      due = null;
      attempt(newPage, null); // a timer's callback: nothing thrown into the page
    };
    const tick = () => {
      if (stopped) return;
      due = attempt(() => wait(run, 0), null);
      if (due == null) run();
    };
    const frame = attempt(() => window.requestAnimationFrame, null);
    const visible = attempt(() => document.visibilityState, 'visible') !== 'hidden';
    if (!(visible && typeof frame === 'function' && attempt(() => (frame.call(window, tick), true), false))) tick();
  }
  if (spa === true) {
    listen(window, 'popstate', routed);
    const history = attempt(() => window.history, null);
    for (const name of ['pushState', 'replaceState']) {
      const original = attempt(() => history[name], null);
      if (typeof original !== 'function') continue;
      const own = attempt(() => Object.prototype.hasOwnProperty.call(history, name), false);
      // A call without a URL leaves the URL as it is (a router keeping its
      // scroll position in the state): nothing to read.
      const wrapped = function (...args) {
        const result = original.apply(this, args);
        if (args[2] != null) attempt(routed, undefined);
        return result;
      };
      if (!attempt(() => ((history[name] = wrapped), history[name] === wrapped), false)) continue;
      // Undone at stop, unless another script has wrapped it since (undoing
      // ours would undo theirs): then ours stays in its chain, doing nothing.
      offs.push(() => {
        if (history[name] !== wrapped) return;
        if (own) history[name] = original;
        else delete history[name];
      });
    }
  }

  // `remote`: lowered in another tab, which decides and stores at the new
  // level itself. This tab does not decide too: deciding from the same
  // stored state at the same moment, the tabs would number their decisions
  // alike, and their signals would share messageIds (the store keeps one).
  // It stores nothing until its own next decision, at the new level.
  function applyConsent(next, remote = false) {
    const prev = level;
    level = cap(next);
    const lowered = consentRank(level) < consentRank(prev);
    store.setConsent(level);
    if (sender) sender.setConsent(level);
    // Without a sender (no endpoint, or GPC), what an earlier page's sender left.
    else if (level === 'none') eraseQueue(localStorage !== undefined ? localStorage : attempt(() => globalThis.localStorage, null), sending ? sending.storageKey : undefined);
    if (level === 'none' && prev !== 'none') {
      // Withdrawn: a fresh visitor, in memory only (the page still adapts),
      // so that nothing from before returns if consent is given again.
      // Its id is random, never the host's `anonymousId`: nothing may link
      // the new visitor to the old one.
      // (The old one is not freed: the host may hold it, bp.visitor.)
      visitor = engine.visitor(newId(crypto));
      withdrawn = true;
      seen.length = 0;
      known = null;
      undecided = false;
    } else if (prev === 'none' && level !== 'none') {
      // Consent arrived after start (a consent manager answering late):
      // continue the stored visitor, with this page's events added (a form
      // among them is decided at the new level before anything is stored).
      // Nothing stored: a new visitor, under the host's id when it gives one
      // (asked for now, not at `none`), with this page's events.
      const stored = load();
      const next = stored || (anonymousId !== undefined && !withdrawn ? fresh() : null);
      if (next) {
        for (const ev of seen) attempt(() => next.observe(ev), undefined);
        visitor = next;
      }
      // The stored visitor may have been stored at `full`, and a form seen
      // here holds answers: decided at the level given before it is stored.
      if (level !== 'full' && (stored || seen.some((ev) => ev.type === 'form_submit'))) undecided = true;
    } else {
      // Another tab may have moved the stored visitor on: continue it, not
      // write this tab's older state over it (its decisions would be
      // numbered, and their messageIds made, again).
      sync();
      // Lowered from `full`: decided again at the new level, which forgets
      // the BANT answers and the title, before the state is stored.
      if (lowered) undecided = true;
    }
    // Lowered in another tab: nothing more here (see above; `undecided`
    // keeps this tab from storing before its next decision). Lowered here:
    // decided again at the new level, and a state this tab stored at `full`
    // that cannot be decided at it is erased rather than left as it was (not
    // one another tab has stored since, nor on a level raised from `none`).
    // Given after start: decided again at once, so that what the decision at
    // `none` could not signal (the page's picks, an SQL reached, a trigger)
    // goes out now, not on the next page.
    if (!remote) {
      if (undecided && level === 'anonymous') {
        if (!decide() && lowered && written !== null && store.get() === written) store.clear();
      } else if (prev === 'none' && level !== 'none') {
        if (!decide()) save();
      } else save();
    }
    return prev;
  }

  // Another tab lowered the consent: it applies here too, and the host hears of it.
  const channel = typeof Channel === 'function' ? attempt(() => new Channel(CONSENT_CHANNEL), null) : null;
  if (channel) {
    // Node's channel would keep the process alive (a layer run in tests or on a server).
    if (typeof channel.unref === 'function') attempt(() => channel.unref(), undefined);
    channel.onmessage = (e) => {
      const next = e && e.data && e.data.consent;
      if (!CONSENT_LEVELS.includes(next) || consentRank(next) >= consentRank(level)) return;
      applyConsent(next, true);
      if (onConsent) attempt(() => onConsent(next), undefined);
    };
  }

  return {
    get visitor() {
      return visitor;
    },
    get decision() {
      return decision;
    },
    get consent() {
      return level;
    },
    setConsent(next) {
      const prev = applyConsent(next);
      if (channel && consentRank(level) < consentRank(prev)) attempt(() => channel.postMessage({ consent: level }), undefined);
    },
    track(event) {
      if (stopped) return null;
      if (!event || typeof event !== 'object' || Array.isArray(event)) {
        report(argError('$', 'an event must be an object such as { type: \'custom\', name: \'roi_calculated\' }', 'pass the event object; `ts` defaults to now'));
        return null;
      }
      // A copy (a getter or a Proxy that throws is refused, not thrown into
      // the page); `ts` is now when missing, and never later than now: a
      // far-future time would move the visitor's clock on, and every score
      // would decay to it.
      let ev;
      try {
        ev = { ...event };
      } catch (err) {
        report(argError('$', `the event could not be read (${err && err.message})`, 'pass a plain object'));
        return null;
      }
      const at = now();
      if (ev.ts === undefined || ev.ts === null || (typeof ev.ts === 'number' && ev.ts > at)) ev.ts = at;
      // Decided again as after a form: the slots whose picks changed are
      // rendered and reported.
      return take(ev, true, false);
    },
    page() {
      // Called from the host's router: nothing thrown into it.
      try {
        return newPage();
      } catch (err) {
        report(err);
        return null;
      }
    },
    stop() {
      stopped = true;
      if (due !== null && due !== true) attempt(() => unwait(due), undefined);
      due = null;
      tracker.stop();
      for (const off of offs.splice(0)) attempt(off, undefined);
      if (sender) sender.stop();
      if (channel) attempt(() => channel.close(), undefined);
    },
  };
}
