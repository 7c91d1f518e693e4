export { Access, type Refusal } from "./access.js";
export {
  MAX_PROMPT_CHARS,
  onOff,
  parseSettingsCommand,
  runSettingsCommand,
  type SettingsCommand,
} from "./command.js";
export type { Actor, Place, Scope } from "./place.js";
export {
  type Defaults,
  PlaceSettings,
  type Resolved,
  type SettingKey,
  type SettingValues,
} from "./settings.js";
