import { runAttachmentBench } from "./attachments/index.js";
import { runDiscordBench } from "./discord.js";
import { runFreshnessBench } from "./freshness/index.js";
import { runHardeningProbe } from "./hardening.js";
import { runReplicaBench } from "./replicas.js";
import { runSettingsBench } from "./settings.js";
import { runSlackBench } from "./slack.js";
import { runStreamBench } from "./stream/index.js";
import { runToolsBench } from "./tools.js";
import { runUsageBench } from "./usage.js";

/**
 * `npm run bench [-- <name>...] [--option=value...]`: runs the named benchmarks
 * (all when none is named), one after the other, each printing its own
 * Markdown table. A new benchmark is one more entry here.
 */
const BENCHMARKS: Record<string, () => Promise<void>> = {
  stream: () => runStreamBench(),
  freshness: () => runFreshnessBench(),
  replicas: () => runReplicaBench(),
  settings: () => runSettingsBench(),
  discord: () => runDiscordBench(),
  attachments: () => runAttachmentBench(),
  slack: () => runSlackBench(),
  hardening: () => runHardeningProbe(),
  usage: () => runUsageBench(),
  tools: () => runToolsBench(),
};

const named = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const unknown = named.filter((n) => !(n in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${Object.keys(BENCHMARKS).join(", ")}`);
  process.exit(2);
}
for (const name of named.length > 0 ? named : Object.keys(BENCHMARKS)) {
  await BENCHMARKS[name]?.();
}
// A benchmark's budgets may still hold a timer for their window (up to a minute): done is done.
process.exit(0);
