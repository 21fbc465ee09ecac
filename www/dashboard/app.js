// The buyerpath dashboard: reads /api/accounts, /api/funnel and
// /api/calibration (a candidate playbook revision under review) and draws
// them with plain DOM and inline SVG. Every value from the store goes through
// textContent (account names come from the outside world), never innerHTML.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
const state = { revision: null, asOf: null, model: 'linear', open: new Set(), timer: null };

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

function query() {
  const p = new URLSearchParams();
  if (state.asOf) p.set('as_of', state.asOf);
  return p;
}

// The table shows the best-ranked accounts: a store of thousands stays quick
// to draw every 10 s (the totals above it count them all).
const ACCOUNTS_SHOWN = 200;

function accountsQuery() {
  const p = query();
  p.set('limit', String(ACCOUNTS_SHOWN));
  return p;
}

async function getJson(path, params) {
  const qs = params && params.toString() ? `?${params}` : '';
  const res = await fetch(`${path}${qs}`, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `${path}: HTTP ${res.status}`);
  return body;
}

// ---------- key figures ----------

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
    ['MQL → SQL', pct(report && report.lifecycle.mql_to_sql_rate)],
    ['Median time to MQL', days(report && report.velocity.median_days_first_seen_to_mql)],
    ['Median time per stage', days(report && report.velocity.median_days_between_stages)],
    ['Lift over holdout', report && report.holdout.lift !== null ? pct(report.holdout.lift) : '–'],
  ];
  for (const [label, value] of items) {
    box.append(el('div', { class: 'kpi' }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label)));
  }
}

// ---------- accounts ----------

function committee(c) {
  const w = 14 * c.needed.length;
  const s = svg('svg', { width: w, height: 14, viewBox: `0 0 ${w} 14`, role: 'img' });
  s.style.width = `${w}px`;
  s.style.display = 'inline-block';
  s.style.verticalAlign = 'middle';
  c.needed.forEach((role, i) => {
    const seen = c.seen.includes(role);
    const dot = svg('circle', { cx: 7 + i * 14, cy: 7, r: 5, fill: seen ? '#2f5bea' : '#fff', stroke: seen ? '#2f5bea' : '#98a2b3' });
    dot.append(svg('title', {}, `${role}: ${seen ? 'seen' : 'not seen yet'}`));
    s.append(dot);
  });
  s.append(svg('title', {}, `Seen: ${c.seen.join(', ') || 'none'}; missing: ${c.missing.join(', ') || 'none'}`));
  return el('span', {}, s, ' ', el('span', { class: 'muted' }, pct(c.coverage)));
}

function engagementBar(value, max) {
  const w = 90;
  const s = svg('svg', { width: w, height: 10, viewBox: `0 0 ${w} 10` });
  s.style.width = `${w}px`;
  s.style.display = 'inline-block';
  s.style.marginRight = '6px';
  s.append(svg('rect', { x: 0, y: 1, width: w, height: 8, rx: 3, fill: '#eef2f6' }));
  s.append(svg('rect', { x: 0, y: 1, width: max > 0 ? Math.max(1, (w * value) / max) : 0, height: 8, rx: 3, fill: '#2f5bea' }));
  return el('span', {}, s, num(value, 1));
}

function stageTimeline(history) {
  const box = el('div', { class: 'chart' });
  if (!history.length) return box;
  const w = 640;
  const rowH = 22;
  const h = history.length * rowH + 8;
  const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': 'Stage history' });
  s.style.maxWidth = `${w}px`;
  s.append(svg('line', { x1: 8, y1: 8, x2: 8, y2: h - 8, stroke: '#c9d6fb', 'stroke-width': 2 }));
  history.forEach((e, i) => {
    const y = 12 + i * rowH;
    s.append(svg('circle', { cx: 8, cy: y, r: 4, fill: '#2f5bea' }));
    s.append(svg('text', { x: 20, y: y + 4 }, `${when(e.at)}  →  ${e.stage}`));
    s.append(svg('text', { x: 390, y: y + 4, class: 'muted' }, e.from ? `from ${e.from} · ${e.visitor}` : `first seen · ${e.visitor}`));
  });
  box.append(s);
  return box;
}

function accountDetails(a, cols) {
  const triggers = a.triggers.length
    ? el('ul', {}, a.triggers.map((t) => el('li', {}, `${t.label || t.id} — ${t.count}× (last ${when(t.last_at)})`)))
    : el('p', { class: 'muted' }, 'No sales trigger fired.');
  const roles = el('ul', {}, a.committee.needed.map((r) => el('li', {}, `${r}: `, a.committee.seen.includes(r) ? 'seen' : el('span', { class: 'muted' }, 'not seen yet'))));
  const more = a.stage_changes > a.stage_history.length ? el('p', { class: 'note' }, `last ${a.stage_history.length} of ${a.stage_changes} stage changes`) : null;
  return el('tr', { class: 'details' }, el('td', { colspan: cols },
    el('div', { class: 'detail-grid' },
      el('div', {}, el('h3', {}, 'Stage history'), stageTimeline(a.stage_history), more),
      el('div', {},
        el('h3', {}, 'Sales triggers'), triggers,
        el('h3', {}, 'Buying committee'), roles,
        el('p', { class: 'note' }, `fit score ${num(a.fit_score, 1)}${a.qualified === false ? ' · not qualified (a gate failed)' : ''} · first seen ${when(a.first_seen)}${a.playbook ? ` · playbook ${a.playbook.id} r${a.playbook.revision}` : ''}`)))));
}

function renderAccounts(data) {
  const body = $('accounts').querySelector('tbody');
  body.replaceChildren();
  $('accounts-empty').hidden = data.accounts.length > 0;
  const shown = data.accounts.length < data.total ? `the first ${data.accounts.length} of ` : '';
  $('accounts-hint').textContent = `ranked by fit tier, then engagement · ${shown}${data.total} accounts · as of ${when(data.as_of)}`;
  const max = data.accounts.reduce((m, a) => Math.max(m, a.engagement), 1);
  const cols = 11;
  for (const a of data.accounts) {
    const tier = a.fit_tier || 'unknown';
    const surge = a.surge.surging
      ? el('span', { class: 'surge-up', title: `${num(a.surge.engagement_7d_ago, 1)} → ${num(a.surge.engagement, 1)}` }, `▲ +${num(a.surge.rise, 1)}`)
      : el('span', { class: 'muted' }, a.surge.rise > 0 ? `+${num(a.surge.rise, 1)}` : '–');
    const life = a.lifecycle === 'sql' || a.lifecycle === 'mql' ? el('span', { class: `chip ${a.lifecycle}` }, a.lifecycle.toUpperCase()) : a.lifecycle;
    const row = el('tr', { class: 'account', tabindex: 0, 'aria-expanded': state.open.has(a.account) },
      el('td', { class: 'num' }, a.rank),
      el('td', {}, el('strong', {}, a.account)),
      el('td', {}, el('span', { class: `tier tier-${/^[A-D]$/.test(tier) ? tier : 'unknown'}` }, tier), el('span', { class: 'muted' }, num(a.fit_score, 1))),
      el('td', {}, engagementBar(a.engagement, max)),
      el('td', {}, a.stage ? a.stage.label || a.stage.id : '–'),
      el('td', {}, committee(a.committee)),
      el('td', { class: 'num' }, a.visitors),
      el('td', {}, life),
      el('td', {}, surge),
      el('td', {}, a.triggers.length ? a.triggers.map((t) => el('span', { class: 'chip', title: t.label || t.id }, `${t.id}${t.count > 1 ? ` ×${t.count}` : ''}`)) : el('span', { class: 'muted' }, '–')),
      el('td', {}, when(a.last_seen)));
    // Only this row's details change: the table is not built again.
    let details = null;
    const toggle = () => {
      const open = !state.open.has(a.account);
      if (open) state.open.add(a.account);
      else state.open.delete(a.account);
      row.setAttribute('aria-expanded', String(open));
      if (open) row.after((details = accountDetails(a, cols)));
      else details?.remove();
    };
    row.addEventListener('click', toggle);
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); } });
    body.append(row);
    if (state.open.has(a.account)) body.append((details = accountDetails(a, cols)));
  }
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
      el('td', {}, el('strong', {}, m.account)),
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

function funnelChart(report) {
  const box = $('funnel-chart');
  box.replaceChildren();
  const stages = report ? report.stages : [];
  if (!stages.length) { box.append(el('p', { class: 'empty' }, 'No stage signal yet.')); return; }
  const w = 900;
  const left = 210;
  const right = 150;
  const rowH = 30;
  const h = stages.length * rowH + 10;
  const max = Math.max(1, ...stages.map((s) => s.visitors_reached));
  const scale = (v) => ((w - left - right) * v) / max;
  const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': 'Visitors per stage' });
  stages.forEach((st, i) => {
    const y = 5 + i * rowH;
    s.append(svg('text', { x: left - 10, y: y + 17, 'text-anchor': 'end' }, st.label || st.id));
    const reached = svg('rect', { x: left, y: y + 3, width: scale(st.visitors_reached), height: 20, rx: 3, fill: '#c9d6fb' });
    reached.append(svg('title', {}, `${st.visitors_reached} visitors (${st.accounts_reached} accounts) were in ${st.id}; ${st.advanced} moved on to a later stage`));
    s.append(reached);
    const now = svg('rect', { x: left, y: y + 8, width: scale(st.visitors_now), height: 10, rx: 2, fill: '#2f5bea' });
    now.append(svg('title', {}, `${st.visitors_now} visitors (${st.accounts_now} accounts) are in ${st.id} now`));
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
  if (!list.length) body.append(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'No stage change yet.')));
  for (const t of list) {
    body.append(el('tr', {},
      el('td', {}, t.from),
      el('td', {}, t.moved_back ? el('span', { title: 'moved back' }, `↩ ${t.to}`) : t.to),
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
  else note.textContent = `lift ${h.lift === null ? '–' : pct(h.lift)}; z = ${h.z === null ? '–' : h.z} (|z| ≥ 1.96 is significant at 95%)`;
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
  const left = 330;
  const rowH = 24;
  const h = rows.length * rowH + 6;
  const max = Math.max(0.0001, ...rows.map((r) => r[state.model]));
  const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': 'Content attribution' });
  rows.forEach((r, i) => {
    const y = 3 + i * rowH;
    const title = r.title || r.content_id;
    s.append(svg('text', { x: left - 10, y: y + 15, 'text-anchor': 'end' }, title.length > 48 ? `${title.slice(0, 47)}…` : title));
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
    const label = (p) => (p.revision === null || p.revision === undefined ? `no playbook${p.id ? ` (${p.id})` : ''}` : `${p.id} r${p.revision}`);
    sel.replaceChildren(...funnel.revisions.map((r, i) => el('option', { value: keys[i] }, label(r.playbook))));
  }
  if (!keys.length) sel.append(el('option', { value: '' }, 'no signal yet'));
  // First the revision the server runs (a signal stamped with another one,
  // say a higher number sent with the public key, does not take the view over).
  const own = funnel.stage_order_from ? `${funnel.stage_order_from.id} r${funnel.stage_order_from.revision}` : null;
  if (state.revision === null || !keys.includes(state.revision)) state.revision = keys.includes(own) ? own : keys[0] || null;
  sel.value = state.revision || '';
  return funnel.revisions.find((r) => `${r.playbook.id} r${r.playbook.revision}` === state.revision) || null;
}

async function load() {
  try {
    const [accounts, funnel, health, calibration] = await Promise.all([
      getJson('/api/accounts', accountsQuery()),
      getJson('/api/funnel', query()),
      getJson('/api/health').catch(() => null),
      getJson('/api/calibration', query()).catch(() => null),
    ]);
    $('error').hidden = true;
    if (!state.asOf) $('as-of').value = accounts.as_of.slice(0, 19);
    const report = fillRevisions(funnel);
    kpis(accounts, report, health);
    renderAccounts(accounts);
    renderCalibration(calibration);
    funnelChart(report);
    transitions(report);
    holdoutChart(report);
    attributionChart(report);
    $('health').textContent = health
      ? `${num(health.events)} events stored · queue ${health.queue.batches}/${health.queue.capacity} · playbook ${health.playbook.id} r${health.playbook.revision}`
      : '';
    load.last = { report };
  } catch (e) {
    $('error').textContent = `Could not load the views: ${e.message}`;
    $('error').hidden = false;
  }
}

function schedule() {
  clearInterval(state.timer);
  state.timer = $('auto').checked ? setInterval(load, 10000) : null;
}

$('revision').addEventListener('change', (e) => { state.revision = e.target.value; load(); });
$('model').addEventListener('change', (e) => { state.model = e.target.value; attributionChart(load.last && load.last.report); });
$('as-of').addEventListener('change', (e) => { state.asOf = e.target.value ? `${e.target.value.length === 16 ? `${e.target.value}:00` : e.target.value}Z` : null; load(); });
$('latest').addEventListener('click', () => { state.asOf = null; load(); });
$('auto').addEventListener('change', schedule);
load();
schedule();
