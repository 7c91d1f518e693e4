import { SLACK_SECTION_LIMIT } from "../adapters/slack/blocks.js";
import { toMrkdwn } from "../adapters/slack/format.js";
import { splitMessage } from "../src/stream/index.js";
import type { FakeSlackMessage } from "../tests/fakes/slack.js";
import type { Harness } from "../tests/slack/harness.js";

/** One answer: the model's tokens with the time each was written, and what its asker sees. */
export class Answer {
  readonly text: string;
  readonly cum: number[] = [];
  readonly producedAt: number[] = [];
  produced = 0;
  firstVisibleAt: number | undefined;
  finalAt: number | undefined;
  channel = "";
  threadTs = "";

  constructor(
    readonly kind: "dm" | "thread",
    readonly user: string,
    readonly tokens: string[],
  ) {
    this.text = tokens.join("");
    let sum = 0;
    for (const t of tokens) {
      sum += t.length;
      this.cum.push(sum);
    }
  }

  /** The messages its asker sees in its thread, oldest first (the Stop control has no text). */
  visible(h: Harness): string[] {
    return h.slack
      .botMessagesIn(this.channel, this.threadTs)
      .map((m: FakeSlackMessage) => (m.stream ? h.slack.seenBy(m, this.user) : m.text))
      .filter((t) => t.length > 0);
  }

  /** Characters of the model's text the asker sees, in order across messages. */
  visibleChars(h: Harness): number {
    let offset = 0;
    for (const message of this.visible(h)) offset += matched(message, this.text, offset);
    return offset;
  }

  private expectedTexts: string[] | undefined;

  /** What its messages must read at the end (computed once: converting to mrkdwn is not free). */
  expected(): string[] {
    this.expectedTexts ??=
      this.kind === "dm" ? [this.text] : splitMessage(this.text, SLACK_SECTION_LIMIT, toMrkdwn).map(toMrkdwn);
    return this.expectedTexts;
  }

  isFinal(h: Harness): boolean {
    if (this.produced < this.tokens.length) return false;
    const open = h.slack
      .botMessagesIn(this.channel, this.threadTs)
      .some((m) => m.stream && h.slack.streaming(m));
    return !open && JSON.stringify(this.visible(h)) === JSON.stringify(this.expected());
  }
}

/** How many characters of `text` from `offset` a message shows (the cursor and the rest stop the match). */
function matched(message: string, text: string, offset: number): number {
  let k = 0;
  while (
    k < message.length &&
    offset + k < text.length &&
    message.charCodeAt(k) === text.charCodeAt(offset + k)
  )
    k++;
  return k;
}

/** Plain words, sentences and paragraphs: their Markdown and Slack's mrkdwn read the same. */
export function tokensOf(count: number, seed: number): string[] {
  const words =
    "the answer streams into place while people read along and every call counts against a budget".split(" ");
  let x = seed * 7919 + 17;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = words[rand(words.length)] as string;
    if (i === 0) out.push(word[0]?.toUpperCase() + word.slice(1));
    else if (rand(14) === 0)
      out.push(`.${rand(3) === 0 ? "\n\n" : " "}${word[0]?.toUpperCase()}${word.slice(1)}`);
    else out.push(` ${word}`);
  }
  out.push(".");
  return out;
}
