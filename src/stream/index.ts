export { type EditBudgetOptions, EditBudgets, type EditBudgetsOptions, TokenBucket } from "./budget.js";
export { systemClock } from "./clock.js";
export { defaultWarning, finalText, UNFINISHED_NOTE } from "./final.js";
export { DEFAULT_CURSOR, type RenderOptions, type RenderResult, renderByEditing } from "./render.js";
export { type Part, planSplit, splitMessage } from "./split.js";
export {
  type Clock,
  type EditableReply,
  type EditBudget,
  type EditPriority,
  type MessageRef,
  PlatformRateLimitError,
} from "./types.js";
