// Compare: two photos -> faces with boxes and landmarks, the confidence on a gauge, a verdict.
import { call } from "../api.js";
import { el, svg, dropZone, faceFigure, loadImage, showError, busy } from "../ui.js";

const LEVELS = [["1e-3", "1 in 1,000"], ["1e-4", "1 in 10,000"], ["1e-5", "1 in 100,000"]];

export default function compare(view) {
  const files = [null, null];
  const figures = el("div", { class: "pair" }, el("div", { class: "slot" }), el("div", { class: "slot" }));
  const result = el("div", { class: "result", "aria-live": "polite", "data-testid": "compare-result" });
  const run = async () => {
    if (!files[0] || !files[1]) return;
    busy(result, "Comparing…");
    try {
      const sides = await Promise.all(files.map((f) => call("/facepp/v3/detect", { image_file: f, return_landmark: 1 })));
      const imgs = await Promise.all(files.map(loadImage));
      sides.forEach((s, i) => figures.children[i].replaceChildren(faceFigure(imgs[i], s.faces, `Photo ${i + 1} (${files[i].name})`)));
      const missing = sides.findIndex((s) => !s.faces.length);
      if (missing >= 0) {
        result.replaceChildren(el("p", { class: "verdict none", text: `No face was found in photo ${missing + 1}, so there is nothing to compare.` }));
        return;
      }
      // The photos themselves, not the face tokens: images are compared as 1:1 templates (mirror
      // image fused in), which is what `faceprint compare` and FaceEngine.compare report.
      const r = await call("/facepp/v3/compare", { image_file1: files[0], image_file2: files[1] });
      result.replaceChildren(gauge(r.confidence, r.thresholds), verdict(r.confidence, r.thresholds));
    } catch (err) {
      showError(result, err);
    }
  };
  const zones = [0, 1].map((i) => dropZone({
    label: `Photo ${i + 1}`, testId: `compare-file-${i + 1}`,
    onFiles: ([f]) => { files[i] = f; figures.children[i].replaceChildren(el("p", { class: "hint", text: f.name })); run(); },
  }));
  view.append(
    el("p", { class: "lead", text: "Drop two photos. The largest face of each is compared." }),
    el("div", { class: "pair" }, ...zones), figures, result);
}

export function verdict(confidence, t) {
  let text, cls;
  if (confidence >= t["1e-5"]) [text, cls] = ["Same person. Strong evidence: a score this high happens by chance for different people less than 1 time in 100,000.", "same"];
  else if (confidence >= t["1e-4"]) [text, cls] = ["Same person. Good evidence: different people score this high less than 1 time in 10,000.", "same"];
  else if (confidence >= t["1e-3"]) [text, cls] = ["Probably the same person, but weak evidence: different people score this high about 1 time in 1,000.", "maybe"];
  else [text, cls] = ["Different people. The score is below every match threshold.", "different"];
  return el("p", { class: `verdict ${cls}`, "data-testid": "verdict", "data-verdict": cls, text });
}

// A horizontal 0-100 gauge with the three thresholds marked.
export function gauge(confidence, t) {
  const W = 400, H = 64, x = (v) => 10 + (W - 20) * Math.max(0, Math.min(100, v)) / 100;
  const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "gauge", role: "img",
    "aria-label": `Confidence ${confidence.toFixed(1)} out of 100; thresholds ${LEVELS.map(([k]) => `${k} at ${t[k].toFixed(1)}`).join(", ")}` });
  g.append(svg("rect", { x: 10, y: 20, width: W - 20, height: 14, rx: 7, class: "track" }));
  g.append(svg("rect", { x: 10, y: 20, width: Math.max(0, x(confidence) - 10), height: 14, rx: 7, class: "fill" }));
  LEVELS.forEach(([k], i) => {
    g.append(svg("line", { x1: x(t[k]), x2: x(t[k]), y1: 14, y2: 40, class: "mark" }));
    const label = svg("text", { x: x(t[k]), y: i % 2 ? 54 : 10, class: "mark-label", "text-anchor": "middle" });
    label.textContent = `${k}`;
    g.append(label);
  });
  return el("div", { class: "gauge-box" },
    el("p", { class: "score" }, "Confidence ", el("strong", { "data-testid": "confidence", text: confidence.toFixed(1) }), " / 100"),
    g,
    el("ul", { class: "legend" }, LEVELS.map(([k, words]) => el("li", { text: `${k} (false match ${words}): ${t[k].toFixed(1)}` }))));
}
