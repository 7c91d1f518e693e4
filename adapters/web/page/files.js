// Files attached to the next message on the chat page: picked, pasted or
// dropped, checked against the server's limits, read as base64 for the
// request's "attachments", shown as chips (a thumbnail for an image).

/** A file as a chip: its thumbnail when it is an image we have, else its name; `onRemove` adds a × button. */
export function fileChip(file, onRemove) {
  const chip = document.createElement("span");
  chip.className = "file";
  chip.title = file.name;
  if (file.preview) {
    const img = document.createElement("img");
    img.src = file.preview;
    img.alt = file.name;
    chip.append(img);
  }
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = file.name;
  chip.append(name);
  if (onRemove) {
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.setAttribute("aria-label", `Remove ${file.name}`);
    remove.textContent = "×";
    remove.addEventListener("click", onRemove);
    chip.append(remove);
  }
  return chip;
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

const mb = (bytes) => Math.floor(bytes / 1048576);

/**
 * The files waiting in `list`; `config()` gives the server's limits
 * (maxFiles, maxFileBytes, maxUploadBytes), `notice` shows why one was refused.
 * Each file is { name, type, size, data (base64), preview (data URL of an image) }.
 */
export function createAttachments(list, config, notice) {
  let pending = [];
  const render = () => {
    list.replaceChildren(
      ...pending.map((f, i) =>
        fileChip(f, () => {
          pending.splice(i, 1);
          render();
        }),
      ),
    );
    list.hidden = pending.length === 0;
  };
  return {
    get count() {
      return pending.length;
    },
    /** Hands over the waiting files (for a request) and empties the list. */
    take() {
      const files = pending;
      pending = [];
      render();
      return files;
    },
    async add(files) {
      const limits = config();
      for (const file of files) {
        if (pending.length >= limits.maxFiles) {
          notice(`At most ${limits.maxFiles} files per message.`);
          break;
        }
        if (file.size > limits.maxFileBytes) {
          notice(`${file.name} is too large: files can be up to ${mb(limits.maxFileBytes)} MB.`);
          continue;
        }
        if (pending.reduce((sum, f) => sum + f.size, 0) + file.size > limits.maxUploadBytes) {
          notice(`Together the files would be over ${mb(limits.maxUploadBytes)} MB.`);
          continue;
        }
        const url = await readAsDataUrl(file);
        const type = file.type || "application/octet-stream";
        // A pasted screenshot has no name of its own (browsers call it image.png).
        const name =
          file.name && file.name !== "image.png"
            ? file.name
            : `pasted-${pending.length + 1}.${type.split("/")[1] || "png"}`;
        pending.push({
          name,
          type,
          size: file.size,
          data: url.slice(url.indexOf(",") + 1),
          preview: type.startsWith("image/") ? url : null,
        });
      }
      render();
    },
  };
}

/** Attaches what the person picks (the attach button), pastes (a screenshot) or drops on the composer. */
export function attachFrom(ui, attachments, config) {
  const enabled = () => config().maxFiles > 0;
  ui.attach.addEventListener("click", () => ui.fileInput.click());
  ui.fileInput.addEventListener("change", () => {
    attachments.add([...ui.fileInput.files]);
    ui.fileInput.value = "";
  });
  // A screenshot on the clipboard (or a copied file) is attached; pasted text stays text.
  ui.input.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length === 0 || !enabled()) return;
    e.preventDefault();
    attachments.add(files);
  });
  ui.composer.addEventListener("dragover", (e) => {
    if (enabled()) e.preventDefault();
  });
  ui.composer.addEventListener("drop", (e) => {
    if (!enabled()) return;
    e.preventDefault();
    attachments.add([...(e.dataTransfer?.files ?? [])]);
  });
}
