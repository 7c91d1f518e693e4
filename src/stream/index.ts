export { EditBudgets, TokenBucket } from "./budget.js";
export { systemClock } from "./clock.js";
export { closeEarly, finalText, sendFinal, UNFINISHED_NOTE, withNotices } from "./final.js";
export { RenderOrder } from "./order.js";
export { renderByEditing } from "./render.js";
export { planSplit, type Render, splitMessage } from "./split.js";
export {
  type Clock,
  type EditableReply,
  type EditBudget,
  type EditBudgetSource,
  type EditPriority,
  type MessageRef,
  PlatformRateLimitError,
  type RenderOptions,
  type StreamItem,
  type ToolStatus,
  type Update,
} from "./types.js";
