import type { ChatMessage, ToolCallPart } from "../llm/index.js";
import type { Logger } from "../log.js";
import type { StoredToolRound } from "../memory/index.js";
import type { StreamItem } from "../stream/index.js";
import {
  type Approvals,
  type AskApproval,
  type CallDone,
  runToolRound,
  type Tool,
  type ToolServers,
} from "../tools/index.js";
import type { Turn } from "./types.js";

/** What a Bot needs to let the model call tools (src/tools/). */
export interface TurnTools {
  servers: ToolServers;
  approvals: Approvals;
  /** Model rounds that may call tools in one turn; the next one must answer. */
  maxRounds: number;
  /** Longest wait for the asker's Approve/Deny (ms). */
  approvalTimeoutMs: number;
}

/**
 * One model request of the turn: its text deltas (and empty ones while tool
 * arguments stream), and the tool calls it ended with (empty when it answered).
 */
export type ModelRound = (
  messages: ChatMessage[],
  tools: Tool[],
  last: boolean,
) => AsyncGenerator<string, ToolCallPart[], undefined>;

/**
 * The tool loop: model, then the tools it called (at once), then the model
 * with their results, up to `maxRounds` rounds of calls; the round after
 * those may not call tools, so the turn always ends with an answer. Every
 * round's text streams as it comes; each call's start and end stream as
 * ToolStatus items; the rounds are kept on the turn to be stored with the
 * answer. The user reads, under the answer, which tools ran and which failed.
 */
export async function* answerWithTools(
  turn: Turn,
  messages: ChatMessage[],
  round: ModelRound,
  deps: { tools: TurnTools | undefined; ask: AskApproval | undefined; log: Logger },
): AsyncGenerator<StreamItem, void, undefined> {
  const offered = toolsOffered(turn, deps.tools, deps.ask !== undefined);
  // A retry (a model that refused images) starts the answer again: its input and rounds too.
  turn.sent = undefined;
  turn.toolRounds = undefined;
  // Without tools on offer, earlier calls are told as text: a provider refuses tool blocks then.
  let sent = offered.length > 0 ? messages : messages.map(toolsAsText);
  const done: CallDone[] = [];
  for (let n = 0; ; n++) {
    const last = !deps.tools || offered.length === 0 || n >= deps.tools.maxRounds;
    const before = turn.text.length;
    const calls = yield* round(sent, offered, last);
    if (calls.length === 0 || !deps.tools || last) break;
    const results = yield* runToolRound(calls, {
      servers: deps.tools.servers,
      approvals: deps.tools.approvals,
      offered,
      asker: turn.incoming.author,
      ...(deps.ask ? { ask: deps.ask } : {}),
      approvalTimeoutMs: deps.tools.approvalTimeoutMs,
      signal: turn.controller.signal,
      log: deps.log,
      where: { conversationId: turn.incoming.conversationId, platform: turn.incoming.platform ?? "unknown" },
    });
    done.push(...results);
    turn.toolCalls = [
      ...(turn.toolCalls ?? []),
      ...results.map((r) => ({
        ...(r.server ? { server: r.server } : {}),
        name: r.name,
        status: r.outcome.status,
        durationMs: r.durationMs,
      })),
    ];
    const stored = storedRound(turn.text.length, results);
    turn.toolRounds = [...(turn.toolRounds ?? []), stored];
    sent = [...sent, ...replayRound(turn.text.slice(before), stored)];
  }
  for (const line of toolNotices(done)) yield { type: "notice", text: line };
}

/**
 * The tools of the servers this turn may use (its place's setting, else the
 * servers enabled everywhere); without a way to ask the asker, none that need approval.
 */
function toolsOffered(turn: Turn, tools: TurnTools | undefined, canAsk: boolean): Tool[] {
  if (!tools) return [];
  const servers = turn.toolServers ?? tools.servers.everywhere;
  return tools.servers.tools(servers).filter((t) => canAsk || !t.needsApproval);
}

function storedRound(at: number, results: CallDone[]): StoredToolRound {
  return {
    at,
    calls: results.map((r) => ({
      id: r.call.id,
      name: r.call.name,
      tool: r.name,
      ...(r.server ? { server: r.server } : {}),
      args: r.call.args,
      result: r.outcome.text,
      ...(r.outcome.isError ? { isError: true } : {}),
      ...(r.outcome.truncated ? { truncated: true } : {}),
    })),
  };
}

/** A round as the model reads it: its text and calls (assistant), then their results (tool). */
export function replayRound(text: string, round: StoredToolRound): ChatMessage[] {
  const said = text.trim();
  return [
    {
      role: "assistant",
      content: [
        ...(said ? [{ type: "text" as const, text: said }] : []),
        ...round.calls.map((c) => ({ type: "tool_call" as const, id: c.id, name: c.name, args: c.args })),
      ],
    },
    {
      role: "tool",
      content: round.calls.map((c) => ({
        type: "tool_result" as const,
        callId: c.id,
        name: c.name,
        text: c.result,
        ...(c.isError ? { isError: true } : {}),
      })),
    },
  ];
}

/**
 * A message with tool parts as plain text, for a request that offers no tools
 * (Anthropic refuses tool_use and tool_result blocks then): a call becomes a
 * line in the assistant's text, a result a user message saying what the tool answered.
 */
function toolsAsText(m: ChatMessage): ChatMessage {
  if (
    typeof m.content === "string" ||
    !m.content.some((p) => p.type === "tool_call" || p.type === "tool_result")
  )
    return m;
  const content = m.content.map((p) => {
    if (p.type === "tool_call")
      return { type: "text" as const, text: `[called ${p.name} with ${JSON.stringify(p.args)}]` };
    if (p.type === "tool_result")
      return { type: "text" as const, text: `[${p.name} ${p.isError ? "failed" : "answered"}: ${p.text}]` };
    return p;
  });
  return { role: m.role === "tool" ? "user" : m.role, content };
}

/** Under the answer: which tools ran (compactly, with a count when one ran more than once), and each failure. */
function toolNotices(done: CallDone[]): string[] {
  if (done.length === 0) return [];
  const counts = new Map<string, number>();
  for (const d of done) counts.set(d.name, (counts.get(d.name) ?? 0) + 1);
  const used = [...counts].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name)).join(", ");
  const failed = done
    .filter((d) => d.outcome.isError)
    .map((d) => `⚠️ ${d.name}: ${FAILED[d.outcome.status] ?? d.outcome.status}`);
  return [`_🔧 Used ${used}_`, ...failed];
}

const FAILED: Record<string, string> = {
  error: "the tool reported an error",
  timeout: "timed out",
  refused: "not run (not approved)",
  unavailable: "its server is not running",
};
