export { Access, type Refusal } from "./access.js";
export {
  MAX_PROMPT_CHARS,
  onOff,
  parseSettingsCommand,
  runSettingsCommand,
  type SettingsCommand,
} from "./command.js";
export {
  describeLimit,
  formatMoney,
  formatTokens,
  isCostLimit,
  LIMIT_KEYS,
  LIMIT_NAMES,
  type LimitKey,
  parseLimitValue,
} from "./limits.js";
export type { Actor, Place } from "./place.js";
export { PlaceSettings } from "./settings.js";
