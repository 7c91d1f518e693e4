import type { SlackStreaming } from "../../src/config/index.js";
import type { ChatError } from "../../src/errors.js";
import type { EditableReply, EditBudgetSource, MessageRef, StreamItem } from "../../src/stream/index.js";
import { renderByEditing } from "../../src/stream/index.js";
import type { Place, SlackDeps, SlackMessage } from "./answer.js";
import { clearStatus } from "./assistant.js";
import type { Controls } from "./blocks.js";
import { SlackReply } from "./reply.js";
import { renderNatively } from "./stream.js";
import { StopControl, type StreamPlace, StreamReply } from "./stream-reply.js";
import { DeltaTap } from "./tap.js";

/** What native streaming needs: the mode (SLACK_STREAMING), each method's budgets, and its pace. */
export interface NativeDeps {
  mode: SlackStreaming;
  /** Per workspace: chat.startStream, chat.appendStream, chat.stopStream, chat.delete (the Stop control). */
  budgets: {
    start: EditBudgetSource;
    append: EditBudgetSource;
    stop: EditBudgetSource;
    delete: EditBudgetSource;
  };
  /** See NativeOptions (adapters/slack/stream.ts); tests shorten them. */
  appendEveryMs?: number;
  rotateAfterMs?: number;
}

/** How one answer was shown, for the log line and the warnings answer() adds. */
export interface Shown {
  path: "native" | "edit" | "native+edit";
  messages: number;
  requests: number;
  rateLimited: number;
  error?: ChatError;
  /** Why the native stream handed over to edits. */
  handOff?: string;
  platformError?: unknown;
  postFailed?: boolean;
}

/**
 * Whether an answer streams natively: a native stream is seen live by one
 * person only (everyone else sees its first chunk until it stops) and is
 * always a thread reply, so "auto" uses it in DM threads (the assistant pane
 * is one) and edits where several people read or the answer sits at the top
 * of a DM.
 * @see https://docs.slack.dev/reference/methods/chat.startStream
 */
export function streamsNatively(mode: SlackStreaming, place: Place): boolean {
  if (mode === "edit") return false;
  if (mode === "native") return true;
  return place.isDm && place.threadTs !== undefined;
}

/** Shows the model's answer in `place`: natively where it serves, else by editing a message. */
export async function respond(
  d: SlackDeps,
  ev: SlackMessage,
  place: Place,
  deltas: AsyncIterable<StreamItem>,
  signal: AbortSignal,
  controls: Controls,
): Promise<Shown> {
  if (streamsNatively(d.native.mode, place)) return respondNatively(d, ev, place, deltas, signal, controls);
  const result = await renderByEditing(deltas, trackedEdits(d, place, place.threadTs, controls), {
    cursor: d.cursor,
    signal,
    // In the assistant pane, "is thinking…" shows the bot is at work until the first token.
    ...(place.assistant ? { placeholder: null } : {}),
  });
  if (place.assistant && result.error && result.messages.length === 0) await clearStatus(d, place);
  return {
    path: "edit",
    messages: result.messages.length,
    requests: result.edits + result.messages.length,
    rateLimited: result.rateLimited,
    ...(result.error ? { error: result.error } : {}),
    ...(result.platformError !== undefined ? { platformError: result.platformError } : {}),
    ...(result.postFailed ? { postFailed: true } : {}),
  };
}

async function respondNatively(
  d: SlackDeps,
  ev: SlackMessage,
  place: Place,
  deltas: AsyncIterable<StreamItem>,
  signal: AbortSignal,
  controls: Controls,
): Promise<Shown> {
  const threadTs = place.threadTs ?? ev.ts;
  const where: StreamPlace = {
    channel: place.channel,
    threadTs,
    ...(place.isDm ? {} : { recipient: { userId: ev.user ?? "", teamId: place.team } }),
  };
  const budgets = {
    start: d.native.budgets.start.get(place.team),
    append: d.native.budgets.append.get(place.team),
    stop: d.native.budgets.stop.get(place.team),
  };
  const reply = track(d, place, new StreamReply(d.api, where, budgets.append, controls), "stream");
  const control = track(
    d,
    place,
    new StopControl(
      d.api,
      place.channel,
      threadTs,
      controls.turnId,
      d.postBudgets.get(place.channel),
      d.native.budgets.delete.get(place.team),
    ),
    "control",
  );
  let controlRef: Promise<MessageRef | undefined> = Promise.resolve(undefined);
  const tap = new DeltaTap(deltas, signal);
  const native = await renderNatively(tap, {
    reply,
    budgets,
    signal,
    ...(d.native.appendEveryMs !== undefined ? { appendEveryMs: d.native.appendEveryMs } : {}),
    ...(d.native.rotateAfterMs !== undefined ? { rotateAfterMs: d.native.rotateAfterMs } : {}),
    onStarted: () => {
      controlRef = postControl(d, control, place);
    },
  });
  await removeControl(d, control, await controlRef);
  if (native.handOff?.reason === "stopped_by_user") {
    // Stopped in Slack's own interface: the answer ends there, and so does the model request.
    const name = await d.api.userName(ev.user ?? "");
    await d.turns.stop(controls.turnId, { id: ev.user ?? "", name, isAdmin: false });
    tap.stop();
    return { path: "native", messages: native.messages.length, requests: native.appends, rateLimited: 0 };
  }
  if (!native.handOff) {
    return {
      path: "native",
      messages: native.messages.length,
      requests: native.appends + native.messages.length * 2,
      rateLimited: native.rateLimited,
      ...(native.error ? { error: native.error } : {}),
    };
  }
  // Refused, spent or ended early: the rest, from what Slack shows, goes by edits in the same thread.
  // The tap ends (or fails) as the model's stream does, so no signal is needed here.
  d.log.info(
    { reason: native.handOff.reason, offset: native.handOff.offset },
    "native stream handed over to edits",
  );
  const edited = await renderByEditing(
    tap.from(native.handOff.offset),
    trackedEdits(d, place, threadTs, controls),
    { cursor: d.cursor, ...(native.messages.length === 0 && place.assistant ? { placeholder: null } : {}) },
  );
  // Edits failed for good: nobody would see the rest, so the model need not write it.
  if (edited.platformError !== undefined) tap.stop();
  if (native.messages.length === 0 && edited.error && edited.messages.length === 0)
    await clearStatus(d, place);
  return {
    path: native.messages.length > 0 ? "native+edit" : "edit",
    messages: native.messages.length + edited.messages.length,
    requests: native.appends + native.messages.length * 2 + edited.edits + edited.messages.length,
    rateLimited: native.rateLimited + edited.rateLimited,
    handOff: native.handOff.reason,
    ...(edited.error ? { error: edited.error } : {}),
    ...(edited.platformError !== undefined ? { platformError: edited.platformError } : {}),
    ...(edited.postFailed ? { postFailed: true } : {}),
  };
}

function trackedEdits(d: SlackDeps, place: Place, threadTs: string | undefined, controls: Controls) {
  const reply = new SlackReply(
    d.api,
    place.channel,
    threadTs,
    d.budgets.get(place.team),
    d.postBudgets.get(place.channel),
    controls,
  );
  return track(d, place, reply, "edit");
}

/** Remembered by crash recovery until final; `kind` tells the finisher how to end each (index.ts). */
function track(d: SlackDeps, place: Place, reply: EditableReply, kind: "edit" | "stream" | "control") {
  if (!d.recovery) return reply;
  return d.recovery.track("slack", reply, (ref) => ({
    team: place.team,
    channel: place.channel,
    ts: ref.id,
    ...(kind === "edit" ? {} : { kind }),
  }));
}

/** Posts the Stop control under the stream; an answer without one can still finish. */
async function postControl(
  d: SlackDeps,
  control: EditableReply,
  place: Place,
): Promise<MessageRef | undefined> {
  try {
    await control.budget.acquire(undefined, "first");
    return await control.post("", { final: false, settled: "" });
  } catch (err) {
    d.log.warn({ err, channel: place.channel }, "could not post the Stop control of a native stream");
    return undefined;
  }
}

async function removeControl(
  d: SlackDeps,
  control: EditableReply,
  ref: MessageRef | undefined,
): Promise<void> {
  if (!ref) return;
  await control.edit(ref, "", { final: true }).catch((err: unknown) => {
    d.log.warn({ err }, "could not remove the Stop control of a native stream");
  });
}
