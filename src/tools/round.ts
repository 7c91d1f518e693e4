import type { ToolCallPart } from "../llm/index.js";
import type { Logger } from "../log.js";
import type { ToolStatus } from "../stream/index.js";
import type { Approvals, AskApproval } from "./approvals.js";
import type { ToolServers } from "./servers.js";
import type { Tool, ToolOutcome } from "./types.js";

/** What one round of tool calls needs: the servers, who asked and where, how to ask for approval. */
export interface RoundContext {
  servers: ToolServers;
  approvals: Approvals;
  /** The tools offered to the model this turn. */
  offered: readonly Tool[];
  asker: { id: string; name: string };
  /** The surface's way to ask the asker; absent: tools that need approval were not offered. */
  ask?: AskApproval;
  approvalTimeoutMs: number;
  signal: AbortSignal;
  log: Logger;
  /** For the log line of each call: which conversation, which platform. */
  where: { conversationId: string; platform: string };
}

/** One call and what it came to. */
export interface CallDone {
  call: ToolCallPart;
  /** The tool's name as the user reads it (the model's name when it named no offered tool). */
  name: string;
  server?: string;
  outcome: ToolOutcome;
  durationMs: number;
}

/**
 * Runs one round's calls at once and yields their statuses as they start and
 * end; returns each call's outcome, in the order the model asked. A call
 * never throws (its failure is an error result for the model); a stop
 * (`signal`) ends the round with the signal's reason.
 */
export async function* runToolRound(
  calls: ToolCallPart[],
  ctx: RoundContext,
): AsyncGenerator<ToolStatus, CallDone[], undefined> {
  const events: ToolStatus[] = [];
  let wake: (() => void) | undefined;
  const push = (e: ToolStatus) => {
    events.push(e);
    wake?.();
  };
  const all = Promise.all(calls.map((call) => runOne(call, ctx, push)));
  let settled = false;
  let failure: unknown;
  let results: CallDone[] = [];
  all.then(
    (r) => {
      results = r;
      settled = true;
      wake?.();
    },
    (err) => {
      failure = err;
      settled = true;
      wake?.();
    },
  );
  for (;;) {
    while (events.length > 0) yield events.shift() as ToolStatus;
    if (settled) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  if (failure !== undefined) throw failure;
  return results;
}

async function runOne(
  call: ToolCallPart,
  ctx: RoundContext,
  push: (e: ToolStatus) => void,
): Promise<CallDone> {
  const started = performance.now();
  const tool = ctx.servers.find(ctx.offered, call.name);
  const name = tool?.name ?? call.name;
  push({ type: "tool", name, status: "started", callId: call.id });
  const outcome = tool ? await approvedThenRun(tool, call, ctx) : unknownTool(call.name);
  push({ type: "tool", name, status: outcome.isError ? "error" : "done", callId: call.id });
  const durationMs = Math.round(performance.now() - started);
  ctx.log.info(
    {
      tool: {
        server: tool?.server,
        name,
        status: outcome.status,
        durationMs,
        truncated: outcome.truncated,
        askedBy: { id: ctx.asker.id, name: ctx.asker.name },
        ...ctx.where,
      },
    },
    `tool ${name}: ${outcome.status}`,
  );
  return { call, name, ...(tool ? { server: tool.server } : {}), outcome, durationMs };
}

async function approvedThenRun(tool: Tool, call: ToolCallPart, ctx: RoundContext): Promise<ToolOutcome> {
  if (tool.needsApproval) {
    if (!ctx.ask) return refused("it needs the asker's approval, which cannot be asked here");
    const decision = await ctx.approvals.ask(
      {
        askerId: ctx.asker.id,
        askerName: ctx.asker.name,
        tool: tool.name,
        server: tool.server,
        args: call.args,
      },
      ctx.ask,
      { timeoutMs: ctx.approvalTimeoutMs, signal: ctx.signal },
    );
    if (decision === "denied") return refused(`${ctx.asker.name} denied it`);
    if (decision === "timeout") return refused(`${ctx.asker.name} did not approve it in time`);
  }
  return ctx.servers.call(tool, call.args, ctx.signal);
}

function refused(why: string): ToolOutcome {
  return {
    text: `The call was refused and did not run: ${why}.`,
    isError: true,
    truncated: false,
    status: "refused",
  };
}

function unknownTool(name: string): ToolOutcome {
  return { text: `There is no tool named ${name}.`, isError: true, truncated: false, status: "error" };
}
