export { Bot, type BotOptions } from "./bot.js";
export { ModelCallLimiter } from "./model-calls.js";
export { KeyedQueue } from "./queue.js";
export { whenTurnStarts } from "./started.js";
export type { Surface } from "./surface.js";
export { type Presser, type StopOutcome, TurnTracker } from "./tracker.js";
export type { Incoming, TurnStats } from "./types.js";
