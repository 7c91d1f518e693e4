import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

const imports = (path: string) =>
  [...readFileSync(path, "utf8").matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/g)].map(
    (m) => m[1]!,
  );

describe("the core knows no platform (design.md)", () => {
  // The composition roots: the bot (main.ts) and the sharded Discord start (shards.ts).
  const core = files(join(root, "src")).filter((f) => !/src\/(main|shards)\.ts$/.test(f));

  it("nothing in src/ but the composition roots imports from adapters/", () => {
    const offenders = core.filter((f) => imports(f).some((i) => i.includes("adapters/")));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });

  it("nothing in src/ imports @slack/*, discord.js or fastify", () => {
    const offenders = core.flatMap((f) =>
      imports(f)
        .filter((i) => /^(@slack\/|discord\.js|@discordjs\/|fastify)/.test(i))
        .map((i) => `${relative(root, f)} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it("only src/config.ts reads process.env", () => {
    const offenders = files(join(root, "src"))
      .concat(files(join(root, "adapters")))
      .filter((f) => !f.endsWith("src/config.ts") && /process\.env\b/.test(readFileSync(f, "utf8")));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });

  it("no default exports", () => {
    const offenders = core
      .concat(files(join(root, "adapters")))
      .filter((f) => /^export default/m.test(readFileSync(f, "utf8")));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});
