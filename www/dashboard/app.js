// The buyerpath dashboard: reads /api/accounts, /api/funnel and
// /api/calibration (a candidate playbook revision under review) and draws
// them with plain DOM and inline SVG. Every value from the store goes through
// textContent (account names come from the outside world), never innerHTML.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
const state = {
  revision: null, asOf: null, model: 'linear', open: new Set(), timer: null,
  // The accounts table's search (a part of the name) and page (first row).
  search: '', offset: 0,
  // A refresh in flight, and whether another was asked for meanwhile.
  busy: false, again: false, loaded: false,
  // The JSON each section was last drawn from (see changed()).
  drawn: new Map(),
};

function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') n.className = v;
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = String(text);
  return n;
}

const pct = (x) => (x === null || x === undefined ? '–' : `${Math.round(x * 1000) / 10}%`);
const num = (x, d = 0) => (x === null || x === undefined ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const days = (x) => (x === null || x === undefined ? '–' : x < 1 ? `${num(x * 24, 1)} h` : `${num(x, 1)} d`);
const hours = (x) => (x === null || x === undefined ? '–' : x < 48 ? `${num(x, 1)} h` : `${num(x / 24, 1)} d`);

function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

// A time that may wrap between its date and its time, never within them.
function whenCell(iso) {
  const [date, time] = when(iso).split(/ (?=\d)/);
  return time ? [el('span', { class: 'nowrap' }, date), ' ', el('span', { class: 'nowrap' }, time)] : date;
}

// The as-of box (datetime-local, step 0.001: it shows and gives back
// milliseconds) from the store's as_of "2026-12-01T10:00:00.250Z", and back:
// the box's value drops the seconds and milliseconds when they are zero.
function asOfInput(iso) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)/.exec(iso || '');
  return m ? m[1] : '';
}

function asOfParam(value) {
  const [time, ms] = value.split('.');
  const seconds = time.length === 16 ? `${time}:00` : time;
  return ms ? `${seconds}.${ms.padEnd(3, '0')}Z` : `${seconds}Z`;
}

function query() {
  const p = new URLSearchParams();
  if (state.asOf) p.set('as_of', state.asOf);
  return p;
}

// The table shows a page of the ranked accounts: a store of thousands stays
// quick to draw every 10 s (the totals above it count them all).
const ACCOUNTS_SHOWN = 200;

function accountsQuery() {
  const p = query();
  p.set('limit', String(ACCOUNTS_SHOWN));
  if (state.offset) p.set('offset', String(state.offset));
  if (state.search) p.set('q', state.search);
  return p;
}

async function getJson(path, params) {
  const qs = params && params.toString() ? `?${params}` : '';
  const res = await fetch(`${path}${qs}`, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `${path}: HTTP ${res.status}`);
  return body;
}

// Whether a section's data differs from what it was last drawn from: the
// 10-second refresh draws nothing again when nothing changed (a table built
// again loses the keyboard focus and the reader's place).
function changed(section, ...data) {
  const text = JSON.stringify(data);
  if (state.drawn.get(section) === text) return false;
  state.drawn.set(section, text);
  return true;
}

// Numbers within names in their order (trigger_2 before trigger_10).
const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' }).compare;

// A playbook id's label from an API list of {id, label} (the id when the
// playbook does not know it: a signal of an older revision).
function labeller(list) {
  const labels = new Map((list || []).map((x) => [x.id, x.label || x.id]));
  return (id) => (id === null || id === undefined ? '–' : labels.get(id) || id);
}

// ---------- key figures ----------

// MQL → SQL: a rate of 0 (or none) while SQLs came without an MQL (a hand-raise
// or BANT answer straight to SQL) says nothing of them: count them beside it.
function mqlToSqlNote(report) {
  const n = report && report.lifecycle.sql_without_mql;
  return n ? `${num(n)} SQL without an MQL` : null;
}

// The lift's uncertainty beside it: a few dozen visitors make a wide
// interval, and −10% read alone looks like a finding.
function liftInterval(h) {
  if (!h || !h.lift_ci95) return null;
  return `95% CI ${pct(h.lift_ci95[0])} to ${pct(h.lift_ci95[1])}`;
}

function liftNote(report) {
  const h = report && report.holdout;
  if (!h || h.lift === null) return null;
  const z = h.z === null ? null : `z = ${h.z}`;
  return [liftInterval(h), z].filter(Boolean).join(' · ') || null;
}

function kpis(accounts, report, health) {
  const box = $('kpis');
  box.replaceChildren();
  const items = [
    ['Events stored', num(health && health.events)],
    ['Accounts', num(accounts.total)],
    ['Surging accounts', num(accounts.surging)],
    ['Visitors', num(report && report.visitors)],
    ['MQL', num(report && report.lifecycle.mql)],
    ['SQL', num(report && report.lifecycle.sql)],
    ['MQL → SQL', pct(report && report.lifecycle.mql_to_sql_rate), mqlToSqlNote(report)],
    ['Median time to MQL', days(report && report.velocity.median_days_first_seen_to_mql)],
    ['Median time per stage', days(report && report.velocity.median_days_between_stages)],
    ['Lift over holdout', report && report.holdout.lift !== null ? pct(report.holdout.lift) : '–', liftNote(report)],
  ];
  for (const [label, value, note] of items) {
    box.append(el('div', { class: 'kpi' }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label),
      note ? el('div', { class: 'kpi-note' }, note) : null));
  }
}

// ---------- accounts ----------

function committee(c, role) {
  const w = 14 * c.needed.length;
  const s = svg('svg', { width: w, height: 14, viewBox: `0 0 ${w} 14`, role: 'img' });
  s.style.width = `${w}px`;
  s.style.display = 'inline-block';
  s.style.verticalAlign = 'middle';
  c.needed.forEach((r, i) => {
    const seen = c.seen.includes(r);
    const dot = svg('circle', { cx: 7 + i * 14, cy: 7, r: 5, fill: seen ? '#2f5bea' : '#fff', stroke: seen ? '#2f5bea' : '#98a2b3' });
    dot.append(svg('title', {}, `${role(r)}: ${seen ? 'seen' : 'not seen yet'}`));
    s.append(dot);
  });
  s.append(svg('title', {}, `Seen: ${c.seen.map(role).join(', ') || 'none'}; missing: ${c.missing.map(role).join(', ') || 'none'}`));
  return el('span', {}, s, ' ', el('span', { class: 'muted' }, pct(c.coverage)));
}

// The engagement bars' scale: the same for every page, search and refresh
// (scaled to the largest value shown, an account's bar changed length from
// one page to the next). /api/accounts gives no maximum: an account's
// engagement is a sum over its visitors (each saturating at the playbook's
// engagement.saturation, 150 in the example) times their seniority weight, so
// it has no upper bound, and the MQL thresholds (40 to 75 by tier in the
// example) are not in the view either. So a fixed constant, on a saturating
// curve v / (v + ENGAGEMENT_HALF_BAR) that behaves like a log for large
// values: 0 is empty, 100 points half the bar, 300 three quarters, and no
// value runs past the end (nor needs clamping).
const ENGAGEMENT_HALF_BAR = 100;

function engagementShare(value) {
  const v = Math.max(0, Number(value) || 0);
  return v / (v + ENGAGEMENT_HALF_BAR);
}

function engagementBar(value) {
  const w = 90;
  const s = svg('svg', { width: w, height: 10, viewBox: `0 0 ${w} 10`, 'aria-hidden': 'true' });
  s.style.width = `${w}px`;
  s.style.display = 'inline-block';
  s.style.marginRight = '6px';
  s.append(svg('rect', { x: 0, y: 1, width: w, height: 8, rx: 3, fill: '#eef2f6' }));
  const share = engagementShare(value);
  s.append(svg('rect', { x: 0, y: 1, width: share > 0 ? Math.max(1, Math.round(w * share * 100) / 100) : 0, height: 8, rx: 3, fill: '#2f5bea' }));
  return el('span', { class: 'engagement', title: `engagement ${num(value, 1)} (bar: fixed scale, ${ENGAGEMENT_HALF_BAR} points fill half of it)` }, s, num(value, 1));
}

// Consecutive entries into the same stage (visitors of the account arriving
// one after another) as one line: the first and last time, and who.
function collapseHistory(history) {
  const lines = [];
  for (const e of history) {
    const last = lines[lines.length - 1];
    if (last && last.stage === e.stage) {
      last.count += 1;
      last.until = e.at;
      if (!last.visitors.includes(e.visitor)) last.visitors.push(e.visitor);
    } else {
      lines.push({ stage: e.stage, from: e.from, at: e.at, until: null, count: 1, visitors: [e.visitor] });
    }
  }
  return lines;
}

function stageTimeline(history, stage) {
  if (!history.length) return el('p', { class: 'muted' }, 'No stage yet.');
  return el('ol', { class: 'timeline', 'aria-label': 'Stage history' }, collapseHistory(history).map((l) => el('li', {},
    el('span', { class: 'when' }, when(l.at), l.until ? ` – ${when(l.until)}` : null),
    ' → ', el('strong', {}, stage(l.stage)),
    l.count > 1 ? el('span', { class: 'chip count', title: `${l.count} entries in a row` }, `×${l.count}`) : null,
    ' ', el('span', { class: 'muted' }, l.count > 1
      ? `visitors ${l.visitors.join(', ')}`
      : `${l.from ? `from ${stage(l.from)}` : 'first seen'} · ${l.visitors[0]}`))));
}

// Most fired first, then by name; the table shows the first few of them.
const TRIGGERS_SHOWN = 8;

function sortedTriggers(triggers) {
  return [...triggers].sort((x, y) => y.count - x.count || byName(x.label || x.id, y.label || y.id));
}

// An id as text that may wrap after its `_`, `-` and `.` (a <wbr> after
// each): `target_account_` / `new_role`, not mid-word, in a narrow column.
function breakable(id) {
  const out = [];
  // (No lookbehind: Safari before 16.4 could not parse this file.)
  for (const part of String(id).split(/([_.-])/)) {
    if (part === '_' || part === '.' || part === '-') out.push(part, el('wbr'));
    else if (part) out.push(part);
  }
  return out;
}

function triggerChips(triggers) {
  if (!triggers.length) return el('span', { class: 'muted' }, '–');
  const list = sortedTriggers(triggers);
  const rest = list.slice(TRIGGERS_SHOWN);
  // A long id wraps at its `_` (see td.triggers .chip in style.css); the title has it whole, with its label.
  const chips = list.slice(0, TRIGGERS_SHOWN).map((t) => el('span', { class: 'chip', title: t.label && t.label !== t.id ? `${t.id}: ${t.label}` : t.id }, breakable(t.id), t.count > 1 ? ` ×${t.count}` : ''));
  if (rest.length) chips.push(el('span', { class: 'chip more', title: rest.map((t) => `${t.id}${t.count > 1 ? ` ×${t.count}` : ''}`).join(', ') }, `+${rest.length} more`));
  return chips;
}

// A gate that failed (a competitor, a student) disqualifies the account,
// whatever its fit: said on the row, not only in its details.
function disqualifiedBadge(a, gate) {
  if (a.qualified !== false) return null;
  const gates = a.failed_gates || [];
  return el('span', { class: 'badge disqualified', title: gates.length ? gates.map(gate).join('; ') : 'a gate failed' },
    `Disqualified: ${gates.length ? gates.join(', ') : 'a gate failed'}`);
}

function surgeCell(s) {
  if (s.new) return el('span', { class: 'chip new', title: `first seen within the last 7 days: not a surge (${num(s.engagement, 1)} now)` }, 'new');
  if (s.surging) return el('span', { class: 'surge-up', title: `${num(s.engagement_7d_ago, 1)} → ${num(s.engagement, 1)}` }, `▲ +${num(s.rise, 1)}`);
  return el('span', { class: 'muted' }, s.rise > 0 ? `+${num(s.rise, 1)}` : '–');
}

function accountDetails(a, cols, names) {
  const triggers = a.triggers.length
    ? el('ul', {}, sortedTriggers(a.triggers).map((t) => el('li', {}, `${t.label || t.id} — ${t.count}× (last ${when(t.last_at)})`)))
    : el('p', { class: 'muted' }, 'No sales trigger fired.');
  const roles = el('ul', {}, a.committee.needed.map((r) => el('li', {}, `${names.role(r)}: `, a.committee.seen.includes(r) ? 'seen' : el('span', { class: 'muted' }, 'not seen yet'))));
  const more = a.stage_changes > a.stage_history.length ? el('p', { class: 'note' }, `last ${a.stage_history.length} of ${a.stage_changes} stage changes`) : null;
  const gates = a.qualified === false
    ? el('p', { class: 'disqualified-note' }, `Not qualified: ${(a.failed_gates || []).map(names.gate).join('; ') || 'a gate failed'}`)
    : null;
  return el('tr', { class: 'details', 'data-account': a.account }, el('td', { colspan: cols },
    el('p', { class: 'full-name' }, a.account),
    gates,
    el('div', { class: 'detail-grid' },
      el('div', {}, el('h3', {}, 'Stage history'), stageTimeline(a.stage_history, names.stage), more),
      el('div', {},
        el('h3', {}, 'Sales triggers'), triggers,
        el('h3', {}, 'Buying committee'), roles,
        el('p', { class: 'note' }, `fit score ${num(a.fit_score, 1)} (${fitSource(a)}) · first seen ${when(a.first_seen)}${a.playbook ? ` · playbook ${playbookLabel(a.playbook)}` : ''}`)))));
}

// The fit tier; one only browsers sent (the public write key) is a claim,
// drawn hollow and said to screen readers.
function fitTier(a, tier) {
  const chip = tierChip(tier);
  if (a.firmographics !== 'asserted' || !a.fit_tier) return chip;
  const cls = chip.className;
  return el('span', { class: `${cls} asserted`, title: 'asserted: sent by a browser under the public write key, not verified by a server-side sender' },
    tier, el('span', { class: 'visually-hidden' }, ' (asserted by a browser)'));
}

// Where the fit comes from, and what a browser claimed when it differs.
function fitSource(a) {
  if (a.firmographics !== 'verified') return a.fit_tier || a.fit_score != null ? 'asserted by a browser' : 'no fit reported';
  const claim = a.claimed_fit;
  return `verified${claim ? `; a browser claimed ${claim.fit_tier || 'no tier'} ${num(claim.fit_score, 1)}` : ''}`;
}

// A playbook and revision as the revision picker names them (signals sent
// without a playbook in their context have no revision).
function playbookLabel(p) {
  if (p.revision === null || p.revision === undefined) return `no revision${p.id ? ` (${p.id})` : ''}`;
  return `${p.id || '(no id)'} r${p.revision}`;
}

// The focused control of an account row (by account: the row is a new
// element once the table is drawn again), to give the focus back to.
function focusedControl() {
  const active = document.activeElement;
  const row = active && active.closest ? active.closest('#accounts tr[data-account]') : null;
  if (!row || !active.dataset.control) return null;
  return { account: row.dataset.account, control: active.dataset.control };
}

function restoreFocus(body, focus) {
  if (!focus) return;
  const row = [...body.rows].find((r) => r.dataset.account === focus.account && r.classList.contains('account'));
  const control = row && [...row.querySelectorAll('[data-control]')].find((c) => c.dataset.control === focus.control);
  if (control) control.focus({ preventScroll: true });
}

// Which rows the table shows: "accounts 201–400 of 600", or of those the
// search keeps.
function shownAccounts(data) {
  const matching = data.matching ?? data.total;
  const of = state.search ? `${num(matching)} matching “${state.search}” (of ${num(data.total)})` : `${num(data.total)}`;
  const whole = `${of} ${!state.search && data.total === 1 ? 'account' : 'accounts'}`;
  if (!data.accounts.length) return matching ? `no account on this page of ${of}` : state.search ? `no account matching “${state.search}”` : whole;
  const first = data.offset + 1;
  const last = data.offset + data.accounts.length;
  return first === 1 && last === matching ? whole : `accounts ${num(first)}–${num(last)} of ${of}`;
}

// Previous and next under the table; a button turned off while it had the
// focus hands it to the other one (not to the page's top).
function pager(data) {
  const matching = data.matching ?? data.total;
  const prev = $('accounts-prev');
  const next = $('accounts-next');
  const focused = document.activeElement;
  prev.disabled = data.offset <= 0;
  next.disabled = data.offset + data.accounts.length >= matching;
  $('accounts-pager').hidden = prev.disabled && next.disabled;
  if (focused === prev && prev.disabled && !next.disabled) next.focus();
  if (focused === next && next.disabled && !prev.disabled) prev.focus();
  // The page drawn: the next and previous pages follow from it (a second
  // click before it changed asks for the same page, not one past it).
  state.shown = { offset: data.offset, matching };
  // The store shrank under a later page (an as_of earlier): its last page.
  if (!data.accounts.length && data.offset > 0 && state.offset > 0) {
    state.offset = Math.max(0, Math.ceil(matching / ACCOUNTS_SHOWN) - 1) * ACCOUNTS_SHOWN;
    load();
  }
}

function renderAccounts(data) {
  const table = $('accounts');
  const body = table.querySelector('tbody');
  const focus = focusedControl();
  body.replaceChildren();
  table.removeAttribute('aria-busy');
  $('accounts-empty').hidden = data.total > 0;
  $('accounts-hint').textContent = `ranked by fit tier, then engagement; disqualified accounts last · ${shownAccounts(data)} · as of ${when(data.as_of)}`;
  pager(data);
  $('surge-rule').textContent = `Surge (7 d): ${data.surge_rule}`;
  $('surge-col').title = data.surge_rule;
  const names = { role: labeller(data.roles), stage: labeller(data.stages), gate: labeller(data.gates) };
  const cols = 11;
  for (const a of data.accounts) {
    const tier = a.fit_tier || 'unknown';
    const life = a.lifecycle === 'sql' || a.lifecycle === 'mql' ? el('span', { class: `chip ${a.lifecycle}` }, a.lifecycle.toUpperCase()) : a.lifecycle;
    const open = state.open.has(a.account);
    // The expander is a button (keyboard, screen readers): its name is the
    // account's, shortened on screen only.
    const expander = el('button', { type: 'button', class: 'expander', 'aria-expanded': String(open), 'data-control': 'expand', title: a.account },
      el('span', { class: 'caret', 'aria-hidden': 'true' }, '▸'),
      el('span', { class: 'visually-hidden' }, 'Details of '),
      el('span', { class: 'name' }, a.account));
    const row = el('tr', { class: `account${a.qualified === false ? ' disqualified' : ''}`, 'data-account': a.account },
      el('td', { class: 'num' }, a.rank),
      el('td', { class: 'account-cell' }, expander, disqualifiedBadge(a, names.gate)),
      el('td', {}, fitTier(a, tier), el('span', { class: 'muted' }, num(a.fit_score, 1))),
      el('td', {}, engagementBar(a.engagement)),
      el('td', { class: 'stage', title: a.stage ? a.stage.label || a.stage.id : null }, a.stage ? a.stage.label || a.stage.id : '–'),
      el('td', {}, committee(a.committee, names.role)),
      el('td', { class: 'num' }, a.visitors),
      el('td', {}, life),
      el('td', {}, surgeCell(a.surge)),
      el('td', { class: 'triggers' }, triggerChips(a.triggers)),
      el('td', { class: 'last-seen' }, whenCell(a.last_seen)));
    // Only this row's details change: the table is not built again.
    let details = null;
    const toggle = () => {
      const opening = !state.open.has(a.account);
      if (opening) state.open.add(a.account);
      else state.open.delete(a.account);
      expander.setAttribute('aria-expanded', String(opening));
      if (opening) row.after((details = accountDetails(a, cols, names)));
      else details?.remove();
    };
    expander.addEventListener('click', toggle);
    // A click elsewhere on the row opens it too (the button is the keyboard's way).
    row.addEventListener('click', (e) => { if (!e.target.closest('button, a') && !window.getSelection().toString()) toggle(); });
    body.append(row);
    if (open) body.append((details = accountDetails(a, cols, names)));
  }
  restoreFocus(body, focus);
}

// ---------- candidate revision (calibration review) ----------

const MOVERS_SHOWN = 100;

function tierChip(t) {
  const tier = t || 'unknown';
  return el('span', { class: `tier tier-${/^[A-D]$/.test(tier) ? tier : 'unknown'}` }, tier);
}

function calibrationMatrix(c) {
  const table = $('calibration-matrix');
  const { from, to, counts } = c.matrix;
  const head = el('tr', {}, el('th', { scope: 'col' }, `r${c.current.revision} ↓ · r${c.candidate.revision} →`),
    to.map((t) => el('th', { scope: 'col' }, tierChip(t))), el('th', { scope: 'col', class: 'total' }, 'now'));
  const rows = from.map((f, i) => el('tr', {},
    el('th', { scope: 'row' }, tierChip(f)),
    to.map((t, j) => {
      const n = counts[i][j];
      // The collector's reading of the move (the same tier id is never one;
      // up and down follow the tiers' order by their thresholds).
      const kind = (c.matrix.moves && c.matrix.moves[i] && c.matrix.moves[i][j]) || 'same';
      return el('td', { class: `${kind}${n ? '' : ' zero'}`, title: `${n} accounts: ${f} now, ${t} under revision ${c.candidate.revision}` }, n);
    }),
    el('td', { class: 'total' }, counts[i].reduce((x, y) => x + y, 0))));
  const totals = el('tr', {}, el('th', { scope: 'row', class: 'total' }, 'after'),
    to.map((_, j) => el('td', { class: 'total' }, counts.reduce((x, row) => x + row[j], 0))),
    el('td', { class: 'total' }, c.scored));
  table.replaceChildren(el('thead', {}, head), el('tbody', {}, rows, totals));
}

function calibrationMovers(c) {
  const body = $('calibration-movers').querySelector('tbody');
  body.replaceChildren();
  if (!c.movers.length) body.append(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'No account would change tier.')));
  for (const m of c.movers.slice(0, MOVERS_SHOWN)) {
    const up = m.direction === 'up';
    const sig = m.signalled || {};
    body.append(el('tr', {},
      el('td', {}, el('strong', { class: 'cut', title: m.account }, m.account)),
      el('td', {}, tierChip(m.from), '→ ', tierChip(m.to), el('span', { class: up ? 'move-up' : 'move-down' }, up ? '▲ up' : '▼ down')),
      el('td', { class: 'num' }, `${num(m.old_score, 1)} → ${num(m.new_score, 1)}`),
      el('td', {}, sig.fit_tier ? tierChip(sig.fit_tier) : '–', el('span', { class: 'muted' }, `${num(sig.fit_score, 1)}${sig.firmographics === 'asserted' ? ' · asserted' : ''}`))));
  }
  $('movers-title').textContent = `Accounts that would change tier (${c.movers_total})`;
  $('movers-note').textContent = `${c.movers_total > MOVERS_SHOWN ? `the ${MOVERS_SHOWN} biggest moves of ${c.movers_total} (all of them at /api/calibration)` : 'biggest moves first'}; `
    + 'each fit score is on its own revision\'s scale (a calibrated revision\'s points are log-odds: +10 double the odds of winning)';
}

function renderCalibration(c) {
  const summary = $('calibration-summary');
  const note = $('calibration-note');
  const warnings = $('calibration-warnings');
  const body = $('calibration-body');
  summary.replaceChildren();
  note.replaceChildren();
  warnings.hidden = true;
  body.hidden = true;
  if (!c) { summary.textContent = 'The calibration view could not be loaded.'; return; }
  if (c.status === 'no_candidate') {
    $('calibration-title').textContent = 'Candidate revision';
    summary.append(el('span', { class: 'muted' }, 'No candidate revision loaded. '),
      'To see how a calibrated revision would re-tier these accounts before adopting it, start the collector with ',
      el('code', {}, 'buyerpath serve --candidate playbook.r2.json --accounts crm.csv'),
      ' (', el('code', {}, 'buyerpath calibrate fit'), ' writes the revision; the accounts file is the CRM export).');
    return;
  }
  if (c.status === 'error') { summary.textContent = `The candidate could not be compared: ${c.error}`; return; }
  $('calibration-title').textContent = `Candidate revision ${c.candidate.revision}`;
  $('calibration-hint').textContent = `${c.candidate.path} · ${c.candidate.id} r${c.candidate.revision} vs r${c.current.revision} in use · as of ${when(c.as_of)}`;
  if (c.warnings.length) {
    warnings.replaceChildren(...c.warnings.map((w) => el('li', {}, w)));
    warnings.hidden = false;
  }
  if (c.status === 'no_firmographics') {
    summary.append(`Candidate revision ${c.candidate.revision} is loaded, but the ${num(c.accounts)} accounts cannot be re-scored: `,
      'the store\'s signals carry each account\'s fit as it was decided (tier, score, top reasons), not the firmographics behind it. Restart with ',
      el('code', {}, '--accounts crm.csv'), ' (the CRM export or an account list).');
    return;
  }
  summary.append(`Candidate revision ${c.candidate.revision} would move `,
    el('strong', { class: 'up' }, `${num(c.up)} account${c.up === 1 ? '' : 's'} up`), ', ',
    el('strong', { class: 'down' }, `${num(c.down)} down`), `; ${num(c.same)} would keep their tier.`);
  const f = c.firmographics;
  note.textContent = `${num(c.scored)} of ${num(c.accounts)} accounts re-scored under both revisions on the firmographics of ${f.path} (${num(f.rows)} rows, joined on company.domain): the store's signals carry the fit as decided, not the attributes behind it.`
    + (c.unscored ? ` ${num(c.unscored)} not in the file: not re-scored (${c.unscored_accounts.slice(0, 5).join(', ')}${c.unscored > 5 ? ', …' : ''}).` : '')
    + (c.signalled_differs ? ` For ${num(c.signalled_differs)} the tier signalled now differs from the current revision on the file's attributes (an older revision, or what the browser knew).` : '');
  body.hidden = false;
  calibrationMatrix(c);
  calibrationMovers(c);
}

// ---------- funnel ----------

// Chart labels sit left of their bars, right-aligned on the bars' start: the
// label column is as wide as the longest label (measured in the charts' font,
// .chart text in style.css; the SVG's units are its pixels before scaling),
// within [min, max] of the chart's width; a label longer than max is cut with
// an ellipsis, whole in its <title> (a tooltip, and what a screen reader reads).
const CHART_FONT = '12px system-ui, sans-serif';
let measurer = null;

function textWidth(text) {
  if (!measurer) {
    measurer = document.createElement('canvas').getContext('2d');
    if (measurer) measurer.font = CHART_FONT;
  }
  // No canvas (never in a browser that runs this): about 7 units a character.
  return measurer ? measurer.measureText(text).width : text.length * 7;
}

function shorten(text, room) {
  if (textWidth(text) <= room) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(`${text.slice(0, mid)}…`) <= room) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo).trimEnd()}…`;
}

// The label column: the widest label, the gap after it and LABEL_MARGIN
// before it (a label's room, chartLabel's `room`, is the column less both).
const LABEL_MARGIN = 2;

function labelColumn(labels, min, max, gap) {
  const widest = Math.max(0, ...labels.map(textWidth));
  return Math.ceil(Math.min(max, Math.max(min, widest + gap + LABEL_MARGIN)));
}

function chartLabel(text, x, y, room) {
  const shown = shorten(text, room);
  const t = svg('text', { x, y, 'text-anchor': 'end' }, shown);
  if (shown === text) return t;
  const g = svg('g', { class: 'cut-label' });
  g.append(svg('title', {}, text), t);
  return g;
}

function funnelChart(report) {
  const box = $('funnel-chart');
  box.replaceChildren();
  const stages = report ? report.stages : [];
  if (!stages.length) { box.append(el('p', { class: 'empty' }, 'No stage signal yet.')); return; }
  const w = 900;
  const gap = 10;
  // Room for the longest stage label ("Validation and consensus creation" in
  // the example playbook), at most 40% of the width (longer ones are cut).
  const labels = stages.map((st) => st.label || st.id);
  const left = labelColumn(labels, 120, 360, gap);
  const right = 150;
  const rowH = 30;
  const h = stages.length * rowH + 10;
  const max = Math.max(1, ...stages.map((s) => s.visitors_reached));
  const scale = (v) => ((w - left - right) * v) / max;
  const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': 'Visitors per stage' });
  stages.forEach((st, i) => {
    const y = 5 + i * rowH;
    s.append(chartLabel(labels[i], left - gap, y + 17, left - gap - LABEL_MARGIN));
    const reached = svg('rect', { x: left, y: y + 3, width: scale(st.visitors_reached), height: 20, rx: 3, fill: '#c9d6fb' });
    reached.append(svg('title', {}, `${st.visitors_reached} visitors (${st.accounts_reached} accounts) were in ${st.label || st.id}; ${st.advanced} moved on to a later stage`));
    s.append(reached);
    const now = svg('rect', { x: left, y: y + 8, width: scale(st.visitors_now), height: 10, rx: 2, fill: '#2f5bea' });
    now.append(svg('title', {}, `${st.visitors_now} visitors (${st.accounts_now} accounts) are in ${st.label || st.id} now`));
    s.append(now);
    const label = `${st.visitors_reached} · ${st.visitors_now} now${st.conversion === null ? '' : ` · ${pct(st.conversion)} on`}`;
    s.append(svg('text', { x: left + scale(st.visitors_reached) + 8, y: y + 17, class: 'muted' }, label));
  });
  box.append(s);
}

function transitions(report) {
  const body = $('transitions').querySelector('tbody');
  body.replaceChildren();
  const list = report ? [...report.transitions].sort((a, b) => b.count - a.count) : [];
  const stage = labeller(report && report.stages);
  if (!list.length) body.append(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'No stage change yet.')));
  for (const t of list) {
    body.append(el('tr', {},
      el('td', {}, el('span', { class: 'cut', title: stage(t.from) }, stage(t.from))),
      el('td', {}, el('span', { class: 'cut', title: t.moved_back ? `moved back to ${stage(t.to)}` : stage(t.to) }, t.moved_back ? `↩ ${stage(t.to)}` : stage(t.to))),
      el('td', { class: 'num' }, t.count),
      el('td', { class: 'num' }, hours(t.median_hours))));
  }
}

function holdoutChart(report) {
  const box = $('holdout-chart');
  box.replaceChildren();
  const h = report ? report.holdout : null;
  const groups = h ? [['Shown picks', h.treated, '#2f5bea'], ['Holdout', h.holdout, '#98a2b3']] : [];
  const w = 420;
  const s = svg('svg', { viewBox: `0 0 ${w} 90`, role: 'img', 'aria-label': 'Conversion, treated vs holdout' });
  const max = Math.max(0.0001, ...groups.map(([, g]) => g.rate || 0));
  groups.forEach(([name, g, color], i) => {
    const y = 10 + i * 38;
    const bw = ((w - 230) * (g.rate || 0)) / max;
    s.append(svg('text', { x: 0, y: y + 16 }, name));
    s.append(svg('rect', { x: 100, y: y + 2, width: Math.max(bw, 1), height: 20, rx: 3, fill: color }));
    s.append(svg('text', { x: 108 + bw, y: y + 16, class: 'muted' }, `${pct(g.rate)} of ${g.visitors}`));
  });
  box.append(s);
  const note = $('holdout-note');
  if (!h || h.holdout.visitors === 0) note.textContent = 'No visitor in the holdout yet: lift needs both groups.';
  else note.textContent = `lift ${h.lift === null ? '–' : pct(h.lift)}${liftInterval(h) ? ` (${liftInterval(h)})` : ''}; z = ${h.z === null ? '–' : h.z} (|z| ≥ 1.96 is significant at 95%). Converted: MQL or SQL reached after the visitor's first recommendation.`;
}

function attributionChart(report) {
  const box = $('attribution-chart');
  box.replaceChildren();
  const a = report ? report.attribution : null;
  $('attribution-hint').textContent = a
    ? `${a.attributed} of ${a.conversions} conversions (first MQL or SQL) had content recommended before them; one credit per conversion`
    : '';
  const rows = a ? [...a.content].sort((x, y) => y[state.model] - x[state.model] || x.content_id.localeCompare(y.content_id)).slice(0, 15) : [];
  if (!rows.length) { box.append(el('p', { class: 'empty' }, 'No attributed conversion yet.')); return; }
  const w = 900;
  const gap = 10;
  const labels = rows.map((r) => r.title || r.content_id);
  const left = labelColumn(labels, 120, 400, gap);
  const rowH = 24;
  const h = rows.length * rowH + 6;
  const max = Math.max(0.0001, ...rows.map((r) => r[state.model]));
  const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': 'Content attribution' });
  rows.forEach((r, i) => {
    const y = 3 + i * rowH;
    s.append(chartLabel(labels[i], left - gap, y + 15, left - gap - LABEL_MARGIN));
    const bw = ((w - left - 80) * r[state.model]) / max;
    const bar = svg('rect', { x: left, y: y + 3, width: Math.max(bw, 1), height: 16, rx: 3, fill: '#2f5bea' });
    bar.append(svg('title', {}, `${r.content_id}: first ${r.first_touch}, last ${r.last_touch}, linear ${r.linear}, time decay ${r.time_decay}`));
    s.append(bar);
    s.append(svg('text', { x: left + bw + 6, y: y + 15, class: 'muted' }, num(r[state.model], 2)));
  });
  box.append(s);
}

// ---------- loading ----------

function fillRevisions(funnel) {
  const sel = $('revision');
  const keys = funnel.revisions.map((r) => `${r.playbook.id} r${r.playbook.revision}`);
  const current = [...sel.options].map((o) => o.value);
  if (JSON.stringify(current) !== JSON.stringify(keys)) {
    // Signals sent without a playbook in their context (a host's own events)
    // have no revision to name.
    sel.replaceChildren(...funnel.revisions.map((r, i) => el('option', { value: keys[i] }, playbookLabel(r.playbook))));
  }
  if (!keys.length) sel.append(el('option', { value: '' }, 'no signal yet'));
  // First the revision the server runs (a signal stamped with another one,
  // say a higher number sent with the public key, does not take the view over).
  const own = funnel.stage_order_from ? `${funnel.stage_order_from.id} r${funnel.stage_order_from.revision}` : null;
  if (state.revision === null || !keys.includes(state.revision)) state.revision = keys.includes(own) ? own : keys[0] || null;
  sel.value = state.revision || '';
  return funnel.revisions.find((r) => `${r.playbook.id} r${r.playbook.revision}` === state.revision) || null;
}

// One refresh at a time: the 10-second timer (or a control) asking while one
// is in flight gets one more after it, not a second beside it.
async function load() {
  if (state.busy) { state.again = true; return; }
  state.busy = true;
  try {
    await refresh();
  } finally {
    state.busy = false;
    if (state.again) { state.again = false; load(); }
  }
}

async function refresh() {
  try {
    const [accounts, funnel, health, calibration] = await Promise.all([
      getJson('/api/accounts', accountsQuery()),
      getJson('/api/funnel', query()),
      getJson('/api/health').catch(() => null),
      getJson('/api/calibration', query()).catch(() => null),
    ]);
    $('error').hidden = true;
    if (!state.asOf) $('as-of').value = asOfInput(accounts.as_of);
    const report = fillRevisions(funnel);
    if (changed('kpis', accounts.total, accounts.surging, report, health && health.events)) kpis(accounts, report, health);
    if (changed('accounts', accounts, state.search)) renderAccounts(accounts);
    if (changed('calibration', calibration)) renderCalibration(calibration);
    if (changed('funnel', report)) {
      funnelChart(report);
      transitions(report);
      holdoutChart(report);
      attributionChart(report);
    }
    $('health').textContent = health
      ? `${num(health.events)} events stored · queue ${health.queue.batches}/${health.queue.capacity} · playbook ${health.playbook.id} r${health.playbook.revision}`
      : '';
    load.last = { report };
    state.loaded = true;
  } catch (e) {
    $('error').textContent = `Could not load the views: ${e.message}`;
    $('error').hidden = false;
    if (!state.loaded) {
      $('accounts').removeAttribute('aria-busy');
      $('accounts-loading').textContent = 'Not loaded: see the error above.';
    }
  }
}

function schedule() {
  clearInterval(state.timer);
  state.timer = $('auto').checked ? setInterval(load, 10000) : null;
}

$('revision').addEventListener('change', (e) => { state.revision = e.target.value; load(); });
$('model').addEventListener('change', (e) => { state.model = e.target.value; attributionChart(load.last && load.last.report); });
// The as-of is asked for once editing pauses (not per digit: typing a year
// passes through 0002, 0020...), and only a full value: a part cleared while
// editing is not "latest" (that is the button's).
let asOfTimer = null;
$('as-of').addEventListener('change', (e) => {
  clearTimeout(asOfTimer);
  const v = e.target.value;
  if (!v || !e.target.validity.valid) return;
  asOfTimer = setTimeout(() => {
    const asOf = asOfParam(v);
    if (asOf === state.asOf) return;
    state.asOf = asOf;
    state.shown = null;
    load();
  }, 600);
});
$('latest').addEventListener('click', () => { clearTimeout(asOfTimer); state.asOf = null; load(); });
$('auto').addEventListener('change', schedule);
// The search asks once typing pauses (not per key), from the first page.
let searchTimer = null;
$('accounts-search').addEventListener('input', (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const q = e.target.value.trim();
    if (q === state.search) return;
    state.search = q;
    state.offset = 0;
    state.shown = null; // another list: paged from its first page
    load();
  }, 250);
});
const shownOffset = () => (state.shown ? state.shown.offset : state.offset);
$('accounts-prev').addEventListener('click', () => { state.offset = Math.max(0, shownOffset() - ACCOUNTS_SHOWN); load(); });
$('accounts-next').addEventListener('click', () => {
  const next = shownOffset() + ACCOUNTS_SHOWN;
  if (!state.shown || next < state.shown.matching) { state.offset = next; load(); }
});
load();
schedule();
