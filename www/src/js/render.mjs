// How a slot's picks look, in one place for the three renderers: the build
// (the fallback shown without JavaScript), the edge worker (HTML text through
// HTMLRewriter, before the page leaves the edge) and the browser (DOM nodes,
// textContent only). The same decision gives the same markup everywhere, so
// the browser can tell that the edge already rendered a slot and leave it.
//
// No engine logic lives here: a pick is rendered exactly as decided.

export const FORMAT_LABEL = {
  blog: 'Blog',
  guide: 'Guide',
  comparison: 'Comparison',
  case_study: 'Customer story',
  webinar: 'Webinar',
  roi_calculator: 'Calculator',
  pricing: 'Pricing',
  demo: 'Demo',
  trial: 'Free trial',
  contact: 'Contact',
  security: 'Trust',
  docs: 'Docs',
  support: 'Support',
  onboarding: 'Onboarding',
  product: 'Platform',
  careers: 'Careers',
};

export const ACTION_LABEL = {
  read: 'Read',
  download: 'Get the guide',
  calculate: 'Calculate your ROI',
  pricing: 'See pricing',
  demo: 'Book a demo',
  trial: 'Start free trial',
  contact_sales: 'Talk to sales',
  contact_csm: 'Book a review',
  contact_support: 'Contact support',
  register: 'Register',
  watch: 'Watch now',
  apply: 'See openings',
};

// Only these become links (as the layer's safeHref: no `javascript:`).
const SAFE_URL = /^(?:https?:|mailto:|[^:]*$|[^:]*[/?#])/i;

/** `url` if it is safe in an href, else null. */
export function safeHref(url) {
  if (typeof url !== 'string') return null;
  const u = url.trim();
  return SAFE_URL.test(u) ? u : null;
}

/** The key of what a slot shows (the pick ids), kept on the slot element. */
export function slotKey(slot) {
  return ((slot && slot.picks) || []).map((p) => String(p.id)).join(' ');
}

/** A pick as the renderers show it. */
export function pickView(pick) {
  const format = String(pick.format || '');
  const action = ACTION_LABEL[pick.cta] || 'Read';
  return {
    id: String(pick.id),
    href: safeHref(pick.url),
    cta: pick.cta ? String(pick.cta) : '',
    format,
    kicker: FORMAT_LABEL[format] || format,
    title: String(pick.title == null ? '' : pick.title),
    action,
  };
}

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** HTML-escapes text and attribute values. */
export function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]);
}

/** The inner HTML of a slot (for the build and the edge). */
export function slotHtml(slot) {
  const items = ((slot && slot.picks) || []).map((p) => {
    const v = pickView(p);
    const href = v.href === null ? '' : ` href="${esc(v.href)}"`;
    const cta = v.cta ? ` data-bp-cta="${esc(v.cta)}"` : '';
    return (
      `<li class="bp-pick bp-f-${esc(v.format)}"><a${href}${cta} data-bp-content="${esc(v.id)}">` +
      `<span class="bp-kicker">${esc(v.kicker)}</span><span class="bp-title">${esc(v.title)}</span>` +
      `<span class="bp-action">${esc(v.action)}</span></a></li>`
    );
  });
  return `<ul class="bp-picks">${items.join('')}</ul>`;
}

/**
 * Renders a slot with DOM nodes (textContent only): the layer's `render`
 * option. A slot that already shows these picks (rendered by the edge or by
 * an earlier decision) is left alone: no flicker, no lost focus.
 */
export function renderSlot(el, slot, { document: doc = el.ownerDocument } = {}) {
  if (!slot || !Array.isArray(slot.picks) || slot.picks.length === 0) return;
  const key = slotKey(slot);
  if (el.getAttribute('data-bp-rendered') === key) return;
  const ul = doc.createElement('ul');
  ul.className = 'bp-picks';
  for (const p of slot.picks) {
    const v = pickView(p);
    const li = doc.createElement('li');
    li.className = `bp-pick bp-f-${v.format}`;
    const a = doc.createElement('a');
    if (v.href !== null) a.setAttribute('href', v.href);
    if (v.cta) a.setAttribute('data-bp-cta', v.cta);
    a.setAttribute('data-bp-content', v.id);
    for (const [cls, text] of [['bp-kicker', v.kicker], ['bp-title', v.title], ['bp-action', v.action]]) {
      const span = doc.createElement('span');
      span.className = cls;
      span.textContent = text;
      a.appendChild(span);
    }
    li.appendChild(a);
    ul.appendChild(li);
  }
  const again = el.getAttribute('data-bp-by') === 'browser';
  el.replaceChildren(ul);
  el.setAttribute('data-bp-rendered', key);
  el.setAttribute('data-bp-default', slot.default ? 'true' : 'false');
  el.setAttribute('data-bp-by', 'browser');
  if (again) {
    // A short highlight, so that a change (a visitor switch) is visible.
    el.classList.remove('bp-updated');
    void el.offsetWidth;
    el.classList.add('bp-updated');
  }
}
