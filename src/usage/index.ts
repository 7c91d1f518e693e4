export { parseUsageCommand, runUsageCommand } from "./command.js";
export { formatExport } from "./export.js";
export { settleUsage } from "./figures.js";
export { type Totals, type TurnUsage, tokensOf, type UsageSubject } from "./ledger.js";
export { UsageMeter, type UsageMeterOptions } from "./meter.js";
export { parseDay } from "./periods.js";
