// Galleries are Face++ facesets; a subject is the user_id on their faces.
import { call, pool } from "./api.js";

export async function listGalleries() {
  const out = [];
  let start = 1;
  for (;;) {
    const page = await call("/facepp/v3/faceset/getfacesets", { start });
    out.push(...page.facesets);
    if (!page.next) return out;
    start = page.next;
  }
}

export const galleryName = (g) => g.display_name || g.outer_id || g.faceset_token;

// Every face of a gallery with its subject: [{face_token, user_id}]
export async function galleryFaces(faceset_token) {
  const tokens = [];
  let start = 1;
  for (;;) {
    const page = await call("/facepp/v3/faceset/getdetail", { faceset_token, start });
    tokens.push(...page.face_tokens);
    if (!page.next) break;
    start = page.next;
  }
  return pool(tokens, 4, async (face_token) => {
    const d = await call("/facepp/v3/face/getdetail", { face_token });
    return { face_token, user_id: d.user_id || "", face_rectangle: d.face_rectangle };
  });
}

export function bySubject(faces) {
  const map = new Map();
  for (const f of faces) {
    const k = f.user_id || "(no subject)";
    if (!map.has(k)) map.set(k, []);
    map.get(k).push(f);
  }
  return [...map.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}
