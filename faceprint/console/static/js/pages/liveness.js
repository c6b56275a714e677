// Liveness: a challenge (e.g. blink, turn left) performed live at the webcam, or an uploaded clip.
import { call, ApiError } from "../api.js";
import { el, dropZone, showError, busy } from "../ui.js";
import { zip } from "../zip.js";

const SAY = {
  blink: "Blink slowly, twice", turn_left: "Turn your head to the left", turn_right: "Turn your head to the right",
  nod: "Nod your head", open_mouth: "Open your mouth", smile: "Smile", look_up: "Look up", look_down: "Look down",
};
const STEP_MS = 2500;
const FRAME_MS = 66; // ~15 frames a second; the verifier wants 8 or more, with no gap over 0.25 s
const WHY = {
  TIMESTAMPS_INVALID: "The frame times do not increase steadily.",
  FRAME_GAP: "Frames are missing: the recording stalled.",
  LOW_FRAME_RATE: "Too few frames a second; close other programs and try again.",
  CLIP_TOO_SHORT: "The recording is too short for the challenge.",
  CLIP_TOO_LONG: "The recording is too long for the challenge.",
  NO_FACE: "No face was seen in most of the recording.",
  FACE_TOO_SMALL: "The face is too small: come closer to the camera.",
  FACE_LOST: "The face left the picture for too long.",
  MULTIPLE_FACES: "Another face was in the picture.",
  FACE_CHANGED: "A different person appeared during the recording.",
  STATIC_SEQUENCE: "Nothing moved: it looks like a still picture.",
  PLANAR_FACE: "The face moved like a flat photo or screen.",
  PAD_ATTACK: "The presentation-attack detector judged this a photo, screen or mask.",
  ACTION_MISSING: "An instruction was not performed.",
  ACTIONS_OUT_OF_ORDER: "The instructions were performed in the wrong order.",
  UNEXPECTED_ACTION: "A movement that was not asked for was made.",
  ACTION_TIMEOUT: "An instruction was performed too late.",
  FACE_MISMATCH: "The person does not match the reference photo.",
};

// Grab frames from the live preview as JPEGs, each with its capture time (seconds from the start).
function recorder(video) {
  const canvas = document.createElement("canvas");
  const scale = Math.min(1, 480 / (video.videoWidth || 640));
  canvas.width = Math.round((video.videoWidth || 640) * scale);
  canvas.height = Math.round((video.videoHeight || 480) * scale);
  const ctx = canvas.getContext("2d");
  const frames = [], pending = [];
  const t0 = performance.now();
  const tick = () => {
    const t = (performance.now() - t0) / 1000;
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    pending.push(new Promise((ok) => canvas.toBlob(async (b) => { frames.push({ t, bytes: new Uint8Array(await b.arrayBuffer()) }); ok(); }, "image/jpeg", 0.85)));
  };
  tick();
  const timer = setInterval(tick, FRAME_MS);
  return { async stop() { clearInterval(timer); await Promise.all(pending); return frames.sort((a, b) => a.t - b.t); } };
}

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
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new ApiError("WEBCAM_UNAVAILABLE", "", "this browser cannot record video", 0);
      try { stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false }); }
      catch (e) { throw new ApiError("WEBCAM_UNAVAILABLE", "", e.name === "NotAllowedError" ? "access to the webcam was refused" : e.message, 0); }
      cam.srcObject = stream;
      await cam.play();
      const capture = recorder(cam);
      prompt.textContent = "Look at the camera";
      await wait(1200);
      for (const [i, a] of s.actions.entries()) {
        prompt.textContent = `Step ${i + 1} of ${s.actions.length}: ${SAY[a] || a}`;
        await wait(STEP_MS);
      }
      prompt.textContent = "Hold still…";
      await wait(800);
      const frames = await capture.stop();
      prompt.textContent = "Checking…";
      await verify(s.biz_token, { frames_file: zip(frames.map((f, i) => ({ name: `frame_${String(i).padStart(4, "0")}.jpg`, bytes: f.bytes }))),
        timestamps: frames.map((f) => f.t.toFixed(3)).join(",") }, asked(s));
    } catch (err) {
      prompt.textContent = "";
      showError(result, err);
    } finally {
      if (stream) stream.getTracks().forEach((t) => t.stop());
    }
  }

  // A recorded clip can pass only if it was recorded for a challenge drawn first: draw it, show it,
  // keep it on screen while the user records, then verify the uploaded clip against it.
  let drawn = null;
  const clipAsk = el("div", { "aria-live": "polite", "data-testid": "clip-challenge" });
  const asked = (s) => s.actions.map((a) => SAY[a] || a).join(", then ");
  async function drawChallenge() {
    result.replaceChildren();
    try {
      drawn = await session();
      clipAsk.replaceChildren(el("p", { class: "prompt" }, "Record a clip that shows, in order: ", el("strong", { text: asked(drawn) }), "."),
        el("p", { class: "hint", text: "Then upload it below. The challenge can be used once." }));
    } catch (err) { showError(clipAsk, err); }
  }

  async function fromFile([clip]) {
    result.replaceChildren();
    if (!drawn) {
      showError(result, new ApiError("MISSING_ARGUMENTS", "biz_token", "draw a challenge first, record the clip performing it, then upload it", 0));
      return;
    }
    const s = drawn;
    drawn = null;
    clipAsk.replaceChildren();
    try { await verify(s.biz_token, { video_file: clip }, asked(s)); } catch (err) { showError(result, err); }
  }

  async function verify(biz_token, performance, what = "") {
    busy(result, "Verifying…");
    const r = await call("/faceid/v1/verify", { biz_token, ...performance });
    const ok = r.result === "ACCEPT";
    prompt.textContent = "";
    result.replaceChildren(...[
      what ? el("p", { "data-testid": "asked" }, "Asked: ", el("strong", { text: what })) : null,
      el("p", { class: `verdict ${ok ? "same" : "different"}`, "data-verdict": r.result,
        text: ok ? "Accepted: a live person performed the challenge and matches the reference." : "Rejected: see the reasons below." }),
      r.reasons && r.reasons.length ? el("ul", { class: "reasons" }, r.reasons.map((x) => el("li", {}, el("strong", { class: "code", text: x }), ` ${WHY[x] || ""}`))) : null,
      r.confidence != null ? el("p", { text: `Match confidence with the reference: ${Number(r.confidence).toFixed(1)} / 100` }) : null,
    ].filter(Boolean));
  }

  view.append(
    el("p", { class: "lead", text: "Proves a live person is at the camera, and that they match a reference photo." }),
    dropZone({ label: "Reference photo", testId: "liveness-reference", onFiles: ([f]) => { reference = f; } }),
    el("h2", { text: "Live, with the webcam" }),
    el("button", { type: "button", text: "Start the challenge", onclick: live }), prompt, cam,
    el("h2", { text: "Or upload a recorded clip" }),
    el("button", { type: "button", text: "Draw a challenge for a clip", onclick: drawChallenge }), clipAsk,
    dropZone({ label: "Challenge clip", accept: "video/*", onFiles: fromFile, testId: "liveness-clip" }), result);
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
