// The consent banner and the remembered choice.
//
// The choice is remembered in a first-party cookie (`bp_consent`, which the
// edge worker reads too) only when it is `anonymous` or `full`. Choosing
// `none` remembers nothing: the banner comes back on the next page, and
// everything stored before is erased (the layer erases its state and queue;
// the edge is asked to expire its HttpOnly cookies).

export const LEVELS = ['none', 'anonymous', 'full'];
const COOKIE = 'bp_consent';
const DAYS = 180;

function cookieSuffix(maxAge) {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  return `; Path=/; Max-Age=${maxAge}; SameSite=Lax${secure}`;
}

/** The remembered level, or null when none was chosen (or `none` was). */
export function readConsent() {
  for (const part of String(document.cookie || '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE && (v === 'anonymous' || v === 'full')) return v;
  }
  return null;
}

/** Remembers `anonymous` / `full`; `none` erases the cookie. */
export function writeConsent(level) {
  if (level === 'anonymous' || level === 'full') document.cookie = `${COOKIE}=${level}${cookieSuffix(DAYS * 86400)}`;
  else document.cookie = `${COOKIE}=${cookieSuffix(0)}`;
}

/** Expires a cookie this page may have written. */
export function eraseCookie(name) {
  document.cookie = `${name}=${cookieSuffix(0)}`;
}

/**
 * Wires the banner (server-rendered, hidden) and the demo bar's privacy button.
 * `onChoice(level)` runs on every choice.
 */
export function consentBanner({ current, onChoice }) {
  const banner = document.getElementById('bp-consent');
  const label = document.getElementById('bp-consent-label');
  const open = document.getElementById('bp-privacy-open');
  let level = current;
  let reopened = false; // shown by the demo bar's button (else on arrival)
  const show = (on) => {
    if (banner) banner.hidden = !on;
    if (open) open.setAttribute('aria-expanded', String(on));
    document.body.classList.toggle('consent-open', on);
  };
  // The focus on a choice just hidden is not left to <body>: it goes back to
  // the button that opened the banner, else to the page's main content
  // (where a keyboard user was headed; not scrolled to).
  const refocus = () => {
    const main = document.querySelector('main');
    if (reopened && open) open.focus();
    else if (main) {
      if (!main.hasAttribute('tabindex')) main.setAttribute('tabindex', '-1');
      main.focus({ preventScroll: true });
    }
  };
  const update = (chosen) => {
    if (label) label.textContent = chosen === null ? 'not set' : level;
    if (!banner) return;
    for (const b of banner.querySelectorAll('[data-consent]')) b.setAttribute('aria-pressed', String(b.dataset.consent === level && chosen !== null));
  };
  if (banner) {
    banner.addEventListener('click', (e) => {
      const btn = e.target.closest('[data-consent]');
      if (!btn) return;
      level = btn.dataset.consent;
      writeConsent(level);
      update(level);
      const focused = banner.contains(document.activeElement);
      show(false);
      if (focused) refocus();
      onChoice(level);
    });
  }
  if (open) {
    open.addEventListener('click', () => {
      reopened = banner ? banner.hidden : false;
      show(reopened);
      // Reopened, the banner (first in the page) is far behind the button in
      // the tab order: the focus moves to its choice in force, or its first.
      if (reopened) (banner.querySelector('[aria-pressed="true"]') || banner.querySelector('[data-consent]')).focus();
    });
  }
  const remembered = readConsent();
  update(remembered);
  if (remembered === null) show(true);
  return {
    get level() {
      return level;
    },
    /** Shows a level set elsewhere (another tab lowered it). */
    set(next) {
      level = next;
      update(next === 'none' ? null : next);
    },
  };
}
