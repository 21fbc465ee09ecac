// Type declarations for the buyerpath package (every entry: browser, node,
// workerd, deno). Written by hand from the engine's serde types; the consumer
// test type-checks a file using all of them with `tsc --strict`.

/** Consent levels: `none` stores and sends nothing; `anonymous` uses no person data. */
export type Consent = 'none' | 'anonymous' | 'full';

// ───────────────────────────────────────────────────────────── errors

/** Options of `decode`: `secret` requires a valid signature (without it, a signed state is
 * read without checking its signature, as a page reads the copy its edge gave it: a server
 * must always pass its secret); `now` with `maxIdleMs` (both
 * or neither) refuses (`state_expired`) a state whose visitor was last active longer ago (an
 * old cookie replayed). Anything else (a bare string, an unknown key, a `secret` key whose
 * value is `undefined`, as read from a setting that is not set) throws `invalid_argument`:
 * a misspelt or missing option must not turn the signature check off. */
export interface DecodeOptions {
  secret?: string;
  now?: number;
  maxIdleMs?: number;
}

/** One problem in outside input. */
export interface Issue {
  code: string;
  /** JSON path, e.g. `$.content[3].stages[0]`. */
  path: string;
  message: string;
  expected?: string;
  found?: string;
  /** What to do, e.g. "did you mean `decision`?" */
  hint: string;
}

/** What every method throws on bad input (never a panic). */
export interface BuyerpathError extends Error {
  name: 'BuyerpathError';
  /** Code of the first issue, e.g. `unknown_stage`, `state_bad_signature`; `invalid_argument` for an argument of the wrong type, `freed` for a method called after `free()`, `input_too_large` for a string over 4 Mi characters. */
  code: string;
  path: string;
  /** What to do, e.g. "did you mean `decision`?" */
  hint: string;
  issues: Issue[];
}

// ───────────────────────────────────────────────────────────── inputs

/** A condition in the GrowthBook/MongoDB condition language, plus `$inList`. */
export type Condition = { [pathOrOperator: string]: unknown };

export type EventType =
  | 'page_view'
  | 'cta_click'
  | 'form_submit'
  | 'download'
  | 'video_play'
  | 'search'
  | 'chat_open'
  | 'trial_start'
  | 'custom';

/** An event the engine observes. Unknown fields are refused. */
export interface BuyerpathEvent {
  type: EventType;
  /** Milliseconds since the epoch. */
  ts: number;
  content_id?: string;
  /** URL path (not stored). */
  url?: string;
  dwell_seconds?: number;
  /** Kind of CTA clicked: `demo`, `trial`, `contact_sales`... */
  cta?: string;
  /** Form id for `form_submit`. */
  form?: string;
  /** Form answers; only BANT answers are read, and only as buckets. */
  fields?: Record<string, string>;
  /** Name of a custom event. */
  name?: string;
}

export interface DecideContext {
  /** Default `none`: privacy first. */
  consent?: Consent;
  /** Firmographics (enrichment, reverse IP, edge geo): `domain`, `industry`, `employees`, `country`... */
  company?: Record<string, unknown>;
  /**
   * Only the job title and the department are accepted (read with consent
   * `full`, never sent); e-mail, name or phone are refused.
   */
  person?: { title?: string; department?: string };
  /** The central store's account snapshot: `tier`, `customer`, `stage`, `roles_engaged`... */
  account?: Record<string, unknown>;
  /**
   * The page: its catalogue id, its path, and `referrer`, the referring
   * site's host (`www.g2.com`; a URL given is read down to its host, and one
   * that looks personal is dropped), read by `page.referrer` conditions. The
   * browser layer fills the referrer in from `document.referrer` when it is
   * another site.
   */
  page?: { content_id?: string; url?: string; referrer?: string };
  /**
   * UTM parameters (`utm_source`, `utm_medium`, `utm_campaign`), read by
   * `campaign.*` conditions at any consent (a value that looks personal is
   * dropped). At `full` only, the signals carry them as `context.campaign`
   * and the state keeps the first and last campaign. The browser layer fills
   * them in from the page URL unless given.
   */
  campaign?: { source?: string; medium?: string; name?: string };
  /** The host believes this is a bot: content is shown, nothing is scored or reported. */
  bot?: boolean;
}

/**
 * How much of a decision its answer holds. `brief` leaves out the lists that
 * explain the numbers (the gates, the fit criteria, the top engagement rules,
 * the stage and role distributions, the role's evidence, each pick's
 * reasons): 35–55% less text with consent (more without, when there are no
 * signals), for a page that only shows the picks. The
 * decision is the same; `explain()` still reports all of it.
 */
export type Detail = 'full' | 'brief';

export interface DecideRequest {
  /** Milliseconds since the epoch. */
  now: number;
  /** Slot ids to fill: all when omitted, none when empty (the visitor is classified, no pick is made or reported). */
  slots?: string[];
  context?: DecideContext;
  /** `full` when omitted. */
  detail?: Detail;
}

/** What one observed event did. */
export interface Observed {
  /** Ignored as part of a bot-like burst. */
  burst: boolean;
  /** [rule id, points after the daily cap] for every engagement rule that matched. */
  points: [string, number][];
  hand_raise?: string;
}

// ───────────────────────────────────────────────────────────── the decision

export interface GateResult {
  id: string;
  kind: 'territory' | 'industry' | 'size' | 'exclusion' | 'custom';
  status: 'pass' | 'fail' | 'unknown';
}

export interface CriterionResult {
  id: string;
  /** Matching band label, or `otherwise`. */
  band: string;
  points: number;
}

export interface FitResult {
  /** 0–100. */
  score: number;
  tier: string;
  /** Share (0–1) of the reachable points whose attribute is known. */
  coverage: number;
  criteria: CriterionResult[];
  /** Fit came from the visitor state, where a decision with the criteria put it (the edge's): this playbook has none. A browser's copy of the state is unsigned, so the visitor could have changed it. */
  from_state?: boolean;
}

export interface EngagementResult {
  /** 0–100 after decay and caps. */
  score: number;
  points: number;
  top: { rule: string; points: number }[];
  ignored_events: number;
}

export interface Probability {
  id: string;
  p: number;
}

export interface StageResult {
  id: string;
  confidence: number;
  changed: boolean;
  previous?: string;
  moved_back: boolean;
  distribution: Probability[];
}

export interface RoleResult {
  /** A role id, or `unknown` below the confidence floor (`min_confidence`) or with no evidence yet (the priors alone name no role). */
  id: string;
  confidence: number;
  seniority?: string;
  evidence: ('title' | 'department' | 'bant' | 'behaviour')[];
  distribution: Probability[];
}

export interface LifecycleResult {
  stage: 'anonymous' | 'engaged' | 'mql' | 'sql';
  reason: string;
  changed: boolean;
}

export interface ContentPick {
  id: string;
  title: string;
  url: string;
  format: string;
  cta: string;
  score: number;
  /** Why, largest contribution first. */
  reasons: string[];
}

export interface SlotResult {
  slot: string;
  picks: ContentPick[];
  /** The slot shows its default (holdout, or nothing eligible). */
  default: boolean;
}

export interface ActionResult {
  /** `talk_to_sales`, `self_serve`, `nurture` or the playbook's own. */
  id: string;
  label: string;
  cta?: string;
}

/** A Segment-compatible `track` event. */
export interface Signal {
  type: 'track';
  event:
    | 'Visitor Classified'
    | 'Stage Changed'
    | 'Content Recommended'
    | 'MQL Reached'
    | 'SQL Reached'
    | 'Sales Trigger Fired';
  anonymousId: string;
  /** Deterministic: the same decision always yields the same id. */
  messageId: string;
  /** ISO 8601. */
  originalTimestamp: string;
  properties: Record<string, unknown>;
  context: {
    library: { name: 'buyerpath'; version: string };
    consent: Consent;
    playbook: { id: string; revision: number };
    page?: { path: string };
    campaign?: { source?: string; medium?: string; name?: string };
  };
}

export interface Decision {
  visitor_id: string;
  /** Decision number for this visitor (1-based). */
  seq: number;
  now: number;
  playbook: { id: string; revision: number };
  qualified: boolean;
  gates: GateResult[];
  fit: FitResult;
  engagement: EngagementResult;
  stage: StageResult;
  role: RoleResult;
  lifecycle: LifecycleResult;
  triggers: { id: string; label: string }[];
  holdout: boolean;
  explored: boolean;
  slots: SlotResult[];
  action: ActionResult;
  /** Ready to send (empty without consent). */
  signals: Signal[];
}

/** A decision answered with `detail: 'brief'`: every key of `Decision` but the explaining lists. */
export interface BriefDecision extends Omit<Decision, 'gates' | 'fit' | 'engagement' | 'stage' | 'role' | 'slots'> {
  fit: Omit<FitResult, 'criteria'>;
  engagement: Omit<EngagementResult, 'top'>;
  stage: Omit<StageResult, 'distribution'>;
  role: Omit<RoleResult, 'evidence' | 'distribution'>;
  slots: (Omit<SlotResult, 'picks'> & { picks: Omit<ContentPick, 'reasons'>[] })[];
}

// ───────────────────────────────────────────────────────────── the playbook

export interface Playbook {
  $schema?: string;
  version: 1;
  id: string;
  revision: number;
  name?: string;
  lists?: Record<string, { kind?: 'domain' | 'text'; salt?: string; values: string[] }>;
  stages: { id: string; label?: string; prior?: number; requires?: Condition; next?: string }[];
  stage_model?: {
    half_life_days?: number;
    hysteresis?: number;
    content_view_weight?: number;
    account_prior_weight?: number;
    rules?: (EventMatch & { id: string; stage: string; weight: number })[];
  };
  roles: { id: string; label?: string; titles?: string[]; departments?: string[]; prior?: number }[];
  role_model?: {
    title_weight?: number;
    content_view_weight?: number;
    half_life_days?: number;
    min_confidence?: number;
    synonyms?: Record<string, string>;
    seniority?: { id: string; titles: string[]; multiplier?: number }[];
  };
  gates?: { id: string; label?: string; kind: GateResult['kind']; require?: Condition; exclude?: Condition }[];
  fit: {
    criteria: {
      id: string;
      label?: string;
      attribute: string;
      weight?: number;
      bands: { label?: string; min?: number; max?: number; in?: string[]; when?: Condition; points: number }[];
      otherwise?: number;
    }[];
    tiers: { id: string; min: number }[];
  };
  engagement: {
    saturation: number;
    half_life_days?: number;
    burst?: { window_seconds?: number; max_events?: number };
    rules: (EventMatch & {
      id: string;
      label?: string;
      points: number;
      half_life_days?: number;
      daily_cap?: number;
      only_if?: Condition;
      traits?: string[];
    })[];
  };
  bant?: {
    id: string;
    field: string;
    options: { id: string; values?: string[]; qualifying?: boolean; role?: string }[];
  }[];
  lifecycle: {
    engaged_min: number;
    mql: Record<string, number>;
    hand_raise?: (EventMatch & { id: string })[];
    bant_sql?: boolean;
  };
  triggers?: { id: string; label?: string; when: Condition }[];
  content: {
    id: string;
    title: string;
    url: string;
    format: string;
    stages?: string[];
    roles?: string[];
    industries?: string[];
    topics?: string[];
    gated?: boolean;
    priority?: number;
    start?: string;
    end?: string;
    when?: Condition;
    cta?: string;
    prior?: { alpha: number; beta: number };
  }[];
  slots: { id: string; formats: string[]; count?: number; default: string }[];
  actions?: { id: string; label?: string; when?: Condition; cta?: string }[];
  recommend?: {
    stage_weight?: number;
    next_stage_weight?: number;
    role_weight?: number;
    industry_weight?: number;
    topic_weight?: number;
    priority_weight?: number;
    action_weight?: number;
    max_per_format?: number;
    max_per_topic?: number;
    gated_requires?: Condition;
    exploration?: { enabled?: boolean; weight?: number; shortlist?: number };
  };
  holdout?: { percent?: number; seed?: string };
  state?: { recent_events?: number; consumed_limit?: number; consumed_min_dwell_seconds?: number };
  signals?: { emit?: Signal['event'][] };
}

/** Matches an event in engagement, stage and hand-raise rules. */
export interface EventMatch {
  event: EventType | '*';
  formats?: string[];
  when?: Condition;
}

// ───────────────────────────────────────────────────────────── the classes

/**
 * What an engine offers, however it was made: `buyerpath`'s compiles a
 * playbook, `buyerpath/page`'s loads one compiled ahead. `V` is the module's
 * own `Visitor`: each module's visitors work only with its own engines.
 */
export interface EngineApi<V = Visitor> {
  /** A fresh visitor with an anonymous id (1–64 of letters, digits, `-_.:`). */
  visitor(id: string): V;
  /** Restores a visitor from `encode()`; with `{ secret }` the state must be signed with it. */
  decode(state: string, options?: DecodeOptions): V;
  readonly playbookId: string;
  readonly revision: number;
  /** Slot ids, in playbook order. */
  readonly slots: string[];
  /** Each catalogue item's `[url, id]`, in playbook order: maps a request's path to the page's `content_id`. */
  contentUrls(): [url: string, id: string][];
  /** Frees the Wasm memory now (otherwise when garbage-collected). A second call does nothing; any other method after it throws `freed`. */
  free(): void;
}

/** A compiled playbook; build it once, use it for every visitor. */
export interface Engine extends EngineApi<Visitor> {}
export class Engine {
  /** Compiles a playbook (JSON string or object); throws a BuyerpathError listing every problem. */
  constructor(playbook: string | Playbook);
  /** This module's (an engine of `buyerpath/page` lives in another Wasm memory). */
  private readonly __module: 'buyerpath';
}

/** What a visitor offers (the same in `buyerpath/page`). */
export interface VisitorApi {
  readonly id: string;
  /** When the visitor was last active (ms since the epoch; 0: never): the latest event, else the first decision. */
  readonly lastActive: number;
  /** The state was written by another revision of the playbook and was migrated. */
  readonly migrated: boolean;
  observe(event: BuyerpathEvent | string): Observed;
  /** `observe` with JSON text in and out. */
  observeJson(event: string): string;
  /**
   * `observeJson` without its answer: folds the event (JSON text) into the
   * state the same way and returns nothing; the same errors. For hosts that do
   * not read the answer (the edge worker folds a page's events this way).
   */
  recordJson(event: string): void;
  /** With `detail: 'brief'`, the decision without its explaining lists. */
  decide(request: DecideRequest & { detail: 'brief' }): BriefDecision;
  /** The decision (a JSON string request is typed as a full one: it says its own `detail`). */
  decide(request: (DecideRequest & { detail?: 'full' }) | string): Decision;
  /**
   * A request whose `detail` is known only at run time (a variable typed
   * `DecideRequest`, or `DecideRequest | string`): either kind of answer.
   */
  decide(request: DecideRequest | string): Decision | BriefDecision;
  /**
   * `decide` with JSON text in and out: the exact bytes every runtime
   * reproduces (ASCII: non-ASCII characters as `\uXXXX` escapes); brief
   * when the request says `"detail":"brief"`.
   */
  decideJson(request: string): string;
  /**
   * Gates, fit and engagement only, as `decide` would report them for the same
   * request (JSON text in and out: `{ qualified, gates, fit, engagement }`); the
   * state is not changed and no signal is built. The request's `slots` are not
   * read (nothing is ranked), so an unknown slot is not an error here; with
   * `"detail":"brief"`, no gates, fit criteria or top engagement rules.
   */
  scoreJson(request: string): string;
  /** The state as a cookie-safe string (≤ 1,200 characters unless points from ~50+ rules); signed with `secret` (a non-empty string; `''` throws `invalid_argument`). */
  encode(secret?: string): string;
  /** The last decision as a readable report (`''` before the first decision). */
  explain(): string;
  /** Frees the Wasm memory now (otherwise when garbage-collected). A second call does nothing; any other method after it throws `freed`. */
  free(): void;
}

/** One visitor's state, kept in Wasm memory between calls. */
export interface Visitor extends VisitorApi {}
export class Visitor {
  /** Visitors come from `engine.visitor(id)`, `engine.decode` or `Visitor.decode`. */
  private constructor();
  /** `Visitor.decode(engine, state, { secret })`, the same as `engine.decode`. */
  static decode(engine: Engine, state: string, options?: DecodeOptions): Visitor;
  /** This module's (see `Engine`). */
  private readonly __module: 'buyerpath';
}

/**
 * One condition of the playbook language (GrowthBook/MongoDB style), compiled
 * once and evaluated against attribute documents.
 */
export class CompiledCondition {
  /** Compiles a condition (JSON string or object); throws a BuyerpathError listing every problem. */
  constructor(condition: string | Condition);
  /** Whether the attributes (JSON string or object) satisfy the condition. */
  eval(attributes: string | Record<string, unknown>): boolean;
  /** Frees the Wasm memory now (otherwise when garbage-collected). A second call does nothing; any other method after it throws `freed`. */
  free(): void;
}

/**
 * Compiles and evaluates a condition once, with the argument order and the
 * leniency of GrowthBook's `evalCondition`: an operator used wrongly (an
 * unknown `$op`, `{ "$in": 1 }`) makes that operator's own test false
 * instead of throwing (so `$not` of it is true), where `new
 * CompiledCondition` refuses the condition with every problem.
 * Throws only for input it cannot read (JSON, depth, size, argument type).
 */
export function evalCondition(attributes: string | Record<string, unknown>, condition: string | Condition): boolean;
