import { randomUUID } from "node:crypto";
import { sleep } from "../sleep.js";
import type { EditBudget, EditPriority } from "../stream/types.js";

/** Hands out the budget of a scope; `EditBudgets` (src/stream/budget.ts) is the in-process one. */
export interface EditBudgetSource {
  get(scopeKey: string): EditBudget;
}

type RedisEval = (script: string, keys: string[], args: string[]) => Promise<unknown>;

/**
 * A sliding window of at most ARGV[1] grants per ARGV[2] ms, counted in Redis
 * for every replica at once, using Redis's own clock so replicas' clocks need
 * not agree. Returns 0 when granted, else how long to wait (ms). A pause key
 * (set after a 429) blocks every replica until it expires.
 */
const TAKE = `
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], per)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + per - now)
`;

/**
 * Edit budgets shared by every replica through Redis, so ten replicas do not
 * make ten times the edits a platform allows. Each budget first waits on the
 * local one (fair order and priorities among this replica's streams), then on
 * the shared window.
 */
export class SharedEditBudgets implements EditBudgetSource {
  private readonly budgets = new Map<string, SharedEditBudget>();

  constructor(
    private readonly local: EditBudgetSource,
    private readonly redisEval: RedisEval,
    private readonly options: { edits: number; perMs: number; name: string },
  ) {}

  get(scopeKey: string): EditBudget {
    let budget = this.budgets.get(scopeKey);
    if (!budget) {
      const key = `chatbot:budget:${this.options.name}:${scopeKey}`;
      budget = new SharedEditBudget(this.local.get(scopeKey), this.redisEval, key, this.options);
      this.budgets.set(scopeKey, budget);
    }
    return budget;
  }
}

class SharedEditBudget implements EditBudget {
  constructor(
    private readonly local: EditBudget,
    private readonly redisEval: RedisEval,
    private readonly key: string,
    private readonly options: { edits: number; perMs: number },
  ) {}

  async acquire(signal?: AbortSignal, priority?: EditPriority): Promise<void> {
    await this.local.acquire(signal, priority);
    for (;;) {
      signal?.throwIfAborted();
      let waitMs: number;
      try {
        waitMs = Number(
          await this.redisEval(
            TAKE,
            [this.key, `${this.key}:paused`],
            [String(this.options.edits), String(this.options.perMs), randomUUID()],
          ),
        );
      } catch {
        // Redis unreachable: the local budget alone still keeps this replica within limits.
        return;
      }
      if (!(waitMs > 0)) return;
      await sleep(waitMs, signal);
    }
  }

  pause(ms: number): void {
    this.local.pause(ms);
    const pauseMs = Math.max(1, Math.ceil(ms));
    void this.redisEval(
      "local left = redis.call('PTTL', KEYS[1]) if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end return 1",
      [`${this.key}:paused`],
      [String(pauseMs)],
    ).catch(() => undefined);
  }
}
