// The inspector: the current decision as a marketer reads it — fit with its
// criteria, the stage distribution, role and evidence, engagement over time,
// lifecycle, triggers, why each pick was chosen, the next-best action, and
// the signals queued and sent. It only displays decisions (no engine logic);
// everything is built with DOM nodes and textContent.

const HISTORY_MAX = 30;
const LIFECYCLE = { anonymous: 'Anonymous', engaged: 'Engaged', mql: 'MQL', sql: 'SQL' };
const HISTORY_KEY = 'bp_demo_history';

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'style') el.setAttribute('style', v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  return el;
}

// "Technical evaluator (engineering and data leadership)" → "Technical evaluator".
const short = (label) => String(label).replace(/\s*\(.*\)\s*$/, '');
const pct = (p) => `${(Number(p) * 100).toFixed(0)}%`;
const humanize = (id) => String(id || '').replace(/_/g, ' ');

function bar(value, max, cls = '') {
  const w = max > 0 ? Math.max(0, Math.min(100, (Math.abs(value) / max) * 100)) : 0;
  return h('span', { class: `ibar ${cls}` }, h('span', { class: 'ibar-fill', style: `width:${w.toFixed(1)}%` }));
}

function section(id, title, ...body) {
  return h('section', { class: 'isec', 'data-inspector': id }, h('h3', {}, title), ...body);
}

function sparkline(points, guides = []) {
  const W = 260;
  const H = 56;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Engagement over the last ${points.length} decisions`);
  const n = points.length;
  const x = (i) => (n <= 1 ? W / 2 : 6 + (i * (W - 12)) / (n - 1));
  const y = (v) => H - 6 - (Math.max(0, Math.min(100, v)) / 100) * (H - 12);
  const mk = (name, attrs) => {
    const el = document.createElementNS('http://www.w3.org/2000/svg', name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    svg.appendChild(el);
    return el;
  };
  for (const g of guides) if (typeof g === 'number') mk('line', { x1: 0, x2: W, y1: y(g), y2: y(g), class: 'spark-grid' });
  if (n > 1) mk('polyline', { points: points.map((p, i) => `${x(i).toFixed(1)},${y(p.engagement).toFixed(1)}`).join(' '), class: 'spark-line' });
  points.forEach((p, i) => {
    const c = mk('circle', { cx: x(i).toFixed(1), cy: y(p.engagement).toFixed(1), r: 3, class: 'spark-dot' });
    const t = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    t.textContent = `#${p.seq}: ${p.engagement} (${p.page || 'home'})`;
    c.appendChild(t);
  });
  return svg;
}

/** A history entry as `push` writes it. */
function isEntry(e) {
  return (
    e !== null &&
    typeof e === 'object' &&
    typeof e.visitor === 'string' &&
    Number.isFinite(e.seq) &&
    Number.isFinite(e.engagement) &&
    typeof e.stage === 'string' &&
    typeof e.page === 'string' &&
    Array.isArray(e.triggers) &&
    e.triggers.every((t) => typeof t === 'string')
  );
}

/**
 * @param {{ root: HTMLElement, toggle: HTMLElement, playbook: object }} options
 */
export function createInspector({ root, toggle, playbook }) {
  const stageLabel = Object.fromEntries((playbook.stages || []).map((s) => [s.id, s.label || humanize(s.id)]));
  const roleLabel = Object.fromEntries((playbook.roles || []).map((r) => [r.id, r.label || humanize(r.id)]));
  const contentTitle = Object.fromEntries((playbook.content || []).map((c) => [c.id, c.title]));
  const criterionLabel = Object.fromEntries(((playbook.fit && playbook.fit.criteria) || []).map((c) => [c.id, c.label || humanize(c.id)]));
  let history = [];
  let current = null;
  let meta = {};
  const sent = [];
  let persist = false;

  function loadHistory(allowed) {
    persist = allowed;
    if (!allowed) {
      try {
        sessionStorage.removeItem(HISTORY_KEY);
      } catch {
        // storage may be off
      }
      return;
    }
    try {
      const saved = JSON.parse(sessionStorage.getItem(HISTORY_KEY) || '[]');
      // Storage is the page's to trust no more than a cookie: entries not of
      // the shape `push` writes are dropped.
      if (Array.isArray(saved)) history = saved.filter(isEntry).concat(history).slice(-HISTORY_MAX);
    } catch {
      // ignore
    }
  }

  function saveHistory() {
    if (!persist) return;
    try {
      sessionStorage.setItem(HISTORY_KEY, JSON.stringify(history));
    } catch {
      // ignore
    }
  }

  function render() {
    const d = current;
    root.replaceChildren();
    const close = h('button', { type: 'button', class: 'iclose', 'aria-label': 'Close the inspector' }, '×');
    close.addEventListener('click', () => setOpen(false));
    if (!d) {
      root.append(h('header', { class: 'ihead' }, h('h2', {}, 'Inspector'), close), h('p', { class: 'imuted' }, 'No decision yet.'));
      return;
    }
    const where = meta.edge ? 'at the edge' : 'in the browser';
    // A brief answer (an edge without the inspector turned on) has no lists
    // that explain its numbers: show the numbers and say how to get the rest.
    const brief = !Array.isArray(d.gates);
    const kept = (what) => h('p', { class: 'imuted', 'data-inspector': 'brief' }, `${what} are not in a brief answer (the edge sends them with INSPECTOR = "on").`);
    root.append(
      h(
        'header',
        { class: 'ihead' },
        h('div', {}, h('h2', {}, `Decision #${d.seq}`), h('p', { class: 'imuted', 'data-inspector': 'meta' }, `decided ${where} · consent ${meta.consent || 'none'}${meta.gpc ? ' (GPC)' : ''} · visitor ${String(d.visitor_id).slice(0, 8)}… · ${d.playbook.id} r${d.playbook.revision}`)),
        close,
      ),
    );

    // At a glance: the six answers a marketer asks first.
    const card = (id, label, value, sub, cls = '') => h('div', { class: `icard ${cls}`, 'data-inspector': `summary-${id}` }, h('span', { class: 'icard-label' }, label), h('b', {}, value), sub ? h('small', {}, sub) : null);
    root.append(
      h(
        'div',
        { class: 'isummary' },
        card('fit', 'Fit', h('span', {}, `${d.fit.score.toFixed(0)} `, h('span', { class: `tier tier-${d.fit.tier}`, 'data-inspector': 'fit-tier' }, `tier ${d.fit.tier}`)), d.qualified ? 'qualified' : 'not qualified', d.qualified ? '' : 'icard-warn'),
        card('stage', 'Stage', short(stageLabel[d.stage.id] || humanize(d.stage.id)), `${pct(d.stage.confidence)}${d.stage.changed ? ' · changed' : ''}`),
        card('role', 'Role', short(roleLabel[d.role.id] || humanize(d.role.id)), `${pct(d.role.confidence)}${d.role.seniority ? ` · ${d.role.seniority}` : ''}`),
        card('lifecycle', 'Lifecycle', LIFECYCLE[d.lifecycle.stage] || d.lifecycle.stage, d.lifecycle.changed ? 'changed' : ''),
        card('engagement', 'Engagement', `${d.engagement.score} / 100`, d.engagement.top && d.engagement.top[0] ? `top: ${humanize(d.engagement.top[0].rule)}` : ''),
        card('action', 'Next action', humanize(d.action.id), d.action.cta ? `→ ${contentTitle[d.action.cta] || d.action.cta}` : ''),
      ),
    );

    // Stage.
    root.append(
      section(
        'stage',
        'Buying stage',
        h('p', { class: 'ibig' }, h('b', { 'data-inspector': 'stage-id', 'data-stage': d.stage.id }, stageLabel[d.stage.id] || humanize(d.stage.id)), ` ${pct(d.stage.confidence)}`, d.stage.changed ? h('small', {}, ` changed from ${stageLabel[d.stage.previous] || humanize(d.stage.previous || '—')}${d.stage.moved_back ? ' (moved back)' : ''}`) : null),
        brief
          ? kept('The stage probabilities')
          : h(
              'ul',
              { class: 'dist' },
              d.stage.distribution.map((p) => h('li', { class: p.id === d.stage.id ? 'on' : '' }, h('span', { class: 'dist-label' }, stageLabel[p.id] || humanize(p.id)), bar(p.p, 1), h('span', { class: 'num' }, `${(p.p * 100).toFixed(1)}%`))),
            ),
      ),
    );

    // Engagement over time, against the playbook's lifecycle thresholds.
    const engagedMin = (playbook.lifecycle && playbook.lifecycle.engaged_min) ?? 15;
    const mqlAt = playbook.lifecycle && playbook.lifecycle.mql ? playbook.lifecycle.mql[d.fit.tier] : undefined;
    root.append(
      section(
        'engagement',
        'Engagement over time',
        h('p', { class: 'ibig' }, h('b', { 'data-inspector': 'engagement-score' }, String(d.engagement.score)), ' / 100', d.engagement.ignored_events ? h('small', {}, ` · ${d.engagement.ignored_events} burst events ignored`) : null, h('small', {}, ` · engaged from ${engagedMin}${mqlAt !== undefined ? ` · MQL (tier ${d.fit.tier}) from ${mqlAt}` : ` · no MQL for tier ${d.fit.tier}`}`)),
        sparkline(history, [engagedMin, mqlAt]),
        brief ? kept('The rules behind the points') : h('ul', { class: 'ilist' }, d.engagement.top.map((t) => h('li', {}, `${humanize(t.rule)}: ${t.points > 0 ? '+' : ''}${t.points}`))),
      ),
    );

    // Next-best action, lifecycle, triggers.
    root.append(
      section('action', 'Next-best action', h('p', { class: 'ibig' }, h('b', { 'data-inspector': 'action-id' }, humanize(d.action.id)), d.action.cta ? h('small', {}, ` → ${contentTitle[d.action.cta] || d.action.cta}`) : null), h('p', { class: 'imuted' }, d.action.label)),
      section('lifecycle', 'Lifecycle', h('p', { class: 'ibig' }, h('b', { 'data-inspector': 'lifecycle-id' }, LIFECYCLE[d.lifecycle.stage] || d.lifecycle.stage), d.lifecycle.changed ? h('small', {}, ' (changed)') : null), h('p', { class: 'imuted' }, d.lifecycle.reason)),
      section(
        'triggers',
        'Sales triggers',
        d.triggers.length ? h('ul', { class: 'ilist' }, d.triggers.map((t) => h('li', { class: 'trigger' }, `⚡ ${t.label}`))) : h('p', { class: 'imuted' }, 'None fired on this decision.'),
        (() => {
          const earlier = [...new Set(history.slice(0, -1).flatMap((x) => x.triggers || []))];
          return earlier.length ? h('p', { class: 'imuted' }, `Earlier: ${earlier.map(humanize).join(', ')}`) : null;
        })(),
      ),
    );

    // Picks and why.
    root.append(
      section(
        'picks',
        `Why these picks${d.holdout ? ' (holdout: slot defaults)' : ''}${d.explored ? ' · exploring' : ''}`,
        d.slots.map((s) =>
          h(
            'div',
            { class: 'islot' },
            h('h4', {}, s.slot, s.default ? h('small', {}, ' default') : null),
            h('ol', {}, s.picks.map((p) => h('li', {}, h('span', { class: 'pick-title' }, p.title), h('span', { class: 'num' }, p.score.toFixed(3)), p.reasons ? h('ul', { class: 'reasons' }, p.reasons.map((r) => h('li', {}, r))) : null))),
          ),
        ),
        brief ? kept('The reasons for each pick') : null,
        meta.kept ? h('p', { class: 'imuted' }, 'The page keeps the picks it shows: nothing about the visitor changed (these are this decision\'s own, drawn again).') : null,
      ),
    );

    // Fit: gates and criteria (the largest first; the rest folded).
    const criteria = d.fit.criteria || [];
    const maxPts = Math.max(1, ...criteria.map((c) => Math.abs(c.points)));
    const row = (c) => h('tr', {}, h('td', {}, criterionLabel[c.id] || humanize(c.id), c.band && c.band !== criterionLabel[c.id] ? h('small', {}, c.band) : null), h('td', { class: 'num' }, `${c.points > 0 ? '+' : ''}${c.points}`), h('td', {}, bar(c.points, maxPts, c.points < 0 ? 'neg' : '')));
    const TOP = 6;
    const crit = brief
      ? kept('The gates and the matched fit criteria')
      : criteria.length
      ? [
          h('table', { class: 'itable' }, h('tbody', {}, criteria.slice(0, TOP).map(row))),
          criteria.length > TOP ? h('details', {}, h('summary', {}, `${criteria.length - TOP} more criteria`), h('table', { class: 'itable' }, h('tbody', {}, criteria.slice(TOP).map(row)))) : null,
        ]
      : h('p', { class: 'imuted' }, d.fit.from_state ? 'Fit carried from the edge-signed state (the criteria are not in the browser\'s playbook).' : 'No attribute known yet.');
    root.append(
      section(
        'fit',
        'Fit',
        h('p', { class: 'ibig' }, h('b', { 'data-inspector': 'fit-score' }, d.fit.score.toFixed(1)), ' / 100 ', h('small', {}, `coverage ${pct(d.fit.coverage)} · ${d.qualified ? 'qualified' : 'not qualified'}`)),
        h(
          'ul',
          { class: 'chips' },
          (d.gates || []).map((g) => h('li', { class: `chip chip-${g.status}`, title: `${g.kind} gate: ${g.status}` }, `${humanize(g.id)} ${g.status === 'pass' ? '✓' : g.status === 'fail' ? '✗' : '?'}`)),
        ),
        crit,
      ),
    );

    // Role.
    root.append(
      section(
        'role',
        'Buying-committee role',
        h('p', { class: 'ibig' }, h('b', { 'data-inspector': 'role-id' }, roleLabel[d.role.id] || humanize(d.role.id)), ` ${pct(d.role.confidence)}`, d.role.seniority ? h('small', {}, ` · seniority ${d.role.seniority}`) : null),
        brief ? kept('The role evidence and probabilities') : h('ul', { class: 'chips' }, d.role.evidence.length ? d.role.evidence.map((e) => h('li', { class: 'chip' }, `evidence: ${e}`)) : h('li', { class: 'chip chip-unknown' }, 'no evidence yet')),
        brief ? null : h('ul', { class: 'dist dist-small' }, d.role.distribution.map((p) => h('li', { class: p.id === d.role.id ? 'on' : '' }, h('span', { class: 'dist-label', title: roleLabel[p.id] || humanize(p.id) }, short(roleLabel[p.id] || humanize(p.id))), bar(p.p, 1), h('span', { class: 'num' }, pct(p.p))))),
      ),
    );

    // Signals.
    const queued = d.signals || [];
    root.append(
      section(
        'signals',
        'Signals',
        h('p', { class: 'imuted' }, meta.consent === 'none' ? 'Consent none: no signal is produced, stored or sent.' : meta.gpc ? 'Global Privacy Control: signals are not sent.' : `This decision queued ${queued.length}${meta.edgeForwarded ? ` (and the edge forwarded ${meta.edgeForwarded})` : ''}.`),
        h('ul', { class: 'ilist', 'data-inspector': 'signals-queued' }, queued.map((s) => h('li', {}, h('b', {}, s.event), ' ', h('small', {}, s.messageId.slice(0, 10))))),
        h('h4', {}, 'Sent to /v1/batch'),
        sent.length
          ? h('ul', { class: 'ilist', 'data-inspector': 'signals-sent' }, sent.slice(-8).map((b) => h('li', {}, `${b.time} · ${b.count} event${b.count === 1 ? '' : 's'} · ${b.via} · ${b.status}`)))
          : h('p', { class: 'imuted', 'data-inspector': 'signals-sent' }, 'Nothing sent from this page yet (batches of 10, or every 5 s, or when the page is left).'),
      ),
    );
  }

  function setOpen(on) {
    root.hidden = !on;
    document.body.classList.toggle('inspector-open', on);
    if (toggle) toggle.setAttribute('aria-expanded', String(on));
    if (on) render();
  }

  if (toggle) toggle.addEventListener('click', () => setOpen(root.hidden));

  return {
    /** A new decision; `m`: { consent, gpc, edge, edgeForwarded }. */
    push(decision, m = {}) {
      if (!decision) return;
      current = decision;
      meta = m;
      const page = (decision.signals || []).find((s) => s.context && s.context.page)?.context.page.path || m.page || '';
      const entry = { visitor: decision.visitor_id, seq: decision.seq, engagement: decision.engagement.score, stage: decision.stage.id, page, triggers: decision.triggers.map((t) => t.id) };
      const last = history[history.length - 1];
      // The same decision shown again (a consent change) replaces its entry.
      if (last && last.visitor === entry.visitor && last.seq === entry.seq) history[history.length - 1] = entry;
      else history.push(entry);
      if (history.length > HISTORY_MAX) history = history.slice(-HISTORY_MAX);
      saveHistory();
      if (!root.hidden) render();
    },
    /** A batch left for the collector. */
    sent(batch) {
      sent.push(batch);
      if (!root.hidden) render();
    },
    setPersistence(allowed) {
      loadHistory(allowed);
    },
    setOpen,
    get history() {
      return history;
    },
  };
}
