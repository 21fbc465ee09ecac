// Type declarations for `buyerpath/page` (every entry: browser, node, workerd,
// deno): the page build, without the JSON playbook compiler. An engine comes
// compiled ahead by `buyerpath compile` and loads with `Engine.fromBytes`;
// visitors, decisions and errors are the package's own.
import type { EngineApi } from '../index.js';

export { Visitor } from '../index.js';
export type {
  Consent, DecodeOptions, Issue, BuyerpathError, Condition, EventType, BuyerpathEvent, DecideContext,
  DecideRequest, Observed, GateResult, CriterionResult, FitResult, EngagementResult, Probability,
  StageResult, RoleResult, LifecycleResult, ContentPick, SlotResult, ActionResult, Signal, Decision,
  Playbook, EventMatch, EngineApi,
} from '../index.js';

/** An engine compiled ahead (`buyerpath compile playbook.json -o playbook.bpe`). */
export interface Engine extends EngineApi {}
export class Engine {
  /** Not here: `buyerpath/page` has no playbook compiler (`new Engine` throws `no_compiler`). */
  private constructor();
  /**
   * Loads the bytes of `buyerpath compile`'s file, written by the same version
   * of buyerpath. Throws a BuyerpathError: `engine_file_invalid` (damaged,
   * truncated or changed), `engine_file_version`, `invalid_argument` (not bytes).
   */
  static fromBytes(bytes: Uint8Array | ArrayBuffer): Engine;
}
