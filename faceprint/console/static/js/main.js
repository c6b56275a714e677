// The console shell: sign-in, hash routing between pages, the signed-in banner.
import { session, call } from "./api.js";
import { el, errorBox, uid } from "./ui.js";
import compare from "./pages/compare.js";
import search from "./pages/search.js";
import galleries from "./pages/galleries.js";
import video from "./pages/video.js";
import liveness from "./pages/liveness.js";
import keys from "./pages/keys.js";

const PAGES = { compare, search, galleries, video, liveness, keys };
const TITLES = { compare: "Compare", search: "Search", galleries: "Galleries", video: "Video", liveness: "Liveness", keys: "Keys and audit" };
const main = document.getElementById("main");

function signIn() {
  const k = uid("key"), s = uid("secret");
  const slot = el("div");
  const form = el("form", { class: "card signin", "aria-labelledby": "signin-title" },
    el("h1", { id: "signin-title", text: "Sign in with an API key" }),
    el("p", {}, "Use a key made with ", el("code", { text: "faceprint keys create" }),
      ". The secret stays in this browser tab's session and is sent only in request bodies to this server."),
    el("label", { for: k, text: "API key" }), el("input", { id: k, name: "api_key", autocomplete: "username", required: true, spellcheck: "false" }),
    el("label", { for: s, text: "API secret" }), el("input", { id: s, name: "api_secret", type: "password", autocomplete: "current-password", required: true }),
    el("button", { type: "submit", text: "Sign in" }), slot);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    session.set(form.api_key.value.trim(), form.api_secret.value.trim());
    try {
      // Any scope will do to prove the pair: an unknown endpoint would 404, so ask for galleries.
      await call("/facepp/v3/faceset/getfacesets").catch((err) => { if (err.code !== "AUTHORIZATION_ERROR") throw err; });
      render();
    } catch (err) {
      session.clear();
      slot.replaceChildren(errorBox(err));
    }
  });
  return form;
}

function banner() {
  const who = document.getElementById("who");
  if (!session.signedIn) { who.replaceChildren(); return; }
  const out = el("button", { type: "button", text: "Sign out", onclick: () => { session.clear(); render(); } });
  who.replaceChildren(el("span", { class: "key", text: session.key }), out);
}

function render() {
  banner();
  const name = (location.hash.replace(/^#\/?/, "") || "compare").split("?")[0];
  const page = PAGES[name] ? name : "compare";
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === `#/${page}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${TITLES[page]} · faceprint`;
  if (!session.signedIn) { main.replaceChildren(signIn()); return; }
  const view = el("section", { class: "page", "aria-labelledby": `${page}-title`, "data-page": page });
  view.append(el("h1", { id: `${page}-title`, text: TITLES[page] }));
  main.replaceChildren(view);
  PAGES[page](view);
}

window.addEventListener("hashchange", () => { render(); main.focus(); });
render();
