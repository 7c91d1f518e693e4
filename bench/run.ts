import { runHardeningProbe } from "./hardening.js";
import { runReplicaBench } from "./replicas.js";
import { runStreamBench } from "./stream/index.js";

/**
 * `npm run bench [-- <name>...] [--option=value...]`: runs the named benchmarks
 * (all when none is named), one after the other, each printing its own
 * Markdown table. A new benchmark is one more entry here.
 */
const BENCHMARKS: Record<string, () => Promise<void>> = {
  stream: () => runStreamBench(),
  replicas: () => runReplicaBench(),
  hardening: () => runHardeningProbe(),
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
