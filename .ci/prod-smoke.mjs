// Starts the production build (node dist/src/main.js) as the Docker image does,
// with only runtime dependencies installed, and checks that it serves the chat
// page and /health, then stops cleanly on SIGTERM. Exit code 0 when all holds.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "chatbot-prod-"));
const child = spawn(process.execPath, ["dist/src/main.js"], {
  env: {
    PATH: process.env.PATH,
    PORT: "0",
    STORE_URL: `sqlite://${join(dir, "prod.sqlite")}`,
    LOG_LEVEL: "info",
  },
  stdio: ["ignore", "pipe", "pipe"],
});
let out = "";
child.stdout.on("data", (c) => (out += c));
child.stderr.on("data", (c) => (out += c));
const exited = new Promise((resolve) => child.on("exit", resolve));
const fail = (why) => {
  console.error(`prod smoke: ${why}\n${out}`);
  child.kill("SIGKILL");
  process.exit(1);
};
const deadline = Date.now() + 30_000;
let base;
while (!base) {
  if (Date.now() > deadline) fail("the bot did not start listening within 30 s");
  if (child.exitCode !== null) fail(`the bot exited with ${child.exitCode}`);
  base = out.match(/chat page and API at (http:\/\/127\.0\.0\.1:\d+)\//)?.[1];
  await new Promise((r) => setTimeout(r, 100));
}
const health = await fetch(`${base}/health`);
if (health.status !== 200) fail(`/health answered ${health.status}`);
const page = await fetch(`${base}/`, { headers: { accept: "text/html" } });
const html = await page.text();
if (page.status !== 200 || !html.includes("<html")) fail(`the chat page answered ${page.status}`);
const asset = await fetch(`${base}/assets/app.js`);
if (asset.status !== 200) fail(`the page script answered ${asset.status}`);
child.kill("SIGTERM");
const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 15_000))]);
if (code !== 0) fail(`SIGTERM ended the bot with ${code}`);
console.log("prod smoke: the production build serves the chat page and /health, and stops cleanly");
