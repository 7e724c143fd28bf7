// The admin console's shop tabs: API keys for the shop's systems; policy articles (versioned, with a
// preview of the passages retrieval will quote) and the structured rules answers compute with.
import { api, h, toast, when } from "./console.js";

// ---- API keys --------------------------------------------------------------------------------------

export async function keysTab(view) {
  const { keys, scopes } = await api("/api/v1/admin/keys");
  const form = h("form", { class: "card row wrap", id: "new-key" },
    h("input", { name: "name", placeholder: "name, e.g. order system", required: true, maxlength: 100, "aria-label": "key name" }),
    ...scopes.map((s) => h("label", { class: "small" },
      h("input", { type: "checkbox", name: "scope", value: s, checked: s === "orders:write" }), ` ${s}`)),
    h("button", { type: "submit", class: "primary" }, "Create key"));
  const shown = h("div", { id: "new-key-secret" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...form.querySelectorAll("input[name=scope]:checked")].map((i) => i.value);
    try {
      const key = await api("/api/v1/admin/keys", { method: "POST", body: { name: form.elements.name.value, scopes: chosen } });
      await keysTab(view);
      // Shown once: only its hash is stored.
      view.querySelector("#new-key-secret").replaceChildren(h("div", { class: "card notice" },
        h("p", { text: `Key "${key.name}" (${key.scopes.join(", ")}). Copy it now: it is not shown again.` }),
        h("code", { class: "secret", id: "key-secret", text: key.key })));
    } catch (error) { toast(error.message, "error"); }
  });
  const revoke = async (key) => {
    if (!confirm(`Revoke "${key.name}"? Requests with it are refused from now on.`)) return;
    try { await api(`/api/v1/admin/keys/${key.id}`, { method: "DELETE" }); toast(`"${key.name}" revoked.`, "ok"); keysTab(view); }
    catch (error) { toast(error.message, "error"); }
  };
  view.replaceChildren(
    h("h2", { text: "Shop API keys" }),
    h("p", { class: "muted small", text: "For the shop's own systems: the sync API keeps orders, customers and policies current " +
      "(Authorization: Bearer sdk_…). See docs/shop-sync.md." }),
    shown,
    keys.length ? h("table", { id: "keys" },
      h("thead", {}, h("tr", {}, ...["name", "key", "scopes", "created", "last used", ""].map((c) => h("th", { text: c })))),
      h("tbody", {}, ...keys.map((k) => h("tr", { class: k.revoked_at ? "inactive" : "" },
        h("td", { text: k.name }), h("td", {}, h("code", { text: `${k.prefix}…` })), h("td", { text: k.scopes.join(", ") }),
        h("td", { text: when(k.created_at) }), h("td", { text: k.last_used_at ? when(k.last_used_at) : "never" }),
        h("td", {}, k.revoked_at ? h("span", { class: "muted", text: `revoked ${when(k.revoked_at)}` })
          : h("button", { type: "button", class: "danger", onclick: () => revoke(k) }, "Revoke")))))) :
      h("p", { class: "muted", text: "No keys yet." }),
    h("h3", { text: "Create a key" }), form);
}

// ---- policies and rules ------------------------------------------------------------------------------

const RULES = [
  ["return_window_days", "Return window (days after delivery, any reason)", "number"],
  ["quality_window_days", "Quality-problem window (days after delivery)", "number"],
  ["price_protection_days", "Price protection (days after the order)", "number"],
  ["excluded_categories", "Categories not returnable without a fault (item tags, comma-separated)", "list"],
  ["address_change_statuses", "Order statuses in which the address can change (comma-separated)", "list"],
  ["invoice_types", "Invoice types offered (comma-separated)", "list"],
];

export async function policiesTab(view, selected) {
  const [{ articles, conflicts }, { rules }] = await Promise.all([api("/api/v1/admin/policies"), api("/api/v1/admin/rules")]);
  const current = selected === undefined ? articles.find((a) => !a.retired)?.id : selected;
  const editor = h("div", { id: "policy-editor", class: "policy-editor" });
  view.replaceChildren(...[
    h("h2", { text: "Policies" }),
    conflicts.length ? h("div", { class: "card notice", id: "rule-conflicts" },
      h("p", { text: "A rule and an article disagree: one of them is out of date." }),
      h("ul", {}, ...conflicts.map((c) => h("li", { text: c.message })))) : null,
    h("div", { class: "split" },
      h("div", {},
        h("ul", { class: "items", id: "articles" }, ...articles.map((a) =>
          h("li", { class: "item" + (a.id === current ? " selected" : "") + (a.retired ? " inactive" : "") },
            h("button", { type: "button", onclick: () => policiesTab(view, a.id) },
              h("span", { class: "line", text: a.title }),
              h("span", { class: "meta", text: `${a.id} · ${a.locale} · v${a.version}${a.retired ? " · retired" : ""}` }))))),
        h("button", { type: "button", id: "new-article", onclick: () => policiesTab(view, null) }, "New article")),
      editor),
    rulesForm(view, rules),
  ].filter(Boolean)); // replaceChildren writes a null as the text "null"
  editor.replaceChildren(await articleEditor(view, current));
}

async function articleEditor(view, id) {
  const article = id ? await api(`/api/v1/admin/policies/${encodeURIComponent(id)}`)
    : { id: "", title: "", body: "", locale: "", version: 0, versions: [], passages: [], retired: false };
  const preview = h("ol", { class: "passages", id: "passages" });
  const drawPassages = (passages) => preview.replaceChildren(...passages.map((p) =>
    h("li", {}, p.heading ? h("span", { class: "muted small", text: `${p.heading} · ` }) : null, p.text)));
  drawPassages(article.passages);
  const form = h("form", { class: "card", id: "article-form" },
    h("div", { class: "row wrap" },
      h("input", { name: "id", value: article.id, placeholder: "article id, e.g. returns-en", required: true,
                   readonly: Boolean(id), "aria-label": "article id", pattern: "[A-Za-z0-9][A-Za-z0-9_.\\-]*" }),
      h("select", { name: "locale", "aria-label": "language" },
        ...[["", "detect"], ["en", "English"], ["zh", "中文"]].map(([v, t]) => h("option", { value: v, selected: article.locale === v, text: t })))),
    h("input", { name: "title", value: article.title, placeholder: "title", required: true, "aria-label": "title", class: "wide" }),
    h("textarea", { name: "body", rows: 14, required: true, "aria-label": "article text (Markdown)", class: "wide" }, article.body),
    h("div", { class: "row" },
      h("button", { type: "submit", class: "primary", id: "save-article" }, id ? "Save as a new version" : "Add article"),
      id && !article.retired ? h("button", { type: "button", class: "danger", id: "retire-article", onclick: retire }, "Retire") : null));
  form.elements.body.value = article.body;
  let timer = null;
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        const { passages } = await api("/api/v1/admin/policies:preview", { method: "POST", body: fields() });
        drawPassages(passages);
      } catch { /* an empty or unfinished text has no preview */ }
    }, 300);
  });
  function fields() {
    return { title: form.elements.title.value, body: form.elements.body.value, locale: form.elements.locale.value || null };
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const target = form.elements.id.value.trim();
    try {
      const saved = await api(`/api/v1/admin/policies/${encodeURIComponent(target)}`, { method: "PUT", body: fields() });
      toast(saved.result === "unchanged" ? "No change." : `Saved: version ${saved.version}, used from the next message.`, "ok");
      policiesTab(view, saved.id);
    } catch (error) { toast(error.message, "error"); }
  });
  async function retire() {
    if (!confirm(`Retire "${article.title}"? It stops being quoted; its versions are kept.`)) return;
    try { await api(`/api/v1/admin/policies/${encodeURIComponent(id)}/retire`, { method: "POST" }); toast("Retired.", "ok"); policiesTab(view, id); }
    catch (error) { toast(error.message, "error"); }
  }
  return h("div", {},
    form,
    h("h4", { text: "Passages retrieval will quote" }), preview,
    article.versions.length ? h("details", {}, h("summary", { text: `Versions (${article.versions.length})` }),
      h("ul", { class: "small" }, ...article.versions.map((v) => h("li", { text: `v${v.version} · ${v.author} · ${when(v.created_at)}` })))) : null);
}

function rulesForm(view, rules) {
  const form = h("form", { class: "card", id: "rules-form" },
    h("h3", { text: "Rules" }),
    h("p", { class: "muted small", text: "The numbers answers compute with for the customer's own order. Leave a field empty for no rule." }),
    ...RULES.map(([key, label, kind]) => h("label", { class: "setting" },
      h("span", { text: label }),
      h("input", { name: key, type: kind === "number" ? "number" : "text", min: 0, max: 3650,
                   value: rules[key] === null ? "" : kind === "list" ? rules[key].join(", ") : String(rules[key]) }))),
    h("button", { type: "submit", class: "primary", id: "save-rules" }, "Save rules"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(RULES.map(([key, , kind]) => {
      const raw = form.elements[key].value.trim();
      if (!raw) return [key, null];
      return [key, kind === "number" ? Number(raw) : raw.split(/[,，]/).map((s) => s.trim()).filter(Boolean)];
    }));
    try { await api("/api/v1/admin/rules", { method: "PUT", body }); toast("Rules saved.", "ok"); policiesTab(view); }
    catch (error) { toast(error.message, "error"); }
  });
  return form;
}
