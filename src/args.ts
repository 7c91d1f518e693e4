/** What the composition root was started with (see src/main.ts). */
interface Args {
  /** Run the Discord shard manager. */
  shards: boolean;
  /** Start only these surfaces. */
  surfaces: Set<string> | undefined;
  /** Which shard this process is (given by the shard manager). */
  shard: number | undefined;
}

/**
 * `--shards`, `--surfaces=a,b`, `--shard=N` (given by the shard manager);
 * anything else stops start-up with a line saying what is accepted.
 */
export function parseArgs(argv: string[]): Args {
  let shards = false;
  let surfaces: Set<string> | undefined;
  let shard: number | undefined;
  for (const arg of argv) {
    if (arg === "--shards") shards = true;
    else if (/^--shard=\d+$/.test(arg)) shard = Number(arg.slice("--shard=".length));
    else if (arg.startsWith("--surfaces=")) {
      surfaces = new Set(arg.slice("--surfaces=".length).split(",").filter(Boolean));
      const unknown = [...surfaces].filter((s) => !["web", "slack", "discord"].includes(s));
      if (unknown.length > 0)
        throw new Error(`unknown surface ${unknown.join(", ")}: use web, slack, discord`);
    } else throw new Error(`unknown argument ${arg}: use --shards or --surfaces=web,slack,discord`);
  }
  return { shards, surfaces, shard };
}
