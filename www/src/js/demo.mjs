// The page script of the Lumora demo site. The engine and the browser layer
// come from the npm package as it is published (/pkg/browser.js and
// /pkg/layer/index.js); this file only wires the demo around them: the
// visitor switcher, the consent banner, the inspector, the forms.
//
// Two modes:
// - static: the layer decides in the browser, with the browser-safe playbook
//   (/playbook.json: hashed lists, fit criteria kept);
// - edge: the edge worker already decided and filled the slots, and injected
//   `<script type="application/json" id="bp-edge">` (the decision, the signals
//   it could not forward, the visitor state, the context). The layer then
//   continues from there without deciding again, with the playbook without
//   fit criteria (/playbook-edge.json: the fit stays in the signed state).

import { Engine } from '/pkg/browser.js';
import { start } from '/pkg/layer/index.js';
import { consentRank } from '/pkg/layer/storage.js';
import { renderSlot } from './render.mjs';
import { PRESETS, preset, presetContext } from './presets.mjs';
import { demoEngine } from './adapter.mjs';
import { consentBanner, readConsent, eraseCookie } from './consent.mjs';
import { createInspector } from './inspector.mjs';

const WRITE_KEY = 'demo-write-key';
const EV_COOKIE = 'bp_ev';
const EV_MAX = 8;

function readEdge() {
  const el = document.getElementById('bp-edge');
  if (!el) return null;
  try {
    const edge = JSON.parse(el.textContent || 'null');
    return edge && typeof edge === 'object' && edge.decision ? edge : null;
  } catch {
    return null;
  }
}

const edge = readEdge();
const params = new URLSearchParams(location.search);
const gpc = edge ? edge.gpc === true : navigator.globalPrivacyControl === true;
const capConsent = (level) => (gpc && level === 'full' ? 'anonymous' : level);
let consent = capConsent(edge ? edge.consent : readConsent() || 'none');
let presetId = params.get('as') || (edge && edge.preset) || 'unknown';
if (!PRESETS.some((p) => p.id === presetId)) presetId = 'unknown';
let title = params.has('title') ? params.get('title') : preset(presetId).title;

// A page the edge decided at `none` holds its state signed (`resume`): a
// consent given here hands it to the edge, which stores it in its HttpOnly
// cookie, so the next page continues this visitor. Once, and never after a
// withdrawal on this page.
let resume = edge && typeof edge.resume === 'string' ? edge.resume : null;

// Behind the edge the playbook with fit criteria is not served: if the edge
// could not decide this page, it names the one without them in a
// <meta name="bp-playbook">, and the page carries on with that.
async function loadPlaybook() {
  const named = document.querySelector('meta[name="bp-playbook"]');
  const urls = edge ? [edge.playbook || '/playbook-edge.json'] : named ? [named.content] : ['/playbook.json', '/playbook-edge.json'];
  for (const url of urls) {
    const res = await fetch(url);
    if (res.ok) return res.json();
  }
  throw new Error('buyerpath demo: no playbook');
}
const playbook = await loadPlaybook();

// ------------------------------------------------------------------ edge bridge

// Events the edge cannot see (a click, a download, a form, a custom event)
// ride to it on the next request in a short-lived first-party cookie. Page
// views are not forwarded: the edge counts them itself, with their dwell.
function forwardToEdge(event) {
  if (!edge || consent === 'none' || event.type === 'page_view') return;
  const keep = {};
  for (const k of ['type', 'ts', 'content_id', 'cta', 'form', 'fields', 'name']) if (event[k] !== undefined) keep[k] = event[k];
  let list = [];
  for (const part of document.cookie.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === EV_COOKIE && v) {
      try {
        list = JSON.parse(decodeURIComponent(v));
      } catch {
        list = [];
      }
    }
  }
  if (!Array.isArray(list)) list = [];
  list.push(keep);
  let text = encodeURIComponent(JSON.stringify(list.slice(-EV_MAX)));
  while (text.length > 3000 && list.length > 1) {
    list.shift();
    text = encodeURIComponent(JSON.stringify(list.slice(-EV_MAX)));
  }
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${EV_COOKIE}=${text}; Path=/; Max-Age=3600; SameSite=Lax${secure}`;
}

const { Engine: DemoEngine, sessions } = demoEngine(Engine, { edge, onObserve: forwardToEdge });

// ------------------------------------------------------------------ inspector

const inspector = createInspector({
  root: document.getElementById('bp-inspector'),
  toggle: document.getElementById('bp-inspector-toggle'),
  playbook,
});
inspector.setPersistence(consent !== 'none');

// The layer's sender takes `fetch` and `navigator`: wrapped, they tell the
// inspector what left for the collector (and nothing else changes).
const clock = () => new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const countOf = (body) => {
  try {
    return JSON.parse(body).batch.length;
  } catch {
    return 0;
  }
};
const recordingFetch = async (url, init) => {
  try {
    const res = await fetch(url, init);
    inspector.sent({ time: clock(), count: countOf(init.body), via: 'fetch', status: `HTTP ${res.status}` });
    return res;
  } catch (err) {
    inspector.sent({ time: clock(), count: countOf(init.body), via: 'fetch', status: 'network error' });
    throw err;
  }
};
const recordingNavigator = {
  sendBeacon(url, data) {
    const ok = navigator.sendBeacon(url, data);
    inspector.sent({ time: clock(), count: countOf(data), via: 'beacon', status: ok ? 'queued' : 'refused' });
    return ok;
  },
};

// ------------------------------------------------------------------ the layer

let bp = null;
let firstDecision = true;

function context() {
  if (edge && edge.context) {
    // The edge's firmographics; the job title from the demo bar if changed.
    const ctx = structuredClone(edge.context);
    if (title) ctx.person = { title };
    else delete ctx.person;
    return ctx;
  }
  return presetContext(presetId, title);
}

function run() {
  if (bp) bp.stop();
  // The site's consent cookie, read again: a withdrawal in another tab while
  // this one loaded (its message came before this layer listened) holds here.
  if (!edge) {
    const site = capConsent(readConsent() || 'none');
    if (consentRank(site) < consentRank(consent)) consent = site;
  }
  bp = start({
    Engine: DemoEngine,
    playbook,
    // The layer posts to `${endpoint}/v1/batch`: the first-party path.
    endpoint: gpc ? undefined : location.origin,
    writeKey: WRITE_KEY,
    consent,
    context: context(),
    render: renderSlot,
    fetch: recordingFetch,
    navigator: recordingNavigator,
    onError: (err) => console.warn('buyerpath:', err),
    // Withdrawn (or lowered) in another tab: the layer applied it already.
    onConsent: (level) => {
      consent = level;
      if (level === 'none') resume = null;
      banner.set(level);
      inspector.setPersistence(consent !== 'none');
      inspector.push(bp.decision, { consent, gpc, edge: Boolean(edge), page: location.pathname });
    },
    // The edge sent the page's Content Recommended itself when it forwarded.
    firstReported: Boolean(edge) && (edge.forwarded || 0) > 0,
    onDecision: (d, info) => {
      const fromEdge = Boolean(edge) && firstDecision;
      firstDecision = false;
      inspector.push(d, { consent, gpc, edge: fromEdge, edgeForwarded: fromEdge ? edge.forwarded || 0 : 0, page: location.pathname, kept: info && info.rendered === false });
      document.documentElement.dataset.bpStage = d.stage.id;
      document.documentElement.dataset.bpSeq = String(d.seq);
    },
  });
  return bp;
}

run();

// Custom events (a calculator result, a trial, a video) go through the
// layer's `track()`: observed, decided again (the slots whose picks changed
// are rendered and reported) and stored at the consent in force. (With the
// edge, the wrapped engine also hands them to the edge.)
function track(event) {
  bp.track(event);
}

// ------------------------------------------------------------------ consent

const banner = consentBanner({
  current: consent,
  onChoice(level) {
    const next = capConsent(level);
    // GPC caps the click: the banner shows the level in force, as after a reload.
    if (next !== level) banner.set(next);
    consent = next;
    bp.setConsent(consent); // `none` erases the layer's state and queue
    inspector.setPersistence(consent !== 'none');
    if (consent === 'none') {
      resume = null;
      eraseCookie(EV_COOKIE);
      // The edge's state cookie is HttpOnly: only the edge can expire it.
      if (edge) fetch('/bp/consent', { method: 'POST', body: 'none', keepalive: true }).catch(() => {});
    } else if (resume) {
      // (The banner has set the consent cookie, which the edge reads.) Kept
      // for the next choice if the edge could not take it (offline, a 5xx).
      const sent = resume;
      // The path cut short (percent-encoded, so ASCII; the edge keeps 256
      // bytes of it): a long one must not push the grant past the edge's
      // 8 KiB, where a body is no grant and withdraws.
      const body = JSON.stringify({ consent, state: sent, path: location.pathname.slice(0, 1024) });
      fetch('/bp/consent', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, keepalive: true })
        .then((r) => {
          if (resume === sent && r.status < 500) resume = null;
        })
        .catch(() => {});
    }
    // (A consent given after start is decided again by the layer itself,
    // which reports the page once; the inspector shows that decision.)
    inspector.push(bp.decision, { consent, gpc, edge: Boolean(edge), page: location.pathname });
  },
});

// ------------------------------------------------------------------ visitor switcher

function carryParams(url) {
  if (presetId === 'unknown' && !params.has('title')) return url;
  url.searchParams.set('as', presetId);
  if (title !== preset(presetId).title) url.searchParams.set('title', title);
  else url.searchParams.delete('title');
  return url;
}

function switcher() {
  const mount = document.getElementById('bp-switcher');
  if (!mount) return;
  const label = document.createElement('label');
  label.className = 'demo-field';
  label.textContent = 'Viewing as ';
  const select = document.createElement('select');
  select.id = 'bp-preset';
  for (const p of PRESETS) {
    const o = document.createElement('option');
    o.value = p.id;
    o.textContent = `${p.label} — ${p.note}`;
    if (p.id === presetId) o.selected = true;
    select.appendChild(o);
  }
  label.appendChild(select);
  const tlabel = document.createElement('label');
  tlabel.className = 'demo-field';
  tlabel.textContent = 'Job title ';
  const input = document.createElement('input');
  input.id = 'bp-title';
  input.value = title;
  input.placeholder = 'e.g. VP Finance';
  input.maxLength = 128;
  tlabel.appendChild(input);
  mount.replaceChildren(label, tlabel);

  const apply = () => {
    const url = carryParams(new URL(location.href));
    if (presetId === 'unknown' && !title) {
      url.searchParams.delete('as');
      url.searchParams.delete('title');
    }
    if (edge) {
      // The edge decides: ask it again.
      location.assign(url.toString());
      return;
    }
    history.replaceState(null, '', url.toString());
    run();
  };
  select.addEventListener('change', () => {
    presetId = select.value;
    title = preset(presetId).title;
    input.value = title;
    apply();
  });
  input.addEventListener('change', () => {
    title = input.value.trim();
    apply();
  });
}
switcher();

// Internal links keep the chosen visitor (in the URL, so that nothing is
// stored to remember it).
document.addEventListener(
  'click',
  (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.hash || url.pathname.startsWith('/dashboard')) return;
    const next = carryParams(url).toString();
    if (next !== a.href) a.href = next;
  },
  true,
);

// ------------------------------------------------------------------ forms

for (const form of document.querySelectorAll('form[data-bp-form]')) {
  form.addEventListener('submit', (e) => {
    // The layer has already observed the submit (capture phase) with the
    // `data-bp-bant` fields only; the demo sends the form nowhere.
    e.preventDefault();
    const kind = form.getAttribute('data-bp-form');
    for (const el of form.querySelectorAll('label, fieldset, button[type="submit"], .form-note, .inline-field')) el.hidden = true;
    const done = form.querySelector('.form-done');
    if (done) done.hidden = false;
    const after = form.parentElement && form.parentElement.querySelector('.after-form');
    if (after) after.hidden = false;
    if (kind === 'trial_signup') track({ type: 'trial_start', content_id: 'free-trial' });
  });
}

const roi = document.getElementById('roi-form');
if (roi) {
  roi.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = (name) => Math.max(0, Number(roi.elements[name].value) || 0);
    const hours = n('incidents') * 12 * n('hours');
    const people = hours * 95;
    const spend = n('spend') * 0.18;
    const total = people * 0.6 + spend;
    const out = document.getElementById('roi-result');
    const fmt = (x) => `$${Math.round(x).toLocaleString('en-US')}`;
    out.replaceChildren();
    for (const [k, v] of [
      ['Data downtime today', `${Math.round(hours).toLocaleString('en-US')} hours a year (${fmt(people)})`],
      ['Recovered with Lumora', `${fmt(people * 0.6)} in people time`],
      ['Warehouse savings', `${fmt(spend)} a year`],
      ['Estimated annual return', fmt(total)],
    ]) {
      const p = document.createElement('p');
      const b = document.createElement('b');
      b.textContent = v;
      p.append(`${k}: `, b);
      out.appendChild(p);
    }
    out.hidden = false;
    track({ type: 'custom', name: 'roi_calculated', content_id: 'roi-calculator' });
  });
}

for (const btn of document.querySelectorAll('[data-bp-video]')) {
  btn.addEventListener('click', () => {
    btn.textContent = '❚❚';
    track({ type: 'video_play', content_id: btn.getAttribute('data-bp-video') });
  });
}

// For the demo's tests and the curious: what the layer was asked, and decided.
window.bpDemo = {
  get decision() {
    return bp && bp.decision;
  },
  sessions,
  get consent() {
    return consent;
  },
  get history() {
    return inspector.history;
  },
  mode: edge ? 'edge' : 'static',
  ready: true,
};
document.documentElement.dataset.bpReady = 'true';
