// The service's own API, called with the signed-in key. The secret lives in sessionStorage
// (this browser tab's session only), never in localStorage or a URL, and travels only as a
// form field in POST bodies.
const KEY = "faceprint.api_key";
const SECRET = "faceprint.api_secret";

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  get secret() { return sessionStorage.getItem(SECRET); },
  get signedIn() { return Boolean(sessionStorage.getItem(KEY) && sessionStorage.getItem(SECRET)); },
  set(key, secret) { sessionStorage.setItem(KEY, key); sessionStorage.setItem(SECRET, secret); },
  clear() { sessionStorage.removeItem(KEY); sessionStorage.removeItem(SECRET); pace.forget(); },
};

const PLAIN = {
  AUTHENTICATION_ERROR: "The API key or secret is wrong, or the key has been revoked. Sign out and sign in with a valid key.",
  AUTHORIZATION_ERROR: "This key is not allowed to do this: it lacks the scope the action needs. Ask an administrator for a key with that scope.",
  CONCURRENCY_LIMIT_EXCEEDED: "Too many requests for this key's rate limit (another tab or program may be using the same key). Wait a moment and try again.",
  MISSING_ARGUMENTS: "Something the request needs is missing.",
  BAD_ARGUMENTS: "One of the values sent is not valid.",
  COEXISTENCE_ARGUMENTS: "Two inputs were given where only one is allowed.",
  API_NOT_FOUND: "The service has no such endpoint; the console and the server may be different versions.",
  REQUEST_ENTITY_TOO_LARGE: "The upload is larger than the server accepts.",
  IMAGE_ERROR_UNSUPPORTED_FORMAT: "The file is not an image the service can read (use JPEG, PNG, WebP or BMP).",
  IMAGE_FILE_TOO_LARGE: "The image file is too large.",
  INVALID_IMAGE_SIZE: "The image is too small or too large in pixels.",
  NO_FACE_FOUND: "No face was found in the image.",
  MULTIPLE_FACES: "The image shows more than one face.",
  LOW_QUALITY: "The face is too blurred, dark or small to use.",
  INVALID_FACE_TOKEN: "The face is unknown or has expired.",
  INVALID_FACESET_TOKEN: "That gallery does not exist (it may have been deleted).",
  INVALID_OUTER_ID: "No gallery has that ID.",
  FACESET_EXIST: "A gallery with that ID already exists. Pick another ID.",
  NEW_OUTER_ID_EXIST: "Another gallery already uses that ID.",
  FACESET_NOT_EMPTY: "The gallery still holds faces.",
  FACESET_QUOTA_EXCEEDED: "You have reached the maximum number of galleries.",
  EMPTY_FACESET: "The gallery holds no faces yet; enrol some first.",
  INVALID_FACE_TOKENS_SIZE: "Too many faces in one request.",
  INVALID_JOB_ID: "No video job with that ID.",
  JOB_INTERRUPTED: "The video job was interrupted by a server restart.",
  JOB_NOT_FINISHED: "The video job has not finished yet; its annotated video is ready when it is done.",
  ANNOTATED_VIDEO_UNAVAILABLE: "This video job kept no annotated video (it was run without one, or it failed).",
  INVALID_CHALLENGE: "The liveness session is not valid.",
  NONCE_REUSED: "This liveness session was already used; start a new one.",
  NONCE_UNKNOWN: "The liveness session is unknown; start a new one.",
  SESSION_EXPIRED: "The liveness session expired; start a new one.",
  INVALID_REFERENCE: "The reference face for liveness could not be used.",
  INVALID_FRAME_SEQUENCE: "The recorded frames could not be used.",
  LIVENESS_ERROR: "The liveness check could not run on this recording.",
  VIDEO_ERROR: "The video could not be processed.",
  VIDEO_ERROR_CORRUPT: "The video file is damaged.",
  VIDEO_ERROR_EMPTY_FILE: "The video file is empty.",
  VIDEO_ERROR_NO_VIDEO_STREAM: "The file has no video track.",
  VIDEO_ERROR_TOO_LARGE: "The video is too long or too large.",
  VIDEO_ERROR_TRUNCATED: "The video file is cut short.",
  VIDEO_ERROR_UNSUPPORTED_CODEC: "The video's codec is not supported (use H.264, VP8 or VP9).",
  VIDEO_ERROR_UNSUPPORTED_FORMAT: "The file is not a supported video format.",
  INTERNAL_ERROR: "The server failed while handling this request; the server log has details.",
  WEBCAM_UNAVAILABLE: "The webcam cannot be used here (no camera, or permission refused). Use the file upload instead.",
  NETWORK_ERROR: "The service could not be reached. Check that faceprint serve is running.",
  BAD_RESPONSE: "The service sent a reply the console cannot read.",
};

export class ApiError extends Error {
  constructor(code, param, detail, status) {
    super(`${code}${param ? ": " + param : ""}`);
    this.code = code;
    this.param = param || "";
    this.detail = detail || "";
    this.status = status;
  }
  get plain() {
    const base = PLAIN[this.code] || "The request failed.";
    return this.detail ? `${base} (${this.detail})` : base;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Client-side pacing: the console never sends faster than its key allows. The server names the
// key's rate in X-RateLimit-Limit (requests/s); until a reply says, 5/s is assumed. Calls leave
// evenly spaced at 90% of that rate. A key's bucket holds max(1, qps) requests, so a slow key has
// no slack for the network's and the server's delays: under 3/s, calls also go one at a time, each
// a full gap after the previous reply, which the server has already counted. A refusal that still
// comes back (another tab or program on the same key) is shown, not retried behind the user's back.
// The rate and the last send time outlive a page reload (sessionStorage, cleared on sign-out).
const PACE = "faceprint.pace";
export const pace = {
  qps: 5,
  last: 0, // Date.now() of the last send (or, for a slow key, of the last reply)
  queue: Promise.resolve(),
  restore() {
    try { Object.assign(this, JSON.parse(sessionStorage.getItem(PACE) || "{}")); } catch { /* a fresh start */ }
  },
  save() { sessionStorage.setItem(PACE, JSON.stringify({ qps: this.qps, last: this.last })); },
  forget() { sessionStorage.removeItem(PACE); this.qps = 5; this.last = 0; },
  learn(res) {
    const q = Number(res.headers.get("X-RateLimit-Limit"));
    if (q > 0 && q !== this.qps) { this.qps = q; this.save(); }
  },
  // Wait for this call's turn; the returned function is called once its reply is in.
  async turn() {
    const prev = this.queue;
    let release;
    this.queue = new Promise((r) => { release = r; });
    await prev;
    const serial = this.qps < 3;
    const wait = this.last + 1000 / (0.9 * this.qps) - Date.now();
    if (wait > 0) await sleep(wait);
    this.last = Date.now();
    this.save();
    if (!serial) release();
    return () => {
      if (serial || this.qps < 3) { this.last = Date.now(); this.save(); } // the reply may have just said the key is slow
      release();
    };
  },
};
pace.restore();

async function send(path, form) {
  const done = await pace.turn();
  try {
    const res = await fetch(path, { method: "POST", body: form, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" });
    pace.learn(res);
    return res;
  } catch (e) {
    throw new ApiError("NETWORK_ERROR", "", String(e.message || e), 0);
  } finally {
    done();
  }
}

function formFor(fields) {
  const form = new FormData();
  form.append("api_key", session.key || "");
  form.append("api_secret", session.secret || "");
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    if (value instanceof Blob) form.append(name, value, value.name || "upload");
    else form.append(name, String(value));
  }
  return form;
}

function errorFrom(body, status) {
  const msg = String(body.error_message || `HTTP ${status}`);
  const cut = msg.indexOf(":");
  return new ApiError(cut < 0 ? msg : msg.slice(0, cut), cut < 0 ? "" : msg.slice(cut + 1).trim(), body.error_detail, status);
}

// A file the service sends back (an annotated video): POSTed like ``call``, answered as a Blob.
export async function fetchFile(path, fields = {}) {
  const res = await send(path, formFor(fields));
  if (!res.ok) {
    let body;
    try { body = await res.json(); } catch { throw new ApiError("BAD_RESPONSE", "", `HTTP ${res.status}`, res.status); }
    throw errorFrom(body, res.status);
  }
  return res.blob();
}

export async function call(path, fields = {}) {
  const res = await send(path, formFor(fields));
  let body;
  try { body = await res.json(); } catch { throw new ApiError("BAD_RESPONSE", "", `HTTP ${res.status}`, res.status); }
  if (!res.ok || body.error_message) throw errorFrom(body, res.status);
  return body;
}

// Run ``work`` over ``items`` with at most ``width`` in flight; results in input order.
export async function pool(items, width, work) {
  const out = new Array(items.length);
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}
