// Galleries: create, rename, delete; enrol files or folders; browse subjects and faces; delete a subject.
import { call, pool, ApiError } from "../api.js";
import { el, dropZone, showError, busy, uid, confirmDialog, errorBox } from "../ui.js";
import { listGalleries, galleryName, galleryFaces, bySubject } from "../galleries.js";

const PAGE = 10;

export default function galleries(view) {
  const status = el("div", { "aria-live": "polite" });
  const list = el("div");
  const detail = el("div");
  const state = { current: null };

  async function refresh() {
    try {
      const items = await listGalleries();
      list.replaceChildren(items.length ? el("table", { class: "list", "data-testid": "gallery-list" },
        el("caption", { text: "Your galleries" }),
        el("thead", {}, el("tr", {}, ["Name", "ID", "Actions"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, items.map((g) => el("tr", { "data-outer-id": g.outer_id },
          el("td", { text: galleryName(g) }), el("td", { text: g.outer_id || g.faceset_token }),
          el("td", { class: "actions" },
            el("button", { type: "button", text: "Open", "aria-label": `Open ${galleryName(g)}`, onclick: () => open(g) }),
            el("button", { type: "button", text: "Rename", "aria-label": `Rename ${galleryName(g)}`, onclick: () => rename(g) }),
            el("button", { type: "button", class: "danger", text: "Delete", "aria-label": `Delete ${galleryName(g)}`, onclick: () => remove(g) })))))) :
        el("p", { text: "No galleries yet." }));
    } catch (err) { showError(list, err); }
  }

  const nameId = uid("name"), outerId = uid("outer");
  const create = el("form", { class: "card", "aria-labelledby": "create-title" },
    el("h2", { id: "create-title", text: "New gallery" }),
    el("label", { for: nameId, text: "Display name" }), el("input", { id: nameId, name: "display_name", required: true, maxlength: 256 }),
    el("label", { for: outerId, text: "ID (letters, digits, - and _)" }), el("input", { id: outerId, name: "outer_id", required: true, maxlength: 255, pattern: "[A-Za-z0-9_\\-]+" }),
    el("button", { type: "submit", text: "Create gallery" }));
  create.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await call("/facepp/v3/faceset/create", { display_name: create.display_name.value, outer_id: create.outer_id.value });
      status.replaceChildren(el("p", { role: "status", text: `Created ${create.display_name.value}.` }));
      create.reset();
      refresh();
    } catch (err) { showError(status, err); }
  });

  async function rename(g) {
    const id = uid("rename");
    const input = el("input", { id, value: galleryName(g), required: true, maxlength: 256 });
    const form = el("form", { class: "card" }, el("label", { for: id, text: `New name for ${galleryName(g)}` }), input,
      el("button", { type: "submit", text: "Save name" }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await call("/facepp/v3/faceset/update", { faceset_token: g.faceset_token, display_name: input.value });
        status.replaceChildren(el("p", { role: "status", text: `Renamed to ${input.value}.` }));
        refresh();
      } catch (err) { showError(status, err); }
    });
    status.replaceChildren(form);
    input.focus();
  }

  async function remove(g) {
    const ok = await confirmDialog(`Delete gallery ${galleryName(g)}?`,
      "The gallery and every face enrolled in it are deleted permanently. This cannot be undone.", "Delete permanently");
    if (!ok) return;
    try {
      await call("/facepp/v3/faceset/delete", { faceset_token: g.faceset_token, check_empty: 0 });
      status.replaceChildren(el("p", { role: "status", text: `Deleted ${galleryName(g)}.` }));
      if (state.current && state.current.faceset_token === g.faceset_token) detail.replaceChildren();
      refresh();
    } catch (err) { showError(status, err); }
  }

  function open(g) {
    state.current = g;
    const progress = el("div", { class: "progress-list", "data-testid": "enrol-progress" });
    const rejected = el("div", { "data-testid": "enrol-rejected" });
    const browse = el("div", { "data-testid": "browse" });
    const subjId = uid("subject");
    const loose = el("input", { id: subjId, placeholder: "e.g. ada_lovelace", maxlength: 255 });
    const enrol = (files) => enrolFiles(g, files, loose.value.trim(), progress, rejected).then(() => showSubjects(g, browse));
    detail.replaceChildren(el("section", { class: "card", "aria-labelledby": "open-title" },
      el("h2", { id: "open-title", text: `Gallery: ${galleryName(g)}` }),
      el("p", { class: "hint", text: "Each folder is one subject, named after the folder. Photos dropped on their own use the subject typed below. Each photo must show one face." }),
      el("label", { for: subjId, text: "Subject for single photos" }), loose,
      el("div", { class: "pair" },
        dropZone({ label: "Enrol a folder (one subfolder per subject)", folder: true, onFiles: enrol, testId: "enrol-folder" }),
        dropZone({ label: "Enrol photos", multiple: true, onFiles: enrol, testId: "enrol-files" })),
      progress, rejected, browse));
    showSubjects(g, browse);
  }

  view.append(status, create, list, detail);
  refresh();
}

function subjectOf(file, fallback) {
  const path = file.relPath || file.webkitRelativePath || "";
  const parts = path.split("/").filter(Boolean);
  return parts.length >= 2 ? parts[parts.length - 2] : fallback;
}

async function enrolFiles(g, files, fallback, progress, rejected) {
  const images = files.filter((f) => /^image\//.test(f.type) || /\.(jpe?g|png|webp|bmp)$/i.test(f.name));
  const bad = files.filter((f) => !images.includes(f)).map((f) => ({ file: f.name, subject: subjectOf(f, fallback), code: "IMAGE_ERROR_UNSUPPORTED_FORMAT", why: "Not an image file; skipped." }));
  const groups = new Map();
  for (const f of images) {
    const s = subjectOf(f, fallback);
    if (!s) { bad.push({ file: f.name, subject: "", code: "MISSING_ARGUMENTS", why: "No subject: drop a folder named after the person, or type a subject first." }); continue; }
    if (!groups.has(s)) groups.set(s, []);
    groups.get(s).push(f);
  }
  const bars = new Map();
  progress.replaceChildren(el("h3", { text: "Enrolment" }), ...[...groups.entries()].map(([s, fs]) => {
    const id = uid("bar");
    const bar = el("progress", { id, max: fs.length, value: 0 });
    const note = el("span", { class: "hint", text: `0 of ${fs.length}` });
    bars.set(s, { bar, note, done: 0, ok: 0, total: fs.length });
    return el("div", { class: "progress-row", "data-subject": s }, el("label", { for: id, text: s }), bar, note);
  }));
  const jobs = [...groups.entries()].flatMap(([s, fs]) => fs.map((f) => [s, f]));
  await pool(jobs, 2, async ([s, f]) => {
    const row = bars.get(s);
    try {
      const det = await call("/facepp/v3/detect", { image_file: f });
      if (det.faces.length === 0) throw new ApiError("NO_FACE_FOUND", "", "", 200);
      if (det.faces.length > 1) throw new ApiError("MULTIPLE_FACES", "", `${det.faces.length} faces; enrol photos that show only this person`, 200);
      const token = det.faces[0].face_token;
      await call("/facepp/v3/face/setuserid", { face_token: token, user_id: s });
      const add = await call("/facepp/v3/faceset/addface", { faceset_token: g.faceset_token, face_tokens: token });
      if (add.failure_detail && add.failure_detail.length) throw new ApiError(add.failure_detail[0].reason, "", "", 200);
      row.ok++;
    } catch (err) {
      bad.push({ file: f.name, subject: s, code: err.code || "INTERNAL_ERROR", why: err.plain || String(err) });
    }
    row.done++;
    row.bar.value = row.done;
    row.note.textContent = `${row.done} of ${row.total} (${row.ok} enrolled)`;
  });
  const enrolled = [...bars.values()].reduce((n, r) => n + r.ok, 0);
  progress.append(el("p", { role: "status", "data-testid": "enrol-done", text: `Enrolled ${enrolled} of ${files.length} files.` }));
  rejected.replaceChildren(bad.length ? el("table", { class: "list" },
    el("caption", { text: `Rejected images (${bad.length})` }),
    el("thead", {}, el("tr", {}, ["File", "Subject", "Code", "Reason"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, bad.map((b) => el("tr", {}, el("td", { text: b.file }), el("td", { text: b.subject }), el("td", { text: b.code }), el("td", { text: b.why }))))) :
    el("p", { text: "No images were rejected." }));
}

async function showSubjects(g, slot, note = null) {
  busy(slot, "Loading subjects…");
  let faces;
  try { faces = await galleryFaces(g.faceset_token); } catch (err) { showError(slot, err); return; }
  const subjects = bySubject(faces);
  const msg = el("div", { "aria-live": "polite" }, note);
  const subjTable = el("div"), faceTable = el("div");
  const pager = (total, page, go, what) => el("nav", { class: "pager", "aria-label": `${what} pages` },
    el("button", { type: "button", text: "Previous", disabled: page === 0, onclick: () => go(page - 1) }),
    el("span", { text: `Page ${page + 1} of ${Math.max(1, Math.ceil(total / PAGE))}` }),
    el("button", { type: "button", text: "Next", disabled: (page + 1) * PAGE >= total, onclick: () => go(page + 1) }));
  const drawSubjects = (page) => subjTable.replaceChildren(
    el("table", { class: "list", "data-testid": "subjects" }, el("caption", { text: `Subjects (${subjects.length})` }),
      el("thead", {}, el("tr", {}, ["Subject", "Faces", "Actions"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, subjects.slice(page * PAGE, (page + 1) * PAGE).map(([name, fs]) => el("tr", { "data-subject": name },
        el("td", { text: name }), el("td", { text: String(fs.length) }),
        el("td", {}, el("button", { type: "button", class: "danger", text: "Delete subject", "aria-label": `Delete subject ${name}`,
          onclick: () => deleteSubject(g, name, fs, msg).then((done) => done && showSubjects(g, slot, done)) })))))),
    pager(subjects.length, page, drawSubjects, "Subject"));
  const drawFaces = (page) => faceTable.replaceChildren(
    el("table", { class: "list", "data-testid": "faces" }, el("caption", { text: `Faces (${faces.length})` }),
      el("thead", {}, el("tr", {}, ["Face token", "Subject", "Box (left, top, width, height)"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, faces.slice(page * PAGE, (page + 1) * PAGE).map((f) => el("tr", {},
        el("td", { class: "mono", text: f.face_token }), el("td", { text: f.user_id || "(none)" }),
        el("td", { text: f.face_rectangle ? `${f.face_rectangle.left}, ${f.face_rectangle.top}, ${f.face_rectangle.width}, ${f.face_rectangle.height}` : "" }))))),
    pager(faces.length, page, drawFaces, "Face"));
  drawSubjects(0);
  drawFaces(0);
  slot.replaceChildren(msg, subjTable, faceTable);
}

async function deleteSubject(g, name, faces, msg) {
  const ok = await confirmDialog(`Delete subject ${name}?`,
    `All ${faces.length} face${faces.length === 1 ? "" : "s"} of ${name} are removed from ${galleryName(g)} permanently. This cannot be undone; to find them again you must enrol new photos.`,
    "Delete permanently");
  if (!ok) return false;
  try {
    const tokens = faces.map((f) => f.face_token);
    for (let i = 0; i < tokens.length; i += 100) {
      await call("/facepp/v3/faceset/removeface", { faceset_token: g.faceset_token, face_tokens: tokens.slice(i, i + 100).join(",") });
    }
    return el("p", { role: "status", "data-testid": "subject-deleted", text: `Deleted subject ${name} (${tokens.length} faces) permanently.` });
  } catch (err) { msg.replaceChildren(errorBox(err)); return false; }
}
