// Server-Sent Events from a fetch body. EventSource cannot POST, so the page
// reads the stream itself; this follows the spec's line rules (any of \r\n,
// \r, \n ends a line; several data lines join with \n).

/**
 * @param {(event: { event: string, data: string }) => void} onEvent
 * @returns {{ feed(chunk: string): void }}
 */
export function createSseParser(onEvent) {
  let buffer = "";
  let eventName = "";
  let data = [];

  function dispatch() {
    if (data.length > 0) onEvent({ event: eventName || "message", data: data.join("\n") });
    eventName = "";
    data = [];
  }

  function line(text) {
    if (text === "") return dispatch();
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") eventName = value;
    else if (field === "data") data.push(value);
  }

  return {
    feed(chunk) {
      buffer += chunk;
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        if (!match) return;
        // A "\r" at the very end may be the first half of "\r\n": wait for the next chunk.
        if (match[0] === "\r" && match.index === buffer.length - 1) return;
        line(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
      }
    },
  };
}
