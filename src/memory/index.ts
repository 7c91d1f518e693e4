export type { AtomicOps, Coordination, SharedWindows } from "./backend.js";
export { checkStoreAtStart, redactUrl } from "./check.js";
export type { CounterIncrement, Counters, CounterValues } from "./counters.js";
export { fitToBudget, type TokenCounter } from "./fit.js";
export { createStore, KeyvConversationStore } from "./store.js";
export { tokenCounterFor } from "./tokens.js";
export type {
  Author,
  ConversationStore,
  MessageSlot,
  NewAttachment,
  StateStore,
  StoredMessage,
  StoredToolRound,
} from "./types.js";
export type { WaitingLists } from "./waiting.js";
