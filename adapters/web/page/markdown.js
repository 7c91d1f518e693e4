// Model output is Markdown: marked turns it into HTML and DOMPurify removes
// anything that could run script before it touches the page.

/* global marked, DOMPurify */

/**
 * What model output may contain, tighter than DOMPurify's defaults (the
 * Content-Security-Policy is the second line, not the only one): HTML only (no
 * SVG or MathML), no forms or inputs, no style attributes, links to http(s)
 * only, images only when they are inline data (an external image would load
 * from a third party as soon as the answer shows: it becomes a link instead).
 */
const SANITIZE = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "option", "label", "fieldset"],
  FORBID_ATTR: ["style", "formaction", "action"],
  ALLOWED_URI_REGEXP: /^https?:/i,
};

function safeLink(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  a.setAttribute("target", "_blank");
  a.setAttribute("rel", "noopener noreferrer");
  return a;
}

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
  if (node.tagName === "IMG") {
    const src = node.getAttribute("src") ?? "";
    if (/^data:image\//i.test(src)) return;
    const label = node.getAttribute("alt") || "image";
    if (/^https?:/i.test(src)) node.replaceWith(safeLink(src, label));
    else node.remove();
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
  el.innerHTML = DOMPurify.sanitize(marked.parse(text, { gfm: true, breaks: true }), SANITIZE);
  if (cursor) {
    const span = document.createElement("span");
    span.className = "cursor";
    span.textContent = cursor;
    cursorHost(el).append(span);
  }
}
