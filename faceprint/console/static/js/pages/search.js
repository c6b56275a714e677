// Search: a probe photo against chosen galleries -> top-K with confidence and subject, open-set decision.
import { call } from "../api.js";
import { el, dropZone, faceFigure, loadImage, showError, busy, uid } from "../ui.js";
import { listGalleries, galleryName } from "../galleries.js";

export default async function search(view) {
  const slot = el("div", { "aria-live": "polite" });
  view.append(el("p", { class: "lead", text: "Drop a probe photo and pick the galleries to search. The largest face is searched." }), slot);
  let galleries;
  try { galleries = await listGalleries(); } catch (err) { showError(slot, err); return; }
  if (!galleries.length) { slot.replaceChildren(el("p", { text: "No galleries yet. Create one on the Galleries page and enrol faces." })); return; }
  const picks = el("fieldset", { class: "picks" }, el("legend", { text: "Galleries" }),
    galleries.map((g, i) => { const id = uid("g"); return el("div", { class: "check" },
      el("input", { type: "checkbox", id, value: g.faceset_token, checked: i === 0 }), el("label", { for: id, text: galleryName(g) })); }));
  const kId = uid("k"), farId = uid("far");
  const k = el("input", { id: kId, type: "number", min: 1, max: 20, value: 5 });
  const far = el("select", { id: farId }, ["1e-3", "1e-4", "1e-5"].map((v) => el("option", { value: v, text: `${v} false match rate`, selected: v === "1e-4" })));
  const figure = el("div", { class: "slot" });
  const result = el("div", { class: "result", "aria-live": "polite", "data-testid": "search-result" });
  let probe = null;
  const run = async () => {
    if (!probe) return;
    const chosen = galleries.filter((g) => picks.querySelector(`input[value="${g.faceset_token}"]`).checked);
    if (!chosen.length) { result.replaceChildren(el("p", { role: "alert", text: "Pick at least one gallery." })); return; }
    busy(result, "Searching…");
    try {
      const det = await call("/facepp/v3/detect", { image_file: probe, return_landmark: 1 });
      figure.replaceChildren(faceFigure(await loadImage(probe), det.faces, `Probe (${probe.name})`));
      if (!det.faces.length) { result.replaceChildren(el("p", { class: "verdict none", text: "No face was found in the probe photo." })); return; }
      const token = det.faces[0].face_token;
      const count = Math.max(1, Math.min(20, Number(k.value) || 5));
      const hits = [];
      let thresholds = null;
      const empty = [];
      for (const g of chosen) {
        try {
          const r = await call("/facepp/v3/search", { face_token: token, faceset_token: g.faceset_token, return_result_count: count });
          thresholds = r.thresholds;
          for (const h of r.results || []) hits.push({ ...h, gallery: galleryName(g) });
        } catch (err) {
          if (err.code === "EMPTY_FACESET") empty.push(galleryName(g)); else throw err;
        }
      }
      hits.sort((a, b) => b.confidence - a.confidence);
      result.replaceChildren(...render(hits.slice(0, count), thresholds, far.value, empty));
    } catch (err) { showError(result, err); }
  };
  view.append(el("div", { class: "controls" }, picks,
    el("div", {}, el("label", { for: kId, text: "How many results (top K)" }), k),
    el("div", {}, el("label", { for: farId, text: "Operating point" }), far)),
  dropZone({ label: "Probe photo", testId: "search-file", onFiles: ([f]) => { probe = f; run(); } }),
  el("button", { type: "button", text: "Search again", onclick: run }), figure, result);
}

function render(hits, thresholds, far, empty) {
  const out = [];
  if (empty.length) out.push(el("p", { class: "hint", text: `Empty galleries skipped: ${empty.join(", ")}` }));
  if (!hits.length || !thresholds) {
    out.push(el("p", { class: "verdict different", "data-testid": "decision", "data-match": "", text: "No match: the chosen galleries hold no faces to compare with." }));
    return out;
  }
  const bar = thresholds[far];
  const top = hits[0];
  const match = top.confidence >= bar;
  out.push(el("p", { class: `verdict ${match ? "same" : "different"}`, "data-testid": "decision", "data-match": match ? top.user_id : "",
    text: match
      ? `Match: ${top.user_id || "a face with no subject"} (confidence ${top.confidence.toFixed(1)}, above the ${far} threshold ${bar.toFixed(1)}).`
      : `No match: the best confidence ${top.confidence.toFixed(1)} is below the ${far} threshold ${bar.toFixed(1)}, so this person is not in the chosen galleries.` }));
  out.push(el("table", { class: "hits" },
    el("caption", { text: `Top ${hits.length} results` }),
    el("thead", {}, el("tr", {}, ["Rank", "Subject", "Confidence", "Above threshold", "Gallery", "Thumbnail"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, hits.map((h, i) => el("tr", { "data-subject": h.user_id },
      el("td", { text: String(i + 1) }), el("td", { text: h.user_id || "(no subject)" }), el("td", { text: h.confidence.toFixed(1) }),
      el("td", { text: h.confidence >= bar ? "yes" : "no" }), el("td", { text: h.gallery }),
      el("td", { class: "hint", text: "not stored" }))))));
  return out;
}
