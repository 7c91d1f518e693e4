import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { detectOllama } from "../../src/llm/ollama.js";

describe("detectOllama", () => {
  it("returns the first model of an Ollama that answers /api/tags", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/api/tags")
        res.end(JSON.stringify({ models: [{ name: "llama3.2:latest" }, { name: "qwen" }] }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await detectOllama(url)).toBe("llama3.2:latest");
    server.close();
  });

  it("returns undefined when nothing answers, quickly", async () => {
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.close();
    expect(await detectOllama(url, 300)).toBeUndefined();
  });
});
