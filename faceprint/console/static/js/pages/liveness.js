// Liveness: a challenge (e.g. blink, turn left) performed live at the webcam, or an uploaded clip.
import { call, ApiError } from "../api.js";
import { el, dropZone, showError, busy } from "../ui.js";

const SAY = {
  blink: "Blink slowly, twice", turn_left: "Turn your head to the left", turn_right: "Turn your head to the right",
  nod: "Nod your head", open_mouth: "Open your mouth", smile: "Smile", look_up: "Look up", look_down: "Look down",
};
const STEP_MS = 2500;

export default function liveness(view) {
  let reference = null;
  const prompt = el("p", { class: "prompt", "aria-live": "assertive", "data-testid": "instruction" });
  const result = el("div", { "aria-live": "polite", "data-testid": "liveness-result" });
  const cam = el("video", { class: "player", autoplay: true, muted: true, playsinline: true, "aria-label": "Webcam preview" });

  async function session() {
    if (!reference) throw new ApiError("MISSING_ARGUMENTS", "image_file", "choose a reference photo first", 0);
    return call("/faceid/v1/biz_token", { image_file: reference });
  }

  async function live() {
    result.replaceChildren();
    let stream;
    try {
      const s = await session();
      if (!navigator.mediaDevices || !window.MediaRecorder) throw new ApiError("WEBCAM_UNAVAILABLE", "", "this browser cannot record video", 0);
      try { stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false }); }
      catch (e) { throw new ApiError("WEBCAM_UNAVAILABLE", "", e.name === "NotAllowedError" ? "access to the webcam was refused" : e.message, 0); }
      cam.srcObject = stream;
      const chunks = [];
      const rec = new MediaRecorder(stream, { mimeType: MediaRecorder.isTypeSupported("video/webm;codecs=vp8") ? "video/webm;codecs=vp8" : "video/webm" });
      rec.ondataavailable = (e) => e.data.size && chunks.push(e.data);
      const stopped = new Promise((r) => { rec.onstop = r; });
      rec.start(250);
      prompt.textContent = "Look at the camera";
      await wait(1200);
      for (const [i, a] of s.actions.entries()) {
        prompt.textContent = `Step ${i + 1} of ${s.actions.length}: ${SAY[a] || a}`;
        await wait(STEP_MS);
      }
      prompt.textContent = "Hold still…";
      await wait(800);
      rec.stop();
      await stopped;
      prompt.textContent = "Checking…";
      await verify(s.biz_token, new File(chunks, "liveness.webm", { type: "video/webm" }));
    } catch (err) {
      prompt.textContent = "";
      showError(result, err);
    } finally {
      if (stream) stream.getTracks().forEach((t) => t.stop());
    }
  }

  async function fromFile([clip]) {
    result.replaceChildren();
    try {
      const s = await session();
      prompt.textContent = `The clip must show, in order: ${s.actions.map((a) => SAY[a] || a).join(", then ")}.`;
      await verify(s.biz_token, clip);
    } catch (err) { showError(result, err); }
  }

  async function verify(biz_token, clip) {
    busy(result, "Verifying…");
    const r = await call("/faceid/v1/verify", { biz_token, video_file: clip });
    const ok = r.result === "ACCEPT";
    prompt.textContent = "";
    result.replaceChildren(
      el("p", { class: `verdict ${ok ? "same" : "different"}`, "data-verdict": r.result,
        text: ok ? "Accepted: a live person performed the challenge and matches the reference." : "Rejected: see the reasons below." }),
      r.reasons && r.reasons.length ? el("ul", {}, r.reasons.map((x) => el("li", { text: x }))) : null,
      r.confidence != null ? el("p", { text: `Match confidence with the reference: ${Number(r.confidence).toFixed(1)} / 100` }) : null);
  }

  view.append(
    el("p", { class: "lead", text: "Proves a live person is at the camera, and that they match a reference photo." }),
    dropZone({ label: "Reference photo", testId: "liveness-reference", onFiles: ([f]) => { reference = f; } }),
    el("h2", { text: "Live, with the webcam" }),
    el("button", { type: "button", text: "Start the challenge", onclick: live }), prompt, cam,
    el("h2", { text: "Or upload a recorded clip" }),
    dropZone({ label: "Challenge clip", accept: "video/*", onFiles: fromFile, testId: "liveness-clip" }), result);
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
