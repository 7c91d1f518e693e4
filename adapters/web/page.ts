import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** What the chat page learns from GET /ui/config before its first request. */
export interface PageConfig {
  /** The glyph shown at the end of a reply while it streams. */
  cursor: string;
  /** Whether API routes need `Authorization: Bearer <key>` (the page then asks for it). */
  authRequired: boolean;
  maxMessageChars: number;
  /** What the page may attach: total bytes per message, bytes per file, files per message (0: none). */
  maxUploadBytes: number;
  maxFileBytes: number;
  maxFiles: number;
  model: { configured: boolean; message?: string };
}

/**
 * The page's files live in adapters/web/page/, which tsc does not copy to
 * dist/. Walking up to package.json finds them from the sources (tsx, vitest)
 * and from dist/adapters/web/ alike.
 */
export function findProjectRoot(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
}

interface Asset {
  body: string;
  type: string;
}

function loadAssets(): Record<string, Asset> {
  const pageDir = join(findProjectRoot(), "adapters", "web", "page");
  const require = createRequire(import.meta.url);
  const markedDir = dirname(require.resolve("marked/package.json"));
  // Without the map files next to them, sourceMappingURL lines only make browser devtools ask for a 404.
  const read = (path: string, type: string): Asset => ({
    body: readFileSync(path, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, ""),
    type,
  });
  return {
    "/": read(join(pageDir, "index.html"), "text/html; charset=utf-8"),
    "/assets/app.js": read(join(pageDir, "app.js"), "text/javascript; charset=utf-8"),
    "/assets/sse.js": read(join(pageDir, "sse.js"), "text/javascript; charset=utf-8"),
    "/assets/files.js": read(join(pageDir, "files.js"), "text/javascript; charset=utf-8"),
    "/assets/markdown.js": read(join(pageDir, "markdown.js"), "text/javascript; charset=utf-8"),
    "/assets/app.css": read(join(pageDir, "app.css"), "text/css; charset=utf-8"),
    "/assets/markdown.css": read(join(pageDir, "markdown.css"), "text/css; charset=utf-8"),
    "/assets/marked.js": read(join(markedDir, "lib", "marked.umd.js"), "text/javascript; charset=utf-8"),
    "/assets/purify.js": read(require.resolve("dompurify/purify.min.js"), "text/javascript; charset=utf-8"),
  };
}

/**
 * No inline script, no foreign origin: even if sanitizing ever missed
 * something, the browser would refuse to run it.
 */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function wantsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? "").toLowerCase().includes("text/html");
}

/** GET / (the page for browsers, a status for API clients), the page's assets and GET /ui/config. */
export function registerPageRoutes(app: FastifyInstance, pageConfig: () => PageConfig): void {
  // Read once: the files do not change while the server runs.
  const assets = loadAssets();

  app.get("/", async (request, reply) => {
    reply.header("vary", "Accept");
    if (!wantsHtml(request)) return { status: "healthy", service: "chatbot" };
    const page = assets["/"]!;
    return reply
      .type(page.type)
      .header("content-security-policy", PAGE_CSP)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("cache-control", "no-cache")
      .send(page.body);
  });

  for (const [path, asset] of Object.entries(assets)) {
    if (path === "/") continue;
    app.get(path, async (_request, reply) =>
      reply
        .type(asset.type)
        .header("x-content-type-options", "nosniff")
        .header("cache-control", "no-cache")
        .send(asset.body),
    );
  }

  app.get("/ui/config", async (_request, reply) => {
    reply.header("cache-control", "no-store");
    return pageConfig();
  });
}
