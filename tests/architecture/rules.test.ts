import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  adaptersBypassIndex,
  adaptersImportEachOther,
  coreImportsAdapters,
  coreImportsPlatforms,
  defaultExports,
  envReaders,
  layersBroken,
  type Tree,
} from "./rules.js";

const root = new URL("../..", import.meta.url).pathname;

function tree(...dirs: string[]): Tree {
  const out: Tree = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) out[relative(root, path)] = readFileSync(path, "utf8");
    }
  };
  for (const dir of dirs) walk(join(root, dir));
  return out;
}

const RULES = {
  "only src/main.ts imports adapters/": coreImportsAdapters,
  "src/ imports no platform SDK or web framework": coreImportsPlatforms,
  "adapters never import each other": adaptersImportEachOther,
  "adapters import core modules only through their index": adaptersBypassIndex,
  "lower core layers never import higher ones (memory does not import llm, ...)": layersBroken,
  "only src/config/ reads process.env": envReaders,
  "no default exports": defaultExports,
};

/** For each rule, a small tree that breaks it. */
const BROKEN: Record<keyof typeof RULES, Tree> = {
  "only src/main.ts imports adapters/": {
    "src/core.ts": 'import { x } from "../adapters/slack/index.js";',
    "src/turn/bot.ts": 'import "../../adapters/web/index.js";',
    "src/texts.ts": 'const web = await import("../adapters/web/index.js");',
  },
  "src/ imports no platform SDK or web framework": {
    "src/turn/bot.ts": 'import { App } from "@slack/bolt";',
  },
  "adapters never import each other": {
    "adapters/slack/answer.ts": 'import { toDiscordText } from "../discord/reply.js";',
  },
  "adapters import core modules only through their index": {
    "adapters/slack/answer.ts": 'import { fitToBudget } from "../../src/memory/fit.js";',
  },
  "lower core layers never import higher ones (memory does not import llm, ...)": {
    "src/memory/fit.ts": 'import type { ChatMessage } from "../llm/types.js";',
  },
  "only src/config/ reads process.env": { "adapters/web/api.ts": "const key = process.env.WEB_API_KEY;" },
  "no default exports": { "src/log.ts": "export default function log() {}" },
};

describe("the layout rules (ARCHITECTURE.md)", () => {
  const real = tree("src", "adapters");
  for (const [name, rule] of Object.entries(RULES)) {
    it(`${name}: holds for the code`, () => expect(rule(real)).toEqual([]));
    it(`${name}: catches a breach`, () =>
      expect(rule(BROKEN[name as keyof typeof RULES])).toHaveLength(
        Object.keys(BROKEN[name as keyof typeof RULES]).length,
      ));
  }

  it("a module's own files and an allowed index import are no breach", () => {
    const fine: Tree = {
      "adapters/slack/answer.ts":
        'import { Bot } from "../../src/turn/index.js";\nimport { x } from "./api.js";',
      "adapters/web/api.ts": 'import type { Logger } from "../../src/log.js";',
      "src/memory/store.ts": 'import { openBackend } from "./backend.js";',
    };
    for (const rule of Object.values(RULES)) expect(rule(fine)).toEqual([]);
  });
});
