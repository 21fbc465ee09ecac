// Type declarations for `buyerpath/page` (every entry: browser, node, workerd,
// deno): the page build, without the JSON playbook compiler. An engine comes
// compiled ahead by `buyerpath compile` and loads with `Engine.fromBytes`;
// visitors, decisions and errors are the package's own.
import type { DecodeOptions, Visitor } from '../index.js';

export { Visitor } from '../index.js';
export type {
  Consent, DecodeOptions, Issue, BuyerpathError, Condition, EventType, BuyerpathEvent, DecideContext,
  DecideRequest, Observed, GateResult, CriterionResult, FitResult, EngagementResult, Probability,
  StageResult, RoleResult, LifecycleResult, ContentPick, SlotResult, ActionResult, Signal, Decision,
  Playbook, EventMatch,
} from '../index.js';

/** An engine compiled ahead (`buyerpath compile playbook.json -o playbook.bpe`). */
export class Engine {
  /** Not here: `buyerpath/page` has no playbook compiler (`new Engine` throws `no_compiler`). */
  private constructor();
  /**
   * Loads the bytes of `buyerpath compile`'s file, written by the same version
   * of buyerpath. Throws a BuyerpathError: `engine_file_invalid` (damaged,
   * truncated or changed), `engine_file_version`, `invalid_argument` (not bytes).
   */
  static fromBytes(bytes: Uint8Array | ArrayBuffer): Engine;
  /** A fresh visitor with an anonymous id (1–64 of letters, digits, `-_.:`). */
  visitor(id: string): Visitor;
  /** Restores a visitor from `encode()`; with `{ secret }` the state must be signed with it. */
  decode(state: string, options?: DecodeOptions): Visitor;
  readonly playbookId: string;
  readonly revision: number;
  /** Slot ids, in playbook order. */
  readonly slots: string[];
  /** Frees the Wasm memory now (otherwise when garbage-collected). */
  free(): void;
}
