// Type declarations for the buyerpath browser layer (index.js, which
// re-exports storage.js, sender.js and track.js). The page-facing parts use
// the DOM types; the store and the sender need no DOM.

/// <reference lib="dom" />

import type { Consent, BuyerpathEvent, ContentPick, SlotResult, Signal, Decision, DecideContext, DecideRequest, Playbook } from '../index.js';
export type { Consent, BuyerpathEvent, ContentPick, SlotResult, Signal, Decision, DecideContext, DecideRequest, Playbook };

export interface Visitor {
  readonly id: string;
  /** True when the state came from another playbook revision and was migrated. */
  readonly migrated?: boolean;
  observe(event: BuyerpathEvent): unknown;
  /** The layer asks for full decisions (it hands them to `onDecision`). */
  decide(request: Omit<DecideRequest, 'detail'>): Decision;
  /** The state as a cookie-safe string, signed when a secret is given. */
  encode(secret?: string): string;
  /** The last decision as a readable report. */
  explain?(): string;
}

export interface Engine {
  visitor(anonymousId: string): Visitor;
  /** Throws (Error with .code) on garbage, foreign or wrongly signed state. */
  decode(state: string, options?: { secret?: string }): Visitor;
  /** The playbook's slot ids: the page's other `data-bp-slot`s are left out (and reported once to `onError`, `unknown_slot`). */
  readonly slots?: readonly string[];
  /**
   * Each catalogue item's `[url, id]`: a page that names no content id is
   * the item whose url is its path (exactly), and a content id the page names
   * that is none of these is reported once to `onError` (`unknown_content`).
   */
  contentUrls?(): ReadonlyArray<readonly [url: string, id: string]>;
}

/**
 * What the layer and its sender pass to `onError` of their own (the engine's
 * errors have the same `code`, `path` and `hint`):
 * - `unknown_slot` (`path: '$.slots'`): `data-bp-slot`s the playbook does not define, left out;
 * - `unknown_content` (`path: '$.context.page.content_id'`): a content id the page names that is not in the catalogue (still passed);
 * - `invalid_argument` (`path: '$'`, `'$.anonymousId'`): a `track()` event that is not one, an `anonymousId` that is not a non-empty string;
 * - `invalid_visitor_id` (`path: '$.anonymousId'`): an `anonymousId` the engine refuses (an e-mail, an IP address, a character outside letters, digits and `-_.:`, over 64);
 * - `batch_refused` (with `status`): the collector refused a batch (4xx other than 408 and 429), once per status;
 * - `event_too_large`, `event_not_json`: an event refused at `enqueue`.
 */
export interface LayerError extends Error {
  name: 'BuyerpathError';
  code: 'unknown_slot' | 'unknown_content' | 'invalid_argument' | 'invalid_visitor_id' | 'batch_refused' | 'event_too_large' | 'event_not_json';
  /** A JSON path into the input (`$` for the sender's: the event or the batch as a whole). */
  path: string;
  /** What to do about it. */
  hint: string;
  /** `batch_refused`: the collector's HTTP status. */
  status?: number;
}

/**
 * The Wasm engine's class (`import { Engine } from 'buyerpath'`). Its
 * parameter is the package's own (a class taking any object fits too).
 */
export interface EngineConstructor {
  new (playbook: string | Playbook): Engine;
}

// ---------------------------------------------------------------- storage.js

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface CookieDocument {
  cookie: string;
  location?: { protocol?: string };
}

export interface StoreOptions {
  consent?: Consent;
  /**
   * `auto` (default): localStorage when it takes writes, else the cookie; a
   * state found only in the other medium (stored before localStorage filled
   * up, or came back) is read, and moves to the one in use.
   */
  mode?: 'auto' | 'cookie' | 'localStorage';
  /** Cookie / localStorage key (default `bp_state`). */
  name?: string;
  /** Cookie lifetime in days (default 180; 0: a session cookie; anything but a number ≥ 0: the default). */
  days?: number;
  /** Cookie domain (default: the current host only). */
  domain?: string;
  document?: CookieDocument | null;
  localStorage?: StorageLike | null;
}

export interface Store {
  /** The stored state, or null (none, consent `none`, or storage unavailable). */
  get(): string | null;
  set(value: string): void;
  clear(): void;
  /** `none` erases what was stored. */
  setConsent(level: Consent): void;
}

export function createStore(options?: StoreOptions): Store;

// ----------------------------------------------------------------- sender.js

export interface FetchResponseLike {
  status: number;
  headers?: { get(name: string): string | null };
}

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; keepalive?: boolean; signal?: AbortSignal },
) => Promise<FetchResponseLike>;

// Timer handles differ (a number in browsers, an object in Node).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TimerHandle = any;

export interface SenderOptions {
  /** Collector base URL; batches go to `{endpoint}/v1/batch`. */
  endpoint: string;
  writeKey?: string;
  consent?: Consent;
  fetch?: FetchLike;
  navigator?: { sendBeacon?(url: string, data: string): boolean } | null;
  localStorage?: StorageLike | null;
  now?: () => number;
  random?: () => number;
  setTimeout?: (fn: () => void, ms: number) => TimerHandle;
  clearTimeout?: (handle: TimerHandle) => void;
  /**
   * Events per request (default 10). A request also stops short of 450 KiB
   * of body (Segment's and the collector's limit is 500 KB), and when the
   * page goes away each beacon or keepalive fetch short of 60 KiB (browsers
   * refuse 64 KiB): the events left over go in the next request.
   */
  maxBatch?: number;
  /** Longest wait before a partial batch is sent, ms (default 5000). */
  flushMs?: number;
  /**
   * Longest wait for the collector's answer, ms (default 10000): a request
   * still unanswered then is aborted and retried with the usual backoff, as
   * a network error is (otherwise one stalled request would hold up every
   * later batch). HTTP 408, 429 and 5xx are retried too; a 413 for several
   * events sends them again in halves (and later requests hold at most half
   * as many, doubling back towards `maxBatch` after each 4 full requests
   * delivered since it last changed); other statuses outside 2xx drop the batch, counted in the
   * `Signals Dropped` report (`rejected`), never sent again.
   */
  timeoutMs?: number;
  /**
   * Queue bound (default 200; in-flight events count). Beyond it the oldest
   * non-essential events are dropped first, and the oldest essential ones
   * (`ESSENTIAL_EVENTS`) only when nothing else is left. The drops are
   * counted (and the count kept in localStorage at `{storageKey}_dropped`)
   * and reported, once there is room again (at the next enqueue or flush
   * after a delivery), by one `Signals Dropped` track event.
   */
  maxQueue?: number;
  /**
   * localStorage key of the persisted queue (default `bp_queue`). The site's
   * tabs share it: each sender merges its events into what the others stored
   * (by messageId) and removes only those it delivered or dropped itself.
   * Beside it: `{storageKey}_dropped` (the drop count) and `{storageKey}_down`
   * (the time of a failed request, for 10 minutes: the next pages then send
   * by keepalive fetch, not beacon).
   */
  storageKey?: string;
  /**
   * Source of the drop report's messageId (default `globalThis.crypto`):
   * `randomUUID()`, else a v4 UUID from `getRandomValues()`, else from `random`.
   */
  crypto?: { randomUUID?(): string; getRandomValues?(array: Uint8Array): Uint8Array } | null;
  /**
   * Called once per HTTP status when the collector refuses (4xx) a batch
   * (`code: 'batch_refused'`, with `status`; its events are counted in the
   * `Signals Dropped` report), and for each event refused by
   * `enqueue`: one JSON cannot encode (`event_not_json`), or one over 32 KiB
   * as JSON in UTF-8 (`event_too_large`; also counted in the `Signals
   * Dropped` report, as Segment and the collector would drop it).
   */
  onError?: (error: LayerError) => void;
}

export interface Sender {
  /**
   * Queues a copy of each event as JSON will send it, stamped with the
   * consent level (`context.consent`) unless it names a lower one, and with
   * a fresh `messageId` if it has none. Events stamped above the current
   * level are ignored; one JSON cannot encode (a BigInt, a cycle) or over
   * 32 KiB as JSON is refused and reported to `onError`.
   */
  enqueue(events: object | object[]): void;
  /**
   * Sends the queue; `beacon` for a page that is going away. Never throws or rejects.
   * A beacon is used only while the collector is known to answer; after a
   * failed request, with events an earlier page left undelivered, or when
   * `navigator.onLine` is false, it is a keepalive fetch whose events stay
   * stored until a response confirms them (the next page sends them again).
   * While a `Retry-After` the collector sent is not over, it sends nothing
   * (the events stay stored), unless storage could not keep them.
   */
  flush(options?: { beacon?: boolean }): Promise<void>;
  setConsent(level: Consent): void;
  /** Events not yet delivered (queued and in flight). */
  size(): number;
  /**
   * Cancels the timers (batching and retries) and sends nothing more (a
   * request already made is not retried). A stopped sender no longer
   * writes the stored queue (a newer sender may have restored it), but still
   * erases it on consent `none`.
   */
  stop(): void;
}

export function createSender(options: SenderOptions): Sender;

/** Signals dropped last when the queue overflows. */
export type EssentialEvent = 'MQL Reached' | 'SQL Reached' | 'Sales Trigger Fired' | 'Stage Changed';

/**
 * The track event that reports dropped events (queue overflow, an event
 * over 32 KiB, or a batch the collector refused) (`sender.js` exports the name as `DROPPED_EVENT`, and
 * `ESSENTIAL_EVENTS`): a fresh `messageId`, the
 * `anonymousId` (or `userId`) of the last dropped event, `context.consent`,
 * `originalTimestamp` when it was queued.
 */
export interface SignalsDroppedEvent {
  type: 'track';
  event: 'Signals Dropped';
  messageId: string;
  anonymousId?: string;
  userId?: string;
  properties: {
    /** Events dropped since the last report, essential ones included. */
    dropped: number;
    /** Of those, how many were essential. */
    essential_dropped: number;
    /**
     * Of those, how many the collector refused (a 4xx other than 408 and
     * 429), by HTTP status (`{ "400": 3 }`); absent when none. A refused
     * batch of drop reports alone is not counted (no report of a report).
     */
    rejected?: Record<string, number>;
  };
  context: { consent: Consent };
  originalTimestamp: string;
}

// ------------------------------------------------------------------ track.js

export interface PageInfo {
  content_id?: string;
  url?: string;
}

export interface AutoTrackOptions {
  document?: Document | null;
  window?: Window | null;
  /** The catalogue's pages, path → content id (see `pageInfo`). */
  catalogue?: ReadonlyMap<string, string> | null;
  onEvent?: (event: BuyerpathEvent) => void;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => TimerHandle;
  clearTimeout?: (handle: TimerHandle) => void;
  /**
   * Visible seconds after which the held page view is emitted to `onEvent`
   * (default 30). A page prerendered by Speculation Rules
   * (`document.prerendering`) holds its page view from `prerenderingchange`,
   * and emits none if it is never shown.
   */
  dwellSeconds?: number;
}

export interface Tracker {
  /** The page of the held page view: as detected at start, then at each `nextPage()`. */
  readonly page: PageInfo;
  /**
   * A route change of a single-page app: the held page view is emitted with
   * its dwell (as at a hide; not again if it has been already), and the
   * page now at the location (path and content id read again, unless
   * given as `page`) is held.
   */
  nextPage(page?: PageInfo): void;
  stop(): void;
}

export function autoTrack(options?: AutoTrackOptions): Tracker;
/**
 * The page: `content_id` from `<meta name="buyerpath:content">` or `<body
 * data-bp-content>`, else the `catalogue` item (path → content id: the
 * engine's `contentUrls()`) whose url is the path exactly; `url` as the
 * path alone.
 */
export function pageInfo(options?: { document?: Document | null; window?: Window | null; catalogue?: ReadonlyMap<string, string> | null }): PageInfo;
export function bantFields(form: HTMLFormElement): Record<string, string>;

// ------------------------------------------------------------------ index.js

export type Render = (element: Element, slot: SlotResult, options: { document: Document }) => void;

/** What start() decides with: the engine class and a playbook, or an engine already made. */
export type StartEngine =
  | {
      /** The engine class: `import { Engine } from 'buyerpath'`. */
      Engine: EngineConstructor;
      playbook: string | object;
      engine?: undefined;
    }
  | {
      /** An engine already made, e.g. `buyerpath/page`'s `Engine.fromBytes(bytes)` (no playbook compiler on the page). */
      engine: Engine;
      Engine?: undefined;
      playbook?: undefined;
    };

export type StartOptions = StartEngine & StartCommonOptions;

export interface StartCommonOptions {
  /** Collector base URL; without it nothing is sent. */
  endpoint?: string;
  writeKey?: string;
  /** Default `none`: decide and render in memory, store and send nothing. */
  consent?: Consent;
  /**
   * Decide context (firmographics, account, campaign...); consent and page are
   * filled in, and so is `campaign` from the page URL's `utm_source`,
   * `utm_medium` and `utm_campaign` (each 1 to 64 characters, else left out;
   * no `campaign` without any). A `campaign` given here wins whole: the URL is
   * not read (`{}` for none). The engine reports it in the signals and keeps
   * the first and last campaign in the state at consent `full` only.
   */
  context?: DecideContext;
  /** Slots to decide for; default: the `data-bp-slot` ids on the page that the playbook defines (the others are reported once to `onError`, `unknown_slot`), none on a page without them. */
  slots?: string[];
  /** Secret to sign the state with and to check it by (a non-empty string of whole characters: no unpaired surrogates). */
  secret?: string;
  render?: Render;
  document?: Document;
  window?: Window;
  /** Options for the state store (mode, name, days, domain). */
  storage?: Omit<StoreOptions, 'consent' | 'document' | 'localStorage'>;
  /** Options for the sender (maxBatch, flushMs, timeoutMs, maxQueue, storageKey). */
  sending?: Pick<SenderOptions, 'maxBatch' | 'flushMs' | 'timeoutMs' | 'maxQueue' | 'storageKey'>;
  localStorage?: StorageLike | null;
  fetch?: FetchLike;
  navigator?: SenderOptions['navigator'];
  /** Source of a random visitor id (default `globalThis.crypto`; see `anonymousId`). */
  crypto?: { randomUUID?(): string; getRandomValues?(array: Uint8Array): Uint8Array };
  now?: () => number;
  random?: () => number;
  setTimeout?: (fn: () => void, ms: number) => TimerHandle;
  clearTimeout?: (handle: TimerHandle) => void;
  /**
   * Errors that were handled: the engine's (a state that does not decode, an
   * event or decision refused), the layer's and the sender's (`LayerError`:
   * `unknown_slot`, `unknown_content`, `invalid_argument`,
   * `invalid_visitor_id`, `batch_refused`, `event_too_large`,
   * `event_not_json`), and whatever a `render` of yours throws.
   */
  onError?: (error: unknown) => void;
  /**
   * The id of a new visitor (one with no stored state): the site's own
   * anonymous id, e.g. analytics.js's `analytics.user().anonymousId()`, so
   * that the signals' `anonymousId` is the one the site already tracks. A
   * function is called once, only when the visitor is new: at start, or, at
   * consent `none` (a random id till then), when consent is given. A stored
   * visitor keeps its id; one that is not a non-empty string, or that the
   * engine refuses (it takes 1–64 letters, digits and `-_.:` and no IP
   * address; it cannot tell a phone number from a random id: pass only an
   * anonymous one), is reported to `onError` and a random id used. A
   * withdrawal (`none`) starts a visitor with a random id, never this one;
   * call `analytics.reset()` then too, or the next page takes the same id back.
   * Default: a random UUID.
   */
  anonymousId?: string | (() => string | null | undefined);
  /**
   * Every decision, as the engine made it. A decision made again on the page
   * (a click, a form, a lowered consent) may hold picks the page does not
   * show (after a click, or when the visitor's situation did not change, the
   * slots keep theirs: `info.rendered` is false; otherwise only changed slots
   * are rendered), and a Content Recommended the layer does not send (the
   * page's picks are reported once; later only the slots that changed).
   * While the page is prerendered (Speculation Rules), decisions are made on
   * a copy of the visitor, rendered, and neither stored nor reported; the
   * page is decided again when shown (`prerenderingchange`), and that
   * decision is stored and reported.
   */
  onDecision?: (decision: Decision, info: { rendered: boolean }) => void;
  /**
   * The first decision was made and reported by an edge worker (it sent the
   * page's Content Recommended itself): the layer counts the picks the page
   * shows as reported, and later decisions keep the page as it is unless the
   * visitor's situation changes, as after a decision of its own.
   */
  firstReported?: boolean;
  /** Another open tab of the site lowered the consent (a withdrawal): it applies here already; update your UI. */
  onConsent?: (level: Consent) => void;
  /** Global Privacy Control (default `navigator.globalPrivacyControl`): when on, `full` is capped at `anonymous` and no signal is sent. */
  gpc?: boolean;
  /** The channel between tabs (default `globalThis.BroadcastChannel`; `null`: none). */
  BroadcastChannel?: (new (name: string) => BroadcastChannel) | null;
  /**
   * A single-page app: the layer calls `page()` itself on `popstate` and on
   * `history.pushState` / `replaceState` (wrapped; `stop()` unwraps them),
   * once the route has rendered: after the next animation frame and a task
   * (a task alone in a hidden tab). Several changes in one frame count once.
   * A router that renders later than that (a route that loads its data after
   * the URL changes) would be read half-rendered (the new path, the old
   * content id and slots): leave `spa` off there and call `page()` from the
   * router's "route rendered" hook (with `spa` on too, that call would make
   * a second page view). Default false.
   */
  spa?: boolean;
}

export interface Buyerpath {
  /**
   * The visitor this tab continues. When another open tab of the site has
   * stored a newer state, the next event or decision continues from that
   * one, and this is then a new object.
   */
  readonly visitor: Visitor;
  /** The latest decision (null until one succeeds); see `onDecision` for how it relates to what the page shows. */
  readonly decision: Decision | null;
  /** The consent level in force in this tab (after the Global Privacy Control cap). */
  readonly consent: Consent;
  /**
   * Propagates to the store and the sender; `none` erases both, and this tab
   * goes on with a fresh visitor (in memory): nothing from before the
   * withdrawal comes back with a later consent. A lower level than before
   * reaches the site's other open tabs; a tab lowered to `anonymous` decides
   * again (rendering the slots whose picks changed, and queuing its signals) before it stores the state,
   * so that the BANT answers and the job title's role are not kept. A level given after
   * `none` decides again at once, so that what was decided at `none` is signalled now.
   */
  setConsent(level: Consent): void;
  /**
   * An event the page knows of and auto-tracking does not (a calculator
   * result, a video, a trial; `ts` is now when missing or null, and never
   * later than now): observed, then decided again as after a form (when the
   * visitor's situation changed (qualified, fit tier, stage, role, lifecycle
   * step or action), the slots whose picks changed are rendered, and picks not
   * yet reported on the page are reported), and stored. Returns that decision (null if observing or
   * deciding failed: the error goes to `onError`, or after `stop()`).
   */
  track(event: Omit<BuyerpathEvent, 'ts'> & { ts?: number }): Decision | null;
  /**
   * A single-page app's route change, called once the new route has
   * rendered (or by the layer itself: `spa`). When the page changed (its
   * path or its content id: a query or a hash alone is the same page), the
   * previous route's held page view is observed with its dwell, and the new
   * route is a page view as a load would be: its path, content id, campaign
   * (`utm_*`, unless the host passed `context.campaign`) and
   * `data-bp-slot` elements read again, no referrer (the site itself), and
   * decided, rendered and reported afresh. Returns that decision; null when
   * the page did not change, after `stop()`, or when deciding failed (the
   * error goes to `onError`).
   */
  page(): Decision | null;
  /** Ends everything the layer started: listeners, timers, the sender, the `spa` wrapping of `history`. */
  stop(): void;
}

export function start(options: StartOptions): Buyerpath;
export function defaultRender(element: Element, slot: SlotResult, options?: { document?: Document }): void;
export function safeHref(url: unknown): string | null;
export function newId(crypto?: StartOptions['crypto']): string;

/** The BroadcastChannel name on which a tab's lowered consent reaches the others. */
export declare const CONSENT_CHANNEL: 'buyerpath:consent';
/** Signals the sender drops last when its queue overflows. */
export declare const ESSENTIAL_EVENTS: readonly EssentialEvent[];
/** The event that reports dropped signals. */
export declare const DROPPED_EVENT: 'Signals Dropped';
