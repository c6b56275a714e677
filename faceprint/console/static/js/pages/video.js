// Video: upload a clip, follow the job, see who appears when; click a segment to seek.
import { call, fetchFile } from "../api.js";
import { el, dropZone, showError, errorBox, busy, uid, download, confirmDialog } from "../ui.js";
import { listGalleries, galleryName } from "../galleries.js";

export default async function video(view) {
  const status = el("div", { "aria-live": "polite", "data-testid": "video-status" });
  const player = el("video", { controls: true, class: "player", "aria-label": "The uploaded clip" });
  const timeline = el("div", { "data-testid": "timeline" });
  const gId = uid("gallery");
  const pick = el("select", { id: gId }, el("option", { value: "", text: "None: everyone is unknown-N" }));
  try { for (const g of await listGalleries()) pick.append(el("option", { value: g.faceset_token, text: galleryName(g) })); }
  catch (err) { showError(status, err); }
  const everyId = uid("every");
  const every = el("input", { id: everyId, type: "number", min: 1, max: 100, value: 3 });
  const annId = uid("annotate");
  const annotate = el("input", { id: annId, type: "checkbox", checked: true });
  const start = async ([file]) => {
    player.src = URL.createObjectURL(file);
    timeline.replaceChildren();
    busy(status, "Uploading…");
    try {
      const job = await call("/v1/video/jobs", { video_file: file, faceset_token: pick.value || null, detect_every: every.value || 1, annotate: annotate.checked ? 1 : 0 });
      await follow(job.job_id, status, timeline, player, file.name);
    } catch (err) { showError(status, err); }
  };
  view.append(el("p", { class: "lead", text: "Upload a clip. The service finds the people in it and, with a gallery, names them." }),
    el("div", { class: "controls" }, el("div", {}, el("label", { for: gId, text: "Identify against gallery" }), pick),
      el("div", {}, el("label", { for: everyId, text: "Detect on every Nth frame" }), every),
      el("div", {}, annotate, " ", el("label", { for: annId, text: "Also make an annotated video" }))),
    dropZone({ label: "Video clip", accept: "video/*", onFiles: start, testId: "video-file" }), status, player, timeline);
}

async function follow(jobId, status, timeline, player, name) {
  const bar = el("progress", { max: 1, value: 0, id: uid("jobbar") });
  const note = el("span", { text: "queued" });
  status.replaceChildren(el("label", { for: bar.id, text: `Job ${jobId}` }), bar, note);
  for (;;) {
    const job = await call(`/v1/video/jobs/${encodeURIComponent(jobId)}`);
    bar.value = job.progress || 0;
    note.textContent = `${job.status}: ${job.frames_done || 0} of ${job.frames_total || "?"} frames`;
    if (job.status === "done" || job.result) { draw(job, timeline, player, name, status); return; }
    if (job.error || job.status === "failed") {
      const e = job.error || {};
      status.append(el("div", { class: "error", role: "alert" }, el("strong", { text: e.error_code || "VIDEO_ERROR" }), " ", e.error_message || "The job failed."));
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// The same columns and number formats as `faceprint video --csv` (faceprint/video/timeline.py);
// the console keeps thumbnails in the JSON, so its thumbnail column is empty.
const CSV_COLUMNS = ["label", "known", "start_s", "end_s", "confidence", "track_ids", "thumbnail"];
const csvCell = (v) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

export function timelineCsv(subjects) {
  const rows = subjects.flatMap((s) => s.segments.map((g) => [s.label, s.known ? 1 : 0, g.start_s.toFixed(3), g.end_s.toFixed(3),
    Number(g.confidence).toFixed(2), (g.track_ids || []).join(" "), ""]));
  return [CSV_COLUMNS, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

// Tick marks every 1, 2, 5, 10, 20, 30 or 60 s: about six across the clip.
function axis(duration) {
  const step = [1, 2, 5, 10, 20, 30, 60, 120, 300].find((s) => duration / s <= 8) || 600;
  const ticks = [];
  for (let t = 0; t <= duration - step / 4; t += step) {
    const tick = el("span", { class: "tl-tick", text: `${t} s` });
    tick.style.left = `${(100 * t) / duration}%`;
    ticks.push(tick);
  }
  return el("div", { class: "tl-axis-row" }, el("span", { class: "tl-label hint", text: "time" }),
    el("div", { class: "tl-axis", "data-testid": "tl-axis", "aria-hidden": "true" }, ticks));
}

function draw(job, timeline, player, name, status) {
  const result = job.result;
  const annotated = !job.options || job.options.annotate !== false;
  const subjects = result.subjects || [];
  const duration = (result.video && result.video.duration_s) || Math.max(1, ...subjects.flatMap((s) => s.segments.map((g) => g.end_s)));
  const rows = subjects.map((s) => el("div", { class: "tl-row", role: "group", "aria-label": s.label },
    el("span", { class: "tl-label" }, s.thumbnail_jpeg_base64 ? el("img", { src: `data:image/jpeg;base64,${s.thumbnail_jpeg_base64}`, alt: "", class: "thumb" }) : null, s.label),
    el("div", { class: "tl-track" }, s.segments.map((g) => {
      const b = el("button", { type: "button", class: `tl-seg ${s.known ? "known" : "unknown"}`,
        "aria-label": `${s.label} (${s.known ? "known" : "not enrolled"}) from ${g.start_s.toFixed(1)} s to ${g.end_s.toFixed(1)} s; seek there`,
        onclick: () => { player.currentTime = g.start_s; player.focus(); } });
      b.style.left = `${(100 * g.start_s) / duration}%`;
      b.style.width = `${Math.max(0.8, (100 * (g.end_s - g.start_s)) / duration)}%`;
      return b;
    }))));
  const csv = timelineCsv(subjects);
  const base = name.replace(/\.[^.]+$/, "");
  const legend = el("p", { class: "tl-legend hint" }, el("span", { class: "swatch known" }), " enrolled person ",
    el("span", { class: "swatch unknown" }), " not enrolled (unknown-N)");
  timeline.replaceChildren(...[el("h2", { text: "Timeline" }),
    subjects.length ? el("div", { class: "tl" }, rows, axis(duration)) : el("p", { text: "Nobody was found in this clip." }),
    subjects.length ? legend : null,
    el("div", { class: "row" },
      el("button", { type: "button", text: "Download JSON", onclick: () => download(`${base}.timeline.json`, new Blob([JSON.stringify(result, null, 2)], { type: "application/json" })) }),
      el("button", { type: "button", text: "Download CSV", onclick: () => download(`${base}.timeline.csv`, new Blob([csv], { type: "text/csv" })) }),
      annotated ? el("button", { type: "button", text: "Download annotated video", onclick: (ev) => annotatedVideo(ev.currentTarget, job.job_id, base, status) }) : null,
      el("button", { type: "button", class: "danger", text: "Delete job", onclick: () => deleteJob(job.job_id, timeline, status) })),
    annotated ? null : el("p", { class: "hint", text: "This job was run without an annotated video; tick \"Also make an annotated video\" and upload again for one." }),
  ].filter(Boolean));
}

// The key and secret go in the POST body (never a URL); the mp4 comes back as a blob and is saved from an object URL.
async function annotatedVideo(button, jobId, base, status) {
  button.disabled = true;
  const text = button.textContent;
  button.textContent = "Downloading…";
  try {
    download(`${base}.annotated.mp4`, await fetchFile(`/v1/video/jobs/${encodeURIComponent(jobId)}/annotated`));
  } catch (err) { status.append(errorBox(err)); }
  finally { button.disabled = false; button.textContent = text; }
}

// The timeline names people and the annotated copy shows faces: the server deletes both with the job.
async function deleteJob(jobId, timeline, status) {
  const ok = await confirmDialog("Delete this video job?",
    "The job, its timeline and its annotated video are deleted from the server permanently.", "Delete permanently");
  if (!ok) return;
  try {
    await call(`/v1/video/jobs/${encodeURIComponent(jobId)}/delete`);
    timeline.replaceChildren();
    status.replaceChildren(el("p", { role: "status", text: `Deleted job ${jobId}.` }));
  } catch (err) { status.append(errorBox(err)); }
}
