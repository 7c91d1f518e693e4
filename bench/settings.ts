import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { silentLogger } from "../src/log.js";
import { createStore } from "../src/memory/store.js";
import { PlaceSettings } from "../src/settings/index.js";
import { BACKENDS, reachable } from "../tests/helpers/backends.js";

/**
 * What reading a place's settings adds to a turn: PlaceSettings.resolve (the
 * channel's and the workspace's records in one round trip), p50/p99, on
 * SQLite and Redis (and Postgres when it answers), with settings set at both
 * scopes as in a configured workspace.
 */

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

async function measure(url: string, reads: number): Promise<{ p50: number; p99: number }> {
  const store = createStore(url, { maxMessages: 100, ttlMs: 600_000, purgeIntervalMs: 0 });
  const settings = new PlaceSettings(
    store.state,
    { model: "fast", prompt: "Default.", models: ["fast", "strong"] },
    silentLogger(),
  );
  const actor = { id: "U0ADMIN", name: "Ada", isPlatformAdmin: true };
  const workspace = `T${randomUUID()}`;
  const places = Array.from({ length: 50 }, (_, i) => ({ platform: "slack", workspace, channel: `C${i}` }));
  await settings.set(places[0]!, "workspace", "prompt", "A terse code reviewer.", actor);
  for (const place of places.slice(0, 25)) await settings.set(place, "channel", "model", "strong", actor);
  for (let i = 0; i < 50; i++) await settings.resolve(places[i % places.length]!);
  const times: number[] = [];
  for (let i = 0; i < reads; i++) {
    const started = performance.now();
    await settings.resolve(places[i % places.length]!);
    times.push(performance.now() - started);
  }
  await store.close();
  return { p50: pct(times, 50), p99: pct(times, 99) };
}

export async function runSettingsBench(reads = 2_000): Promise<void> {
  console.log(`\n### Per-place settings: added cost of reading them for a turn (${reads} reads)\n`);
  console.log("| backend | resolve p50 / p99 (ms) |\n|---|---|");
  const dir = mkdtempSync(join(tmpdir(), "chatbot-bench-settings-"));
  const backends: Array<[string, string]> = [["sqlite", `sqlite://${join(dir, "s.sqlite")}`]];
  if (await reachable(BACKENDS.redis)) backends.push(["redis", BACKENDS.redis]);
  if (await reachable(BACKENDS.postgres)) backends.push(["postgres", BACKENDS.postgres]);
  for (const [name, url] of backends) {
    const r = await measure(url, reads);
    console.log(`| ${name} | ${r.p50.toFixed(3)} / ${r.p99.toFixed(3)} |`);
  }
  rmSync(dir, { recursive: true, force: true });
}
