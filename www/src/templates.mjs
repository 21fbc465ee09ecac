// Page templates of the Lumora demo site (run at build time by
// scripts/build-www.mjs; plain functions returning HTML text).
//
// Every page carries the slots the engine fills (`data-bp-slot`), each with
// the slot's default pick as the fallback shown without JavaScript, and every
// catalogue page names its content item in `<meta name="buyerpath:content">`.

import { COMPANY, COPY, PLANS, SECTIONS } from './copy.mjs';
import { FORMAT_LABEL, esc, slotHtml, slotKey } from './js/render.mjs';

const TOPIC_TEXT = {
  observability: ['Why it matters', 'Data teams now run production systems. Observability gives them what SREs have had for a decade: signals, owners and an alert before the customer notices.'],
  data_quality: ['Quality you can measure', 'Completeness, validity and consistency become numbers per table, tracked over time, so a "data quality initiative" has a baseline and a trend instead of a slide.'],
  cost: ['The cost angle', 'Every broken table has two bills: the people who chase it and the compute that rebuilt it. Lumora puts both on the incident, so priorities stop being a debate.'],
  pipeline_reliability: ['Reliable pipelines', 'Freshness and volume monitors learn each table\'s arrival pattern. A late partition at 3 a.m. pages the owner, not the analyst who opens the dashboard at 9.'],
  integrations: ['Fits your stack', 'Snowflake, Databricks, BigQuery and Redshift; dbt, Airflow, Dagster and Prefect; Looker, Tableau and Power BI. Read-only, metadata first, running in a day.'],
  team: ['For the whole team', 'Ownership rules route each incident to the team that can fix it, with the lineage and the last change attached, so nobody starts from a blank Slack thread.'],
  lineage: ['Lineage that answers', 'Column-level lineage across warehouse, dbt and BI shows which dashboards and models a broken column reaches — and which upstream change caused it.'],
  ai: ['Learning, not thresholds', 'Models trained per table learn trend and seasonality, so month-end spikes stay quiet and a real drop at 2 p.m. on a Tuesday does not.'],
  compliance: ['Evidence for auditors', 'Lineage with history and an incident log with timestamps are the evidence that controls over reported figures actually operate.'],
  security: ['Security by design', 'Lumora reads metadata and aggregates, never row-level records. Regions in the US and EU, SSO, audit log and an agent option inside your VPC.'],
};

const NAV = [
  ['/platform/lineage', 'Platform'],
  ['/customers', 'Customers'],
  ['/resources', 'Resources'],
  ['/blog', 'Blog'],
  ['/docs', 'Docs'],
  ['/trust', 'Trust'],
];

/** The site's logo mark (inline SVG: no external assets), once in the header
 * and once in the footer: each use names its gradient after its place, as an
 * id is unique in a document (a second id="lg" is invalid, and a reference
 * to it finds the first one, hidden or not). */
const logo = (place) => `<svg class="logo-mark" viewBox="0 0 32 32" aria-hidden="true"><defs><linearGradient id="logo-gradient-${place}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#5eead4"/><stop offset="1" stop-color="#6366f1"/></linearGradient></defs><circle cx="14" cy="14" r="10" fill="none" stroke="url(#logo-gradient-${place})" stroke-width="4"/><path d="M21.5 21.5 28 28" stroke="#6366f1" stroke-width="4" stroke-linecap="round"/><path d="M9 15.5l3 3 6-7" fill="none" stroke="#0f172a" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

/** A slot element with its default pick as the no-JavaScript fallback. */
export function slot(id, catalogue, slots, cls = '') {
  const spec = slots.find((s) => s.id === id);
  const def = spec && catalogue.get(spec.default);
  const fallback = def ? { slot: id, picks: [def], default: true } : { slot: id, picks: [] };
  return `<div class="slot slot-${esc(id)}${cls ? ` ${cls}` : ''}" data-bp-slot="${esc(id)}" data-bp-rendered="${esc(slotKey(fallback))}" data-bp-default="true">${slotHtml(fallback)}</div>`;
}

function header(path) {
  const links = NAV.map(([href, label]) => {
    const current = path === href || (href !== '/' && path.startsWith(`${href}/`));
    return `<a href="${href}"${current ? ' aria-current="page"' : ''}>${label}</a>`;
  }).join('');
  return `<header class="site-header">
  <div class="wrap header-row">
    <a class="logo" href="/">${logo('header')}<span>Lumora</span></a>
    <nav class="main-nav" aria-label="Main">${links}<a href="/pricing" data-bp-cta="pricing" data-bp-content="pricing">Pricing</a></nav>
    <div class="header-actions"><a class="link-quiet" href="/trial" data-bp-cta="trial" data-bp-content="free-trial">Free trial</a><a class="btn btn-primary" href="/demo" data-bp-cta="demo" data-bp-content="demo-request">Book a demo</a></div>
  </div>
</header>`;
}

function demoBar() {
  // Filled and wired by /js/demo.mjs; a plain strip without JavaScript.
  return `<nav class="demo-bar" aria-label="buyerpath demo">
  <div class="wrap demo-row">
    <span class="demo-brand" title="This site adapts to each visitor"><b>buyerpath</b> demo</span>
    <span class="demo-controls" id="bp-switcher"></span>
    <span class="demo-links"><button type="button" class="demo-btn" id="bp-inspector-toggle" aria-expanded="false" aria-controls="bp-inspector">Inspector</button><button type="button" class="demo-btn" id="bp-privacy-open" aria-expanded="false" aria-controls="bp-consent">Privacy: <span id="bp-consent-label">not set</span></button><a class="demo-btn" href="/dashboard/">Dashboard</a></span>
  </div>
</nav>`;
}

function footer() {
  const col = (title, links) =>
    `<div><h3>${title}</h3><ul>${links.map(([href, label, id]) => `<li><a href="${href}"${id ? ` data-bp-content="${id}"` : ''}>${label}</a></li>`).join('')}</ul></div>`;
  return `<footer class="site-footer">
  <div class="wrap footer-grid">
    <div class="footer-brand"><a class="logo" href="/">${logo('footer')}<span>Lumora</span></a><p>${esc(COMPANY.tagline)}.</p>
      <form class="newsletter" data-bp-form="newsletter" action="#" novalidate>
        <label for="nl-email">Monthly notes on data reliability</label>
        <div class="inline-field"><input id="nl-email" name="email" type="email" placeholder="you@company.com" autocomplete="email"><button class="btn btn-small" type="submit">Subscribe</button></div>
        <p class="form-done" hidden>Thanks — see you next month.</p>
      </form>
    </div>
    ${col('Product', [['/platform/lineage', 'Lineage module'], ['/platform/enterprise-add-ons', 'Enterprise add-ons'], ['/pricing', 'Pricing'], ['/roi-calculator', 'ROI calculator'], ['/compare', 'Compare']])}
    ${col('Resources', [['/blog', 'Blog'], ['/resources', 'Guides'], ['/webinars', 'Webinars'], ['/docs', 'Docs'], ['/customers', 'Customers']])}
    ${col('Company', [['/careers', 'Careers'], ['/trust', 'Trust center'], ['/contact-sales', 'Contact sales'], ['/dashboard/', 'Sales dashboard (demo)']])}
    ${col('Support', [['/support/status', 'System status'], ['/support/kb', 'Knowledge base'], ['/support/contact', 'Contact support'], ['/support/billing', 'Billing']])}
  </div>
  <div class="wrap footer-legal"><span>© 2026 Lumora, Inc. — a fictional company for the buyerpath demo.</span><span>No external fonts, scripts or trackers: everything on this page is served from this origin.</span></div>
</footer>`;
}

// First in the page: when it is shown (a first visit), a keyboard reaches it
// before the demo bar and the site's ~40 links (it sits fixed at the bottom).
// A region (a named <section>: a landmark), not a modal dialog: the page
// stays usable while it asks. Its heading names it, its text describes it.
function consentBanner() {
  return `<section class="consent" id="bp-consent" hidden aria-labelledby="bp-consent-title" aria-describedby="bp-consent-text">
  <div class="consent-inner">
    <div class="consent-text">
      <h2 id="bp-consent-title">How much may this site remember?</h2>
      <p id="bp-consent-text">Lumora adapts what you see to your company and what you read. Choose what it may use; you can change this at any time from the demo bar.</p>
    </div>
    <div class="consent-options" role="group" aria-label="Consent level">
      <button type="button" class="consent-opt" data-consent="none"><b>Nothing</b><span>Adapt this page only. Store nothing, send nothing.</span></button>
      <button type="button" class="consent-opt" data-consent="anonymous"><b>Anonymous</b><span>Remember what I read and send anonymous signals. No job title, no form answers.</span></button>
      <button type="button" class="consent-opt" data-consent="full"><b>Full</b><span>Also use my job title and form answers to tailor content.</span></button>
    </div>
  </div>
</section>`;
}

/** The whole document. */
export function page({ path, title, description, contentId, bodyClass = '', main }) {
  const meta = contentId ? `\n<meta name="buyerpath:content" content="${esc(contentId)}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="strict-origin">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}${title === 'Lumora' ? '' : ' · Lumora'}</title>
<meta name="description" content="${esc(description || COMPANY.tagline)}">${meta}
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/styles.css">
<link rel="modulepreload" href="/pkg/browser.js">
<link rel="modulepreload" href="/pkg/layer/index.js">
<script type="module" src="/js/demo.mjs"></script>
</head>
<body class="${esc(bodyClass)}">
${consentBanner()}
${demoBar()}
${header(path)}
${main}
${footer()}
<aside class="inspector" id="bp-inspector" hidden aria-label="buyerpath inspector"></aside>
</body>
</html>
`;
}

// ------------------------------------------------------------------ bodies

function sections(list) {
  return list.map(([h, p]) => `<h2>${esc(h)}</h2><p>${esc(p)}</p>`).join('\n');
}

function topicSections(item) {
  return (item.topics || []).map((t) => TOPIC_TEXT[t]).filter(Boolean);
}

function bantSelects() {
  const sel = (name, label, options) =>
    `<label>${label}<select name="${name}" data-bp-bant><option value="">Choose…</option>${options.map((o) => `<option>${esc(o)}</option>`).join('')}</select></label>`;
  return [
    sel('budget', 'Budget for this project', ['under $10k', '$10k-$50k', '$50k-$250k', '$250k+', 'not sure']),
    sel('authority', 'Your part in the decision', ['decision maker', 'i recommend', 'just researching']),
    sel('pain', 'Main problem to solve', ['data quality', 'pipeline failures', 'cost overruns', 'compliance', 'just browsing']),
    sel('timeline', 'When do you need it?', ['this quarter', 'next quarter', 'this year', 'no timeline']),
  ].join('\n');
}

function contactFields() {
  return `<div class="form-row"><label>First name<input name="first_name" autocomplete="given-name"></label><label>Last name<input name="last_name" autocomplete="family-name"></label></div>
<label>Work e-mail<input name="email" type="email" autocomplete="email" required placeholder="you@company.com"></label>
<div class="form-row"><label>Company<input name="company" autocomplete="organization"></label><label>Job title<input name="job_title" autocomplete="organization-title"></label></div>`;
}

function leadForm(id, button, { bant = false, note = '' } = {}) {
  return `<form class="lead-form" data-bp-form="${esc(id)}" action="#" novalidate>
${contactFields()}
${bant ? `<fieldset class="bant"><legend>Help us prepare (optional)</legend><div class="form-grid">${bantSelects()}</div></fieldset>` : ''}
<button class="btn btn-primary" type="submit">${esc(button)}</button>
${note ? `<p class="form-note">${esc(note)}</p>` : ''}
<p class="form-done" hidden role="status">Thank you — we will be in touch within one business day.</p>
</form>`;
}

function articleBody(item, copy) {
  const f = item.format;
  const secs = copy.sections || topicSections(item);
  switch (f) {
    case 'blog':
      return `<p class="byline">By the Lumora data team · ${4 + (item.id.length % 6)} min read</p>\n${sections(secs)}`;
    case 'guide': {
      const dl = `<a class="btn btn-primary" href="#download" data-bp-download="${esc(item.id)}">Download the PDF</a>`;
      const inside = `<div class="cover"><span>${esc(FORMAT_LABEL.guide)}</span><b>${esc(item.title)}</b></div>${sections(secs)}`;
      return item.gated
        ? `${inside}<h2>Get the guide</h2>${leadForm('gated_download', 'Send me the guide', { note: 'We use your e-mail only to send the guide.' })}<p class="after-form" hidden>${dl}</p>`
        : `${inside}<p>${dl}</p>`;
    }
    case 'comparison': {
      const rows = (copy.table || []).map(([k, a, b]) => `<tr><th scope="row">${esc(k)}</th><td class="us">${esc(a)}</td><td>${esc(b)}</td></tr>`).join('');
      return `<table class="compare"><thead><tr><th></th><th class="us">Lumora</th><th>${esc(copy.rival || 'Alternative')}</th></tr></thead><tbody>${rows}</tbody></table>\n${sections(topicSections(item))}`;
    }
    case 'case_study': {
      const stats = (copy.stats || []).map(([n, l]) => `<div class="stat"><b>${esc(n)}</b><span>${esc(l)}</span></div>`).join('');
      const quote = copy.quote ? `<blockquote><p>${esc(copy.quote[0])}</p><cite>${esc(copy.quote[1])}</cite></blockquote>` : '';
      return `<div class="stats">${stats}</div>${quote}${sections([['The challenge', topicSections(item)[0]?.[1] || ''], ['The results', (topicSections(item)[1] || topicSections(item)[0] || ['', ''])[1]]])}`;
    }
    case 'webinar':
      return item.cta === 'register'
        ? `${sections(secs)}<h2>Save your seat</h2>${leadForm('webinar_registration', 'Register')}`
        : `<div class="video" role="img" aria-label="Recording"><button type="button" class="play" data-bp-video="${esc(item.id)}" aria-label="Play the recording">▶</button><span>45:12</span></div>${sections(secs)}`;
    case 'roi_calculator':
      return `<form class="roi" id="roi-form" action="#" novalidate>
<div class="form-grid">
<label>Data team size (people)<input name="team" type="number" min="1" value="12"></label>
<label>Data incidents per month<input name="incidents" type="number" min="0" value="8"></label>
<label>Hours lost per incident (all people)<input name="hours" type="number" min="0" value="14"></label>
<label>Annual warehouse spend ($)<input name="spend" type="number" min="0" step="10000" value="900000"></label>
</div>
<button class="btn btn-primary" type="submit">Calculate</button>
<div class="roi-result" id="roi-result" hidden role="status"></div>
</form>`;
    case 'pricing': {
      const plans = PLANS.map(
        (p) => `<div class="plan${p.featured ? ' plan-featured' : ''}"><h2>${esc(p.name)}</h2><p class="price"><b>${esc(p.price)}</b> <span>${esc(p.unit)}</span></p><p>${esc(p.blurb)}</p><a class="btn ${p.featured ? 'btn-primary' : 'btn-ghost'}" href="${esc(
          p.cta[0] === 'free-trial' ? '/trial' : p.cta[0] === 'demo-request' ? '/demo' : '/contact-sales',
        )}" data-bp-cta="${esc(p.cta[1])}" data-bp-content="${esc(p.cta[0])}">${esc(p.cta[2])}</a></div>`,
      ).join('');
      return `<div class="plans">${plans}</div>
<h2>Questions</h2>
<dl class="faq"><dt>What is a monitored table?</dt><dd>Any table or view with at least one active monitor. Lineage and metadata for everything else are free.</dd>
<dt>Is there a free trial?</dt><dd>Yes: 14 days on your own warehouse, no credit card.</dd>
<dt>Can we pay monthly?</dt><dd>Plans are annual; Enterprise can be invoiced quarterly.</dd></dl>
<p><a href="/roi-calculator" data-bp-cta="calculate" data-bp-content="roi-calculator">Estimate your return with the ROI calculator →</a></p>`;
    }
    case 'demo':
      return `<div class="split-form"><div>${sections([['What you will see', 'Your warehouse\'s likely failure modes, live anomaly detection on sample data, column-level lineage from a broken table to the dashboards it reaches, and how incidents reach the right owner.'], ['Who should join', 'A data leader and one engineer who knows your stack. We keep it to 30 minutes.']])}</div>
<div class="form-card"><h2>Book your demo</h2>${leadForm('demo_request', 'Book my demo', { bant: true, note: 'We only use your e-mail to schedule the call.' })}</div></div>`;
    case 'trial':
      return `<div class="split-form"><div>${sections([['In 14 days', 'Connect a warehouse in 15 minutes, watch monitors train overnight, and get your first anomaly report by day two.'], ['What we need', 'A read-only service account. No row-level data leaves your warehouse.']])}</div>
<div class="form-card"><h2>Start your trial</h2><form class="lead-form" data-bp-form="trial_signup" action="#" novalidate>
<label>Work e-mail<input name="email" type="email" autocomplete="email" required placeholder="you@company.com"></label>
<label>Company<input name="company" autocomplete="organization"></label>
<label>Warehouse<select name="warehouse"><option>Snowflake</option><option>Databricks</option><option>BigQuery</option><option>Redshift</option></select></label>
<button class="btn btn-primary" type="submit">Start free trial</button>
<p class="form-done" hidden role="status">Your workspace is being created — check your inbox.</p></form></div></div>`;
    case 'contact':
      return item.id === 'contact-sales'
        ? `<div class="split-form"><div>${sections([['Talk to a human', 'Pricing, procurement, security questionnaires, a proof of value: our team answers within one business day.']])}</div><div class="form-card"><h2>Contact sales</h2>${leadForm('contact_sales', 'Send', { bant: true })}</div></div>`
        : `<div class="split-form"><div>${sections([['Your success review', 'Coverage, alert quality, adoption by team and the roadmap items that matter to you.']])}</div><div class="form-card"><h2>Book a review</h2>${leadForm('csm_review', 'Request a review')}</div></div>`;
    case 'security':
      if (item.id === 'security-soc2-report') return `${sections([['Scope', 'Security, availability and confidentiality, for the period January–September 2026.']])}<h2>Request the report</h2>${leadForm('gated_download', 'Request under NDA')}<p class="after-form" hidden><a class="btn btn-primary" href="#download" data-bp-download="security-soc2-report">Download the report</a></p>`;
      if (item.id === 'security-dpa') return `${sections([['Documents', 'Data processing agreement (v4.2), standard contractual clauses (2021/914), subprocessor list (updated monthly).']])}<p><a class="btn btn-primary" href="#download" data-bp-download="security-dpa">Download the DPA (PDF)</a></p>`;
      return `${sections(secs)}<p><a href="/trust/soc2-report" data-bp-content="security-soc2-report">SOC 2 Type II report</a> · <a href="/trust/dpa" data-bp-content="security-dpa">DPA and subprocessors</a> · <a href="/docs/architecture">Architecture</a></p>`;
    case 'docs':
      return `${copy.code ? `<pre class="code"><code>${esc(copy.code)}</code></pre>` : ''}${sections(secs)}`;
    case 'support':
      if (item.id === 'support-status') {
        const rows = ['Detection', 'Alerting', 'Lineage', 'API', 'Web app'].map((c) => `<li><span>${c}</span><b class="ok">Operational</b></li>`).join('');
        return `<ul class="status">${rows}</ul>`;
      }
      if (item.id === 'support-contact') return `<div class="form-card">${leadForm('support_ticket', 'Open a ticket')}</div>`;
      return sections(secs);
    case 'onboarding':
      return `<ol class="checklist">${['Connect your warehouse', 'Cover your critical tables', 'Route alerts to owners', 'Tune sensitivity', 'Review with your CSM'].map((s) => `<li>${s}</li>`).join('')}</ol>${sections(secs)}`;
    case 'product':
      return `${sections(secs)}<p><a class="btn btn-primary" href="/customers/success-review" data-bp-cta="contact_csm" data-bp-content="contact-customer-success">Talk to your CSM</a></p>`;
    case 'careers':
      return item.id === 'careers'
        ? `<ul class="jobs"><li><a href="/careers/senior-data-engineer" data-bp-content="careers-senior-data-engineer">Senior Data Engineer</a><span>Boston, hybrid</span></li><li><span>Product Designer</span><span>London</span></li><li><span>Solutions Engineer</span><span>New York</span></li></ul>`
        : `${sections([['What you will do', 'Own parts of the ingestion and detection pipeline end to end, from design to on-call.'], ['You will like it here if', 'You have been paged for a broken table at 3 a.m. and want to make sure nobody else is.']])}<p><a class="btn btn-primary" href="#apply" data-bp-cta="apply" data-bp-content="careers-senior-data-engineer">Apply</a></p>`;
    default:
      return sections(secs);
  }
}

/** A catalogue item's page. */
export function contentPage(item, { catalogue, slots }) {
  const copy = COPY[item.id] || { lede: '' };
  const label = FORMAT_LABEL[item.format] || item.format;
  const archived = item.end && item.end < '2026-11-01';
  const main = `<main class="wrap article-layout">
  <article class="article">
    <p class="eyebrow">${esc(label)}${archived ? ' · <span class="tag">Archived</span>' : ''}${item.gated ? ' · <span class="tag">Free with sign-up</span>' : ''}</p>
    <h1>${esc(item.title)}</h1>
    ${copy.lede ? `<p class="lede">${esc(copy.lede)}</p>` : ''}
    ${articleBody(item, copy)}
  </article>
  <aside class="rail" aria-label="For you">
    <section class="rail-card rail-cta"><h2 class="rail-title">Your next step</h2>${slot('cta', catalogue, slots)}</section>
    <section class="rail-card"><h2 class="rail-title">Featured</h2>${slot('hero', catalogue, slots, 'slot-hero-compact')}</section>
    <section class="rail-card"><h2 class="rail-title">Docs and help</h2>${slot('sidebar', catalogue, slots)}</section>
  </aside>
</main>
<section class="wrap more"><h2 class="section-title">Recommended for you</h2>${slot('reading', catalogue, slots)}</section>`;
  return page({ path: item.url, title: item.title, description: copy.lede, contentId: item.id, bodyClass: `page-${item.format}`, main });
}

function card(item) {
  const copy = COPY[item.id] || {};
  return `<li class="card"><a href="${esc(item.url)}" data-bp-content="${esc(item.id)}"><span class="bp-kicker">${esc(FORMAT_LABEL[item.format] || item.format)}</span><span class="card-title">${esc(item.title)}</span>${copy.lede ? `<span class="card-text">${esc(copy.lede)}</span>` : ''}</a></li>`;
}

/** A section index (blog, guides, customers...). */
export function indexPage(section, items, { catalogue, slots }) {
  const list = items.filter((i) => section.formats.includes(i.format));
  const main = `<main class="wrap">
  <header class="page-head"><h1>${esc(section.title)}</h1><p class="lede">${esc(section.lede)}</p></header>
  <div class="index-layout">
    <ul class="cards">${list.map(card).join('')}</ul>
    <aside class="rail" aria-label="For you">
      <section class="rail-card rail-cta"><h2 class="rail-title">Your next step</h2>${slot('cta', catalogue, slots)}</section>
      <section class="rail-card"><h2 class="rail-title">Featured</h2>${slot('hero', catalogue, slots, 'slot-hero-compact')}</section>
      <section class="rail-card"><h2 class="rail-title">Docs and help</h2>${slot('sidebar', catalogue, slots)}</section>
    </aside>
  </div>
  <section class="more"><h2 class="section-title">Recommended for you</h2>${slot('reading', catalogue, slots)}</section>
</main>`;
  return page({ path: section.path, title: section.title, description: section.lede, bodyClass: 'page-index', main });
}

/** The home page. */
export function homePage({ catalogue, slots }) {
  const logos = ['Northbank Capital', 'Meridian Health', 'Cartwheel Retail', 'Stackly', 'Ferrum Industrial', 'Brightwave Media'];
  const features = [
    ['Detect', 'Freshness, volume, schema and distribution monitors that learn each table\'s normal — no thresholds to maintain.'],
    ['Trace', 'Column-level lineage from source to dashboard shows what a broken column reaches and what changed upstream.'],
    ['Route', 'Incidents go to the owning team in Slack or PagerDuty, grouped by root cause, with context attached.'],
    ['Save', 'Cost monitoring finds the models and queries behind warehouse spikes the day they start.'],
  ];
  const main = `<section class="hero-band">
  <div class="wrap hero-grid">
    <div class="hero-copy">
      <p class="eyebrow">Data observability</p>
      <h1>Know your data is right before anyone asks.</h1>
      <p class="lede">${esc(COMPANY.pitch)}</p>
      <div class="hero-actions">${slot('cta', catalogue, slots, 'slot-cta-hero')}<a class="link-quiet" href="/platform/lineage">How it works →</a></div>
    </div>
    <div class="hero-feature"><p class="hero-feature-label">Picked for you</p>${slot('hero', catalogue, slots)}</div>
  </div>
</section>
<section class="logos" aria-label="Customers"><div class="wrap logo-row"><span>Trusted by data teams at</span>${logos.map((l) => `<b>${esc(l)}</b>`).join('')}</div></section>
<section class="wrap features">${features.map(([h, p]) => `<div class="feature"><h2>${h}</h2><p>${esc(p)}</p></div>`).join('')}</section>
<section class="wrap more"><h2 class="section-title">Recommended reading</h2>${slot('reading', catalogue, slots)}</section>
<section class="wrap split">
  <div><h2 class="section-title">Built for your stack</h2><p>Snowflake · Databricks · BigQuery · Redshift · dbt · Airflow · Dagster · Kafka · Fivetran · Looker · Tableau · Power BI</p><p><a href="/docs/integrations">All integrations →</a></p></div>
  <div class="rail-card"><h2 class="rail-title">Get started</h2>${slot('sidebar', catalogue, slots)}</div>
</section>`;
  return page({ path: '/', title: 'Lumora', description: COMPANY.tagline, bodyClass: 'page-home', main });
}

export const SECTION_PAGES = SECTIONS;
