// Small DOM helpers shared by the pages.
import { ApiError } from "./api.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children.flat()) if (c) node.append(c);
  return node;
}

let ids = 0;
export const uid = (p) => `${p}-${++ids}`;

// An error box: the service's code, then what it means in plain words.
export function errorBox(err) {
  const e = err instanceof ApiError ? err : new ApiError("INTERNAL_ERROR", "", String(err && err.message ? err.message : err), 0);
  return el("div", { class: "error", role: "alert" },
    el("strong", { class: "code", text: e.message }), " ", el("span", { text: e.plain }));
}

export function showError(slot, err) {
  slot.replaceChildren(errorBox(err));
}

export function busy(slot, text) {
  slot.replaceChildren(el("p", { class: "busy", role: "status", text }));
}

// A drop zone: a labelled file input the keyboard can reach, plus drag-and-drop.
export function dropZone({ label, accept = "image/*", multiple = false, folder = false, onFiles, testId }) {
  const id = uid("file");
  const input = el("input", { type: "file", id, accept, multiple: multiple || folder, "data-testid": testId });
  if (folder) input.setAttribute("webkitdirectory", "");
  const zone = el("div", { class: "drop" }, el("label", { for: id, text: label }), input,
    el("p", { class: "hint", text: folder ? "or drop a folder here" : multiple ? "or drop files here" : "or drop a file here" }));
  // Cleared once read, so that choosing the same file again (a retry) is noticed.
  input.addEventListener("change", () => { const files = [...input.files]; input.value = ""; if (files.length) onFiles(files); });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const files = await droppedFiles(e.dataTransfer);
    if (files.length) onFiles(multiple || folder ? files : files.slice(0, 1));
  });
  return zone;
}

// Files from a drop, walking dropped folders; each file gets ``relPath`` (folder/name).
async function droppedFiles(dt) {
  const entries = [...(dt.items || [])].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...dt.files];
  const out = [];
  async function walk(entry, prefix) {
    if (entry.isFile) {
      const file = await new Promise((ok, bad) => entry.file(ok, bad));
      file.relPath = prefix + file.name;
      out.push(file);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, bad) => reader.readEntries(ok, bad));
        if (!batch.length) break;
        for (const child of batch) await walk(child, prefix + entry.name + "/");
      }
    }
  }
  for (const entry of entries) await walk(entry, "");
  return out;
}

export function loadImage(file) {
  return new Promise((ok, bad) => {
    const img = new Image();
    img.onload = () => ok(img);
    img.onerror = () => bad(new Error("the browser cannot show this image"));
    img.src = URL.createObjectURL(file);
  });
}

// An image with its faces drawn over it as an SVG layer (boxes and landmark points).
export function faceFigure(img, faces, caption) {
  const w = img.naturalWidth, h = img.naturalHeight;
  const layer = svg("svg", { viewBox: `0 0 ${w} ${h}`, class: "overlay", "aria-hidden": "true" });
  const stroke = Math.max(2, Math.round(w / 200));
  faces.forEach((f, i) => {
    const r = f.face_rectangle;
    layer.append(svg("rect", { x: r.left, y: r.top, width: r.width, height: r.height, class: i === 0 ? "box main" : "box", "stroke-width": stroke }));
    for (const p of Object.values(f.landmark || {})) layer.append(svg("circle", { cx: p.x, cy: p.y, r: stroke, class: "point" }));
  });
  const pic = el("img", { src: img.src, alt: caption });
  return el("figure", { class: "faces" }, el("div", { class: "stack" }, pic, layer),
    el("figcaption", { text: `${caption}: ${faces.length} face${faces.length === 1 ? "" : "s"} found` }));
}

export function download(name, blob) {
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

export function confirmDialog(title, text, action) {
  return new Promise((resolve) => {
    const dlg = el("dialog", { class: "confirm", "aria-labelledby": uid("dlg") });
    const h = el("h2", { id: dlg.getAttribute("aria-labelledby"), text: title });
    const yes = el("button", { type: "button", class: "danger", text: action });
    const no = el("button", { type: "button", text: "Cancel" });
    dlg.append(h, el("p", { text }), el("div", { class: "row" }, no, yes));
    const done = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    yes.addEventListener("click", () => done(true));
    no.addEventListener("click", () => done(false));
    dlg.addEventListener("cancel", (e) => { e.preventDefault(); done(false); });
    document.body.append(dlg);
    dlg.showModal();
    no.focus();
  });
}

export const pct = (v) => `${Number(v).toFixed(1)}`;
