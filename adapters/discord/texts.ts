/** Sentences the Discord bot says, each written once. */

/** Sent when someone mentions the bot with nothing else to say. */
export const EMPTY_HINT =
  "Ask me anything: mention me with your question (in a DM, just write it). Use /reset to start over.";

/** The ephemeral answer to a Stop or Regenerate pressed by someone who may not. */
export function onlyAskerMay(askerName: string, what: "stop" | "regenerate"): string {
  return `Only ${askerName}, who asked, or someone who can manage messages in this channel can ${what} this answer.`;
}

export const ALREADY_FINISHED = "This answer is already finished.";
export const CANNOT_REGENERATE = "I can no longer regenerate this answer: it is too old, or was forgotten.";
export const ONLY_LATEST = "Only the latest answer of a conversation can be regenerated.";
export const CONTROL_FAILED = "Sorry, that did not work. Please try again.";
