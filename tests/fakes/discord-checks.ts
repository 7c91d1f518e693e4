import type { RestAnswer, Wire } from "./discord-interactions.js";

/** Discord's checks on what a bot sends, and the shapes of its errors. */

export function invalidForm(field: string, code: string, message: string): unknown {
  return { message: "Invalid Form Body", code: 50035, errors: { [field]: { _errors: [{ code, message }] } } };
}

/** A 429 as Discord sends it: Retry-After, the rate-limit headers and `retry_after` in the body. */
export function rateLimited(retryAfterS: number, body?: unknown): RestAnswer {
  const s = Math.max(0.001, retryAfterS);
  const headers = {
    "retry-after": String(Math.ceil(s)),
    "x-ratelimit-limit": "5",
    "x-ratelimit-remaining": "0",
    "x-ratelimit-reset-after": String(s),
    "x-ratelimit-bucket": "fake-bucket",
    "x-ratelimit-scope": "user",
  };
  return [429, body ?? { message: "You are being rate limited.", retry_after: s, global: false }, headers];
}

/** Message content: at most 2,000 characters, not blank. */
export function contentProblem(content: unknown): RestAnswer | undefined {
  if (typeof content !== "string" || content.trim().length === 0) {
    return [400, { message: "Cannot send an empty message", code: 50006 }];
  }
  if ([...content].length > 2000) {
    return [400, invalidForm("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")];
  }
  return undefined;
}

/**
 * Legacy message components: at most 5 action rows (type 1) of 1 to 5
 * buttons (type 2) each. A button other than a link (style 5) has a
 * `custom_id` of 1 to 100 characters, unique in the message; a label has at
 * most 80.
 * @see https://discord.com/developers/docs/components/reference#action-row
 * @see https://discord.com/developers/docs/components/reference#button
 */
export function componentsProblem(components: unknown): RestAnswer | undefined {
  const problem = why(components);
  return problem ? [400, invalidForm("components", "COMPONENT_INVALID", problem)] : undefined;
}

function why(components: unknown): string | undefined {
  if (!Array.isArray(components)) return "components must be an array";
  if (components.length > 5) return "at most 5 action rows";
  const ids = new Set<string>();
  for (const row of components as Wire[]) {
    if (row?.type !== 1 || !Array.isArray(row.components))
      return "a top-level component must be an action row";
    if (row.components.length < 1 || row.components.length > 5) return "an action row holds 1 to 5 buttons";
    for (const button of row.components as Wire[]) {
      if (button?.type !== 2) return "only buttons are supported by this fake";
      if (typeof button.label === "string" && button.label.length > 80)
        return "a label has at most 80 characters";
      if (button.style === 5) {
        if (typeof button.url !== "string") return "a link button needs a url";
        continue;
      }
      if (![1, 2, 3, 4].includes(button.style)) return "unknown button style";
      const id = button.custom_id;
      if (typeof id !== "string" || id.length < 1 || id.length > 100)
        return "custom_id must be 1-100 characters";
      if (ids.has(id)) return "custom_id must be unique in the message";
      ids.add(id);
    }
  }
  return undefined;
}

/** The labels of a message's buttons, in order: what a person sees under it. */
export function buttonLabels(components: Wire[]): string[] {
  return components.flatMap((row: Wire) =>
    (row?.components ?? []).filter((c: Wire) => c?.type === 2).map((c: Wire) => String(c.label ?? "")),
  );
}

/** The custom_id of the button labelled `label`, if the message shows one. */
export function customIdOf(components: Wire[], label: string): string | undefined {
  const button = components
    .flatMap((row: Wire) => row?.components ?? [])
    .find((c: Wire) => c?.type === 2 && c.label === label);
  return button?.custom_id;
}
