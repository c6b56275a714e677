// Keys and audit (admin scope): create and revoke keys (secret shown once), browse and verify the audit log.
import { call } from "../api.js";
import { el, showError, uid, confirmDialog, errorBox } from "../ui.js";

const SCOPES = ["detect", "compare", "faceset:read", "faceset:write", "admin"];

export default async function keys(view) {
  const gate = el("div", { "aria-live": "polite", "data-testid": "keys-gate" });
  view.append(gate);
  let listing;
  try { listing = await call("/admin/keys/list"); } catch (err) {
    gate.replaceChildren(errorBox(err), el("p", { text: "The Keys and audit page needs a key with the admin scope." }));
    return;
  }
  const msg = el("div", { "aria-live": "polite" });
  const table = el("div", { "data-testid": "keys-table" });
  const drawKeys = (items) => table.replaceChildren(el("table", { class: "list" }, el("caption", { text: `Keys of your tenant (${items.length})` }),
    el("thead", {}, el("tr", {}, ["API key", "Name", "Scopes", "Rate (req/s)", "State", "Actions"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, items.map((k) => el("tr", { "data-key": k.api_key },
      el("td", { class: "mono", text: k.api_key }), el("td", { text: k.name }), el("td", { text: k.scopes.join(", ") }),
      el("td", { text: String(k.qps) }), el("td", { text: k.revoked ? "revoked" : "active" }),
      el("td", {}, k.revoked ? "" : el("button", { type: "button", class: "danger", text: "Revoke", "aria-label": `Revoke ${k.name} (${k.api_key})`, onclick: () => revoke(k) })))))));
  const reload = async () => { try { drawKeys((await call("/admin/keys/list")).keys); } catch (err) { showError(msg, err); } };

  async function revoke(k) {
    const ok = await confirmDialog(`Revoke ${k.name}?`, "Requests with this key fail from now on. A revoked key cannot be restored.", "Revoke key");
    if (!ok) return;
    try { await call("/admin/keys/revoke", { target: k.api_key }); msg.replaceChildren(el("p", { role: "status", text: `Revoked ${k.api_key}.` })); reload(); }
    catch (err) { showError(msg, err); }
  }

  const nameId = uid("kname"), qpsId = uid("qps");
  const form = el("form", { class: "card", "aria-labelledby": "newkey-title" }, el("h2", { id: "newkey-title", text: "New key" }),
    el("label", { for: nameId, text: "Name" }), el("input", { id: nameId, name: "name", required: true, maxlength: 64 }),
    el("fieldset", { class: "picks" }, el("legend", { text: "Scopes" }), SCOPES.map((s) => { const id = uid("scope"); return el("div", { class: "check" },
      el("input", { type: "checkbox", id, value: s, checked: s !== "admin" }), el("label", { for: id, text: s })); })),
    el("label", { for: qpsId, text: "Requests per second" }), el("input", { id: qpsId, name: "qps", type: "number", min: 1, max: 1000, value: 10 }),
    el("button", { type: "submit", text: "Create key" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const scopes = [...form.querySelectorAll("fieldset input:checked")].map((i) => i.value).join(",");
    try {
      const k = await call("/admin/keys/create", { name: form.name.value, scopes, qps: form.qps.value });
      form.reset();
      msg.replaceChildren(el("div", { class: "secret", role: "status", "data-testid": "new-secret" },
        el("p", {}, el("strong", { text: "Copy the secret now: it is shown once and cannot be retrieved later." })),
        el("p", {}, "API key: ", el("code", { text: k.api_key })), el("p", {}, "API secret: ", el("code", { text: k.api_secret })),
        el("button", { type: "button", text: "I have copied it; hide the secret", onclick: () => msg.replaceChildren() })));
      reload();
    } catch (err) { showError(msg, err); }
  });
  drawKeys(listing.keys);
  gate.replaceChildren();
  view.append(msg, form, table, audit());
}

function audit() {
  const keyId = uid("akey"), epId = uid("aep"), outId = uid("aout");
  const fKey = el("input", { id: keyId, name: "key", placeholder: "any key" });
  const fEp = el("input", { id: epId, name: "endpoint", placeholder: "e.g. search" });
  const fOut = el("select", { id: outId, name: "outcome" }, el("option", { value: "", text: "any" }), el("option", { value: "ok", text: "ok" }), el("option", { value: "ERROR", text: "errors only" }));
  const rows = el("div", { "data-testid": "audit-rows" });
  const verdict = el("div", { "aria-live": "polite", "data-testid": "audit-verdict" });
  const history = [];
  async function load(start) {
    try {
      const r = await call("/admin/audit", { start, limit: 50, key: fKey.value.trim() || null, endpoint: fEp.value.trim() || null, outcome: fOut.value || null });
      const items = r.entries;
      const last = r.entries.length ? r.entries[r.entries.length - 1].seq : start;
      rows.replaceChildren(el("table", { class: "list audit" }, el("caption", { text: `Audit log, lines after ${start} (${items.length} shown)` }),
        el("thead", {}, el("tr", {}, ["#", "Time", "Key", "Endpoint", "Gallery", "Faces", "Results", "Outcome"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, items.map((e) => el("tr", {}, el("td", { text: String(e.seq) }), el("td", { class: "time", text: new Date(e.time * 1000).toISOString().replace("T", " ").slice(0, 19) }),
          el("td", { class: "mono key", text: e.key }), el("td", { class: "wrap", text: e.endpoint }), el("td", { class: "mono wrap", text: e.faceset || "" }),
          el("td", { text: String(e.faces) }), el("td", { text: String(e.results) }), el("td", { class: "outcome", text: e.outcome }))))),
      el("nav", { class: "pager", "aria-label": "Audit pages" },
        el("button", { type: "button", text: "Previous", disabled: !history.length, onclick: () => load(history.pop()) }),
        el("button", { type: "button", text: "Next", disabled: r.entries.length < 50, onclick: () => { history.push(start); load(last); } })));
    } catch (err) { showError(rows, err); }
  }
  const filters = el("form", { class: "controls", "aria-label": "Audit filters" },
    el("div", {}, el("label", { for: keyId, text: "API key" }), fKey), el("div", {}, el("label", { for: epId, text: "Endpoint contains" }), fEp),
    el("div", {}, el("label", { for: outId, text: "Outcome" }), fOut), el("button", { type: "submit", text: "Filter" }));
  filters.addEventListener("submit", (e) => { e.preventDefault(); history.length = 0; load(0); });
  const check = el("button", { type: "button", text: "Verify the hash chain", onclick: async () => {
    try {
      const v = await call("/admin/audit/verify");
      verdict.replaceChildren(el("p", { class: `verdict ${v.ok ? "same" : "different"}`, "data-ok": String(v.ok),
        text: v.ok ? `The chain is intact: all ${v.lines} lines follow from one another and match audit.head.`
          : `The chain is broken${v.bad_line ? ` at line ${v.bad_line}` : ""}: ${v.reason}. The log was edited, reordered or truncated.` }));
    } catch (err) { showError(verdict, err); }
  } });
  load(0);
  return el("section", { class: "card", "aria-labelledby": "audit-title" }, el("h2", { id: "audit-title", text: "Audit log" }), filters, check, verdict, rows);
}
