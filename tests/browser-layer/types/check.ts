// Compile-only check that the layer's declarations are strict-clean and
// accept the real browser globals. Not run by node --test.
import {
  start,
  createStore,
  createSender,
  autoTrack,
  pageInfo,
  bantFields,
  defaultRender,
  safeHref,
  newId,
  type Consent,
  type Decision,
  type EngineConstructor,
  type Render,
  type Buyerpath,
  type LayerError,
  type SignalsDroppedEvent,
} from '../../../pkg-template/layer/index.js';

import { Engine as PageEngine } from '../../../pkg-template/page/index.js';

declare const Engine: EngineConstructor;

// An engine already made: buyerpath/page's, loaded from a compiled file.
const made = start({ engine: PageEngine.fromBytes(new Uint8Array(8)), consent: 'none' });
made.stop();
// @ts-expect-error: the class and an engine already made do not go together
start({ Engine, playbook: '{}', engine: PageEngine.fromBytes(new Uint8Array(8)) });
// @ts-expect-error: an engine is required
start({ consent: 'none' });

const consent: Consent = 'anonymous';
const store = createStore({ consent, mode: 'auto', days: 30, document, localStorage });
store.set('abc');
const state: string | null = store.get();
store.setConsent('none');

const sender = createSender({
  endpoint: 'https://collect.example.com',
  writeKey: 'wk',
  consent,
  fetch,
  navigator,
  localStorage,
  setTimeout,
  clearTimeout,
  timeoutMs: 15_000,
  onError: (e: Error) => console.warn(e.message),
});
sender.enqueue([{ type: 'track', event: 'x' }]);
const flushed: Promise<void> = sender.flush({ beacon: true });
const n: number = sender.size();
sender.stop();

const tracker = autoTrack({ document, window, onEvent: (ev) => console.log(ev.type, ev.ts) });
tracker.nextPage();
const url: string | undefined = tracker.page.url;
tracker.stop();
const page = pageInfo({ document, window });
const catalogue = new Map<string, string>([['/pricing', 'pricing']]);
autoTrack({ document, window, catalogue }).stop();
console.log(pageInfo({ document, window, catalogue: null }).content_id);
createSender({ endpoint: '/c', onError: (e: LayerError) => console.warn(e.code, e.status, e.hint) }).stop();
const form = document.querySelector('form');
if (form) {
  const fields: Record<string, string> = bantFields(form);
  console.log(fields);
}

const render: Render = (el, slot) => {
  el.textContent = slot.picks.map((p) => p.title).join(', ');
};
const bp: Buyerpath = start({
  Engine,
  playbook: '{}',
  endpoint: 'https://collect.example.com',
  writeKey: 'wk',
  consent: 'full',
  context: { company: { industry: 'insurance' }, campaign: { source: 'g' } },
  slots: ['hero'],
  render,
  crypto,
  storage: { mode: 'cookie', domain: 'example.com' },
  sending: { maxBatch: 20, timeoutMs: 5000 },
  onDecision: (d: Decision) => console.log(d.action.id, d.signals.length),
});
const d: Decision | null = bp.decision;
const routed: Decision | null = bp.page();
console.log(routed);
const app = start({ Engine, playbook: '{}', spa: true });
window.addEventListener('popstate', () => app.page());
const id: string = bp.visitor.id;
bp.setConsent('none');
bp.stop();
const el = document.createElement('ul');
defaultRender(el, { slot: 'hero', picks: [], default: true });
const href: string | null = safeHref('/x');
const uuid: string = newId();
console.log(state, flushed, n, url, page, d, id, href, uuid);

const tab = start({ Engine, playbook: '{}', onConsent: (level: Consent) => console.log(level), BroadcastChannel });
const level: Consent = tab.consent;
start({ Engine, playbook: '{}', BroadcastChannel: null });
// The site's analytics.js id for a new visitor: a string, or a function read at start.
start({ Engine, playbook: '{}', anonymousId: 'ajs-0f8e' }).stop();
declare const analytics: { user(): { anonymousId(): string | null } };
start({ Engine, playbook: '{}', anonymousId: () => analytics.user().anonymousId() }).stop();
// @ts-expect-error: an id is a string
start({ Engine, playbook: '{}', anonymousId: 42 });
console.log(level);

// A drop report: the refused events by HTTP status, absent when none.
const dropped: SignalsDroppedEvent['properties'] = { dropped: 3, essential_dropped: 0, rejected: { '400': 3 } };
const rejected: number | undefined = dropped.rejected?.['400'];
console.log(rejected);
