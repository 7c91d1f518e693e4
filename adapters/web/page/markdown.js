// Model output is Markdown: marked turns it into HTML and DOMPurify removes
// anything that could run script before it touches the page.

/* global marked, DOMPurify */

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const VOID = new Set(["BR", "HR", "IMG", "INPUT"]);

/** The last child that shows something (marked puts newline text nodes between blocks). */
function lastVisibleChild(node) {
  let child = node.lastChild;
  while (child && child.nodeType === Node.TEXT_NODE && child.textContent.trim() === "") {
    child = child.previousSibling;
  }
  return child;
}

/**
 * Where the cursor goes so it sits right after the last character: descend
 * into the last block (paragraph, list item, code) but stop where text ends,
 * so "**bold** and more" does not put it inside <strong>.
 */
function cursorHost(root) {
  let node = root;
  for (;;) {
    const last = lastVisibleChild(node);
    if (!last || last.nodeType !== Node.ELEMENT_NODE || VOID.has(last.tagName)) return node;
    node = last;
  }
}

/** Renders `text` into `el`, safely; while streaming, the cursor glyph ends it. */
export function renderMarkdown(el, text, cursor) {
  el.innerHTML = DOMPurify.sanitize(marked.parse(text, { gfm: true, breaks: true }));
  if (cursor) {
    const span = document.createElement("span");
    span.className = "cursor";
    span.textContent = cursor;
    cursorHost(el).append(span);
  }
}
