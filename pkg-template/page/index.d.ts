// Type declarations for `buyerpath/page` (every entry: browser, node, workerd,
// deno): the page build, without the JSON playbook compiler. An engine comes
// compiled ahead by `buyerpath compile` and loads with `Engine.fromBytes`;
// decisions and errors are the package's own; its engines and visitors work
// only with each other (each module has its own Wasm memory).
import type { DecodeOptions, EngineApi, VisitorApi } from '../index.js';

export type {
  Consent, DecodeOptions, Issue, BuyerpathError, Condition, EventType, BuyerpathEvent, DecideContext,
  Detail, DecideRequest, Observed, GateResult, CriterionResult, FitResult, EngagementResult, Probability,
  StageResult, RoleResult, LifecycleResult, ContentPick, SlotResult, ActionResult, Signal, Decision,
  BriefDecision, Playbook, EventMatch, EngineApi, VisitorApi,
} from '../index.js';

/** An engine compiled ahead (`buyerpath compile playbook.json -o playbook.bpe`). */
export interface Engine extends EngineApi<Visitor> {}
export class Engine {
  /** Not here: `buyerpath/page` has no playbook compiler (`new Engine` throws `no_compiler`). */
  private constructor();
  /**
   * Loads the bytes of `buyerpath compile`'s file, written by the same version
   * of buyerpath. Throws a BuyerpathError: `engine_file_invalid` (damaged,
   * truncated or changed after its version: the file carries a checksum), `engine_file_version`, `invalid_argument` (not bytes, or no bytes: an empty file, or a buffer transferred to a worker).
   */
  static fromBytes(bytes: ArrayBufferView | ArrayBuffer): Engine;
  /** This module's: `buyerpath`'s engines and visitors are another Wasm memory's. */
  private readonly __module: 'buyerpath/page';
}

/** One visitor's state, kept in this module's Wasm memory between calls. */
export interface Visitor extends VisitorApi {}
export class Visitor {
  /** Visitors come from `engine.visitor(id)`, `engine.decode` or `Visitor.decode`. */
  private constructor();
  /** `Visitor.decode(engine, state, { secret })`, the same as `engine.decode`. */
  static decode(engine: Engine, state: string, options?: DecodeOptions): Visitor;
  /** This module's (see `Engine`). */
  private readonly __module: 'buyerpath/page';
}
