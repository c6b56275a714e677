// Search: who is every face of a probe photo? One /v1/identify call per chosen gallery; each face
// gets its best subjects and the open-set decision. Click a face (or its row) to see its candidates.
import { call } from "../api.js";
import { el, dropZone, faceFigure, loadImage, showError, busy, uid } from "../ui.js";
import { listGalleries, galleryName } from "../galleries.js";

const MAX_K = 100; // the service's return_result_count limit

export default async function search(view) {
  const slot = el("div", { "aria-live": "polite" });
  view.append(el("p", { class: "lead", text: "Drop a probe photo and pick the galleries to search. Every face in it is searched; click a face to see its candidates." }), slot);
  let galleries;
  try { galleries = await listGalleries(); } catch (err) { showError(slot, err); return; }
  if (!galleries.length) { slot.replaceChildren(el("p", { text: "No galleries yet. Create one on the Galleries page and enrol faces." })); return; }
  const picks = el("fieldset", { class: "picks" }, el("legend", { text: "Galleries" }),
    galleries.map((g, i) => { const id = uid("g"); return el("div", { class: "check" },
      el("input", { type: "checkbox", id, value: g.faceset_token, checked: i === 0 }), el("label", { for: id, text: galleryName(g) })); }));
  const kId = uid("k"), farId = uid("far");
  const k = el("input", { id: kId, type: "number", min: 1, max: MAX_K, value: 5 });
  const far = el("select", { id: farId }, ["1e-3", "1e-4", "1e-5"].map((v) => el("option", { value: v, text: `${v} false match rate`, selected: v === "1e-4" })));
  const figure = el("div", { class: "slot" });
  const summary = el("div", { "data-testid": "search-faces" });
  const result = el("div", { class: "result", "aria-live": "polite", "data-testid": "search-result" });
  let probe = null;
  const run = async () => {
    if (!probe) return;
    const chosen = galleries.filter((g) => picks.querySelector(`input[value="${g.faceset_token}"]`).checked);
    if (!chosen.length) { result.replaceChildren(el("p", { role: "alert", text: "Pick at least one gallery." })); return; }
    busy(result, "Searching every face…");
    summary.replaceChildren();
    try {
      const count = Math.max(1, Math.min(MAX_K, Number(k.value) || 5));
      const found = await identifyAll(probe, chosen, count);
      const img = await loadImage(probe);
      if (!found.faces.length) {
        figure.replaceChildren(faceFigure(img, [], `Probe (${probe.name})`));
        result.replaceChildren(el("p", { class: "verdict none", "data-testid": "decision", "data-match": "", text: "No face was found in the probe photo." }));
        return;
      }
      const show = (i) => {
        figure.replaceChildren(clickable(faceFigure(img, found.faces, `Probe (${probe.name})`), found.faces, i, show));
        summary.replaceChildren(faceList(found, far.value, i, show));
        result.replaceChildren(...render(found.faces[i], i, found.thresholds, far.value, found.empty, count));
      };
      show(0);
    } catch (err) { showError(result, err); }
  };
  view.append(el("div", { class: "controls" }, picks,
    el("div", {}, el("label", { for: kId, text: "How many subjects per face (top K)" }), k),
    el("div", {}, el("label", { for: farId, text: "Operating point" }), far)),
  dropZone({ label: "Probe photo", testId: "search-file", onFiles: ([f]) => { probe = f; run(); } }),
  el("button", { type: "button", text: "Search again", onclick: run }), figure, summary, result);
}

// Every face of the photo with its subjects from all chosen galleries, best first.
async function identifyAll(file, chosen, count) {
  let faces = null, thresholds = null;
  const empty = [];
  for (const g of chosen) {
    let r;
    try {
      r = await call("/v1/identify", { image_file: file, faceset_token: g.faceset_token, return_result_count: count });
    } catch (err) {
      if (err.code === "EMPTY_FACESET") { empty.push(galleryName(g)); continue; } throw err;
    }
    thresholds = r.thresholds || thresholds;
    if (!faces) faces = r.faces.map((f) => ({ face_rectangle: f.face_rectangle, face_token: f.face_token, hits: [] }));
    r.faces.forEach((f, i) => { for (const h of f.results) faces[i].hits.push({ ...h, gallery: galleryName(g) }); });
  }
  for (const f of faces || []) f.hits.sort((a, b) => b.confidence - a.confidence).splice(count);
  return { faces: faces || [], thresholds, empty };
}

const nameOf = (f, bar) => (f.hits.length && f.hits[0].confidence >= bar ? f.hits[0].user_id || "(no subject)" : "unknown");

// The figure's boxes become clickable: the chosen face is drawn in the main colour.
function clickable(fig, faces, selected, show) {
  fig.querySelectorAll("rect.box").forEach((r, i) => {
    r.setAttribute("class", i === selected ? "box main" : "box");
    r.setAttribute("data-face", String(i));
    r.style.cursor = "pointer";
    r.style.pointerEvents = "all";
    r.addEventListener("click", () => show(i));
  });
  return fig;
}

function faceList(found, far, selected, show) {
  const bar = found.thresholds ? found.thresholds[far] : Infinity;
  return el("table", { class: "hits faces-list" },
    el("caption", { text: `${found.faces.length} face${found.faces.length === 1 ? "" : "s"} in the photo` }),
    el("thead", {}, el("tr", {}, ["Face", "Best subject", "Confidence", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, found.faces.map((f, i) => el("tr", { "data-face": String(i), "data-subject": nameOf(f, bar), class: i === selected ? "chosen" : "" },
      el("td", { text: `#${i}` }), el("td", { text: nameOf(f, bar) }),
      el("td", { text: f.hits.length ? f.hits[0].confidence.toFixed(1) : "-" }),
      el("td", {}, el("button", { type: "button", "aria-pressed": i === selected ? "true" : "false", text: `Show face #${i}`, onclick: () => show(i) }))))));
}

function render(face, i, thresholds, far, empty, count) {
  const out = [];
  if (empty.length) out.push(el("p", { class: "hint", text: `Empty galleries skipped: ${empty.join(", ")}` }));
  const hits = face.hits;
  if (!hits.length || !thresholds) {
    out.push(el("p", { class: "verdict different", "data-testid": "decision", "data-match": "", text: "No match: the chosen galleries hold no faces to compare with." }));
    return out;
  }
  const bar = thresholds[far];
  const top = hits[0];
  const match = top.confidence >= bar;
  out.push(el("p", { class: `verdict ${match ? "same" : "different"}`, "data-testid": "decision", "data-match": match ? top.user_id : "", "data-face": String(i),
    text: match
      ? `Match for face #${i}: ${top.user_id || "a face with no subject"} (confidence ${top.confidence.toFixed(1)}, above the ${far} threshold ${bar.toFixed(1)}).`
      : `No match for face #${i}: the best confidence ${top.confidence.toFixed(1)} is below the ${far} threshold ${bar.toFixed(1)}, so this person is not in the chosen galleries.` }));
  out.push(el("table", { class: "hits" },
    el("caption", { text: `Face #${i}: top ${hits.length} of up to ${count} subjects` }),
    el("thead", {}, el("tr", {}, ["Rank", "Subject", "Confidence", "Above threshold", "Gallery"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, hits.map((h, r) => el("tr", { "data-subject": h.user_id },
      el("td", { text: String(r + 1) }), el("td", { text: h.user_id || "(no subject)" }), el("td", { text: h.confidence.toFixed(1) }),
      el("td", { text: h.confidence >= bar ? "yes" : "no" }), el("td", { text: h.gallery }))))));
  return out;
}
