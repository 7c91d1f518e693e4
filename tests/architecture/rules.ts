/**
 * The layout rules of ARCHITECTURE.md as functions over a tree of sources
 * (path -> text), so a test can run them on the real tree and on broken
 * examples. Each returns the offending "file -> import" lines.
 */
export type Tree = Record<string, string>;

/**
 * The module specifiers a source imports or re-exports from: `import … from`,
 * `export … from`, a bare `import "x"` and a dynamic `import("x")`.
 */
export function importsOf(source: string): string[] {
  const patterns = [
    /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/g,
    /(?:^|\n)\s*import\s+["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((re) => [...source.matchAll(re)].map((m) => m[1]!));
}

/** A relative import of `from` resolved to a path from the root (no extension change). */
export function resolve(from: string, spec: string): string {
  if (!spec.startsWith(".")) return spec;
  const parts = from.split("/").slice(0, -1);
  for (const piece of spec.split("/")) {
    if (piece === "..") parts.pop();
    else if (piece !== ".") parts.push(piece);
  }
  return parts.join("/");
}

function edges(tree: Tree, filter: (path: string) => boolean): Array<{ file: string; target: string }> {
  return Object.entries(tree)
    .filter(([path]) => filter(path))
    .flatMap(([file, source]) => importsOf(source).map((spec) => ({ file, target: resolve(file, spec) })));
}

const show = (e: { file: string; target: string }) => `${e.file} -> ${e.target}`;
const isCore = (path: string) => path.startsWith("src/");
const isAdapter = (path: string) => path.startsWith("adapters/");

/** Only the composition root (src/main.ts) imports adapters/. */
export function coreImportsAdapters(tree: Tree): string[] {
  return edges(tree, (p) => isCore(p) && p !== "src/main.ts")
    .filter((e) => e.target.startsWith("adapters/"))
    .map(show);
}

/** Nothing in src/ imports a platform SDK or the web framework. */
export function coreImportsPlatforms(tree: Tree): string[] {
  return edges(tree, isCore)
    .filter((e) => /^(@slack\/|discord\.js|@discordjs\/|fastify|@fastify\/)/.test(e.target))
    .map(show);
}

/** An adapter never imports another adapter. */
export function adaptersImportEachOther(tree: Tree): string[] {
  return edges(tree, isAdapter)
    .filter((e) => isAdapter(e.target) && e.target.split("/")[1] !== e.file.split("/")[1])
    .map(show);
}

/**
 * Adapters reach the core only through a module's index (src/turn/index.js)
 * or a one-file module at the top of src/ (src/log.js).
 */
export function adaptersBypassIndex(tree: Tree): string[] {
  return edges(tree, isAdapter)
    .filter((e) => isCore(e.target))
    .filter((e) => !/^src\/[a-z-]+\/index\.js$/.test(e.target) && !/^src\/[a-z-]+\.js$/.test(e.target))
    .map(show);
}

/**
 * Which core module may import which: lower layers never import higher ones.
 * A module not listed here may import any other core module.
 */
const MAY_NOT_IMPORT: Record<string, string[]> = {
  "src/stream/": [
    "src/memory/",
    "src/replicas/",
    "src/turn/",
    "src/llm/",
    "src/attachments/",
    "src/usage/",
    "src/tools/",
  ],
  "src/memory/": [
    "src/llm/",
    "src/stream/",
    "src/replicas/",
    "src/turn/",
    "src/attachments/",
    "src/usage/",
    "src/tools/",
  ],
  "src/llm/": [
    "src/memory/",
    "src/stream/",
    "src/replicas/",
    "src/turn/",
    "src/attachments/",
    "src/usage/",
    "src/tools/",
  ],
  // MCP clients, a round of calls, approvals: they know the model's part types and a stream item, nothing above.
  "src/tools/": ["src/memory/", "src/replicas/", "src/turn/", "src/usage/", "src/attachments/"],
  // Bytes -> model parts: it knows the model's part types (src/llm/), nothing above.
  "src/attachments/": ["src/memory/", "src/stream/", "src/replicas/", "src/turn/", "src/usage/"],
  "src/replicas/": ["src/turn/", "src/llm/"],
  "src/usage/": ["src/turn/", "src/stream/", "src/replicas/"],
};

export function layersBroken(tree: Tree): string[] {
  return edges(tree, isCore)
    .filter((e) => {
      const banned = Object.entries(MAY_NOT_IMPORT).find(([dir]) => e.file.startsWith(dir))?.[1] ?? [];
      return banned.some((dir) => e.target.startsWith(dir));
    })
    .map(show);
}

/** Only the configuration module reads process.env. */
export function envReaders(tree: Tree): string[] {
  return Object.entries(tree)
    .filter(([path, source]) => !path.startsWith("src/config/") && /process\.env\b/.test(source))
    .map(([path]) => path);
}

/** Named exports only. */
export function defaultExports(tree: Tree): string[] {
  return Object.entries(tree)
    .filter(([, source]) => /^export default/m.test(source))
    .map(([path]) => path);
}
