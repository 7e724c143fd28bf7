// The admin console: training runs, model versions, analytics, schedule and thresholds, lexicon, users.
import { barChart, lineChart } from "./charts.js";
import { api, h, number, toast, when } from "./console.js";
import { keysTab, policiesTab } from "./admin-shop.js";

const view = document.getElementById("view");
let poll = null; // the training tab refreshes a running run

const tabs = { training, models, analytics, settings, lexicon, users, policies: () => policiesTab(view), keys: () => keysTab(view) };

// Tabs draw one after another: a slow tab still loading when another is chosen must not draw over it.
let drawing = Promise.resolve();

function route() {
  clearTimeout(poll);
  const name = (location.hash || "#training").slice(1);
  const draw = tabs[name] || training;
  document.querySelectorAll("#tabs a").forEach((a) => a.toggleAttribute("aria-current", a.getAttribute("href") === "#" + name));
  drawing = drawing.then(() => draw().catch((error) => view.replaceChildren(h("p", { class: "error", text: error.message }))));
}

const onTab = (name) => (location.hash || "#training") === "#" + name;
window.addEventListener("hashchange", route);

// ---- training runs -----------------------------------------------------------------------------

async function training(selectedId) {
  const { runs } = await api("/api/v1/training/runs");
  const schedule = await api("/api/v1/admin/schedule");
  const current = runs.find((r) => r.id === selectedId) || runs[0];
  const busy = runs.some((r) => ["queued", "running", "cancelling"].includes(r.status));
  view.replaceChildren(
    h("div", { class: "row spread" },
      h("h2", { text: "Training runs" }),
      h("button", { type: "button", class: "primary", id: "start-run", disabled: busy, onclick: startRun },
        busy ? "A run is in progress" : "Start a training run")),
    h("p", { class: "muted small", text:
      `${schedule.new_turns} new approved or sent replies since the last run; the schedule starts one every ` +
      `${schedule.every_hours} h when at least ${schedule.min_new_turns} are there (jobs: ${schedule.worker}).` }),
    h("div", { class: "split" },
      h("ul", { class: "items", id: "runs" }, ...runs.map((r) =>
        h("li", { class: "item" + (current && r.id === current.id ? " selected" : "") },
          h("button", { type: "button", onclick: () => training(r.id) },
            h("span", { class: "line" }, `Run ${r.id} `, h("span", { class: `status ${r.status}`, text: r.status })),
            h("span", { class: "meta", text: `${r.trigger} · ${when(r.created_at)}` }))))),
      current ? runView(current) : h("p", { class: "muted", text: "No run yet." })),
  );
  if (current && ["queued", "running", "cancelling"].includes(current.status)) {
    poll = setTimeout(() => { if (onTab("training")) drawing = drawing.then(() => training(current.id).catch(() => {})); }, 2000);
  }
}

async function startRun() {
  try {
    const run = await api("/api/v1/training/runs", { method: "POST" });
    toast(`Run ${run.id} queued.`, "ok");
    training(run.id);
  } catch (error) {
    toast(error.message, "error");
  }
}

function runView(run) {
  const p = run.progress || {};
  const pct = p.max_steps ? Math.round((100 * (p.step || 0)) / p.max_steps) : null;
  const m = run.metrics || {};
  const stages = ["dataset", "finetune", "dpo", "quantize", "evaluate", "register", "deploy"];
  return h("section", { class: "run", id: "run-detail", "data-status": run.status },
    h("h3", {}, `Run ${run.id} `, h("span", { class: `status ${run.status}`, id: "run-status", text: run.status })),
    h("ol", { class: "stages" }, ...stages.map((s) => {
      const done = (p.timings && s in p.timings) || (run.status === "succeeded");
      const now = run.stage === s && !["succeeded", "failed", "cancelled"].includes(run.status);
      return h("li", { class: (done ? "done " : "") + (now ? "now" : "") }, s,
        p.timings?.[s] !== undefined ? h("span", { class: "muted small", text: ` ${p.timings[s]} s` }) : null);
    })),
    pct !== null ? h("div", { class: "progress" },
      h("progress", { max: 100, value: pct, id: "run-progress" }),
      h("span", { class: "small", text: ` step ${p.step}/${p.max_steps} · loss ${number(p.loss)}` })) : null,
    h("p", { class: "small muted", id: "run-time", text: runTime(run) }),
    h("div", { class: "charts" },
      p.losses?.length ? lineChart({ title: "fine-tune (SFT) loss", labels: p.losses.map((_, i) => String(i + 1)),
                                     series: [{ name: "loss", values: p.losses }] }) : null,
      // DPO on the agents' edits and rejections: its loss falls from ln 2 as the reward margin rises (the
      // margin is given in words: it can be negative, and the chart's axis starts at 0).
      p.dpo_losses?.length ? h("div", { id: "dpo-chart" }, lineChart({
        title: "preference (DPO) loss", labels: p.dpo_losses.map((_, i) => String(i + 1)),
        series: [{ name: "loss", values: p.dpo_losses }, { name: "accuracy", values: p.dpo_accuracies }] }),
        h("p", { class: "small muted", text:
          `reward margin ${number(p.dpo_margins[0])} → ${number(p.dpo_margins[p.dpo_margins.length - 1])}` })) : null),
    ["queued", "running"].includes(run.status)
      ? h("button", { type: "button", class: "danger", onclick: async () => {
          try { await api(`/api/v1/training/runs/${run.id}/cancel`, { method: "POST" }); toast("Cancelling…"); training(run.id); }
          catch (error) { toast(error.message, "error"); }
        } }, "Cancel run") : null,
    run.error ? h("pre", { class: "error small", text: run.error }) : null,
    m.candidate ? evalTable(m) : null,
    h("details", { open: ["running", "failed"].includes(run.status) },
      h("summary", { text: "Log" }), h("pre", { class: "log", text: run.log || "(empty)" })));
}

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
    : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

// Elapsed time, and for the fine-tune the time left at the pace of its steps so far (about a step a minute
// on two cores).
function runTime(run) {
  if (!run.started_at) return run.status === "queued" ? "waiting for a worker" : "";
  const end = run.finished_at ? Date.parse(run.finished_at) : Date.now();
  let text = `elapsed ${duration((end - Date.parse(run.started_at)) / 1000)}`;
  const p = run.progress || {};
  const training = { finetune: "fine-tune", dpo: "DPO" }[p.stage];
  if (run.status === "running" && training && p.step && p.max_steps && p.stage_started_at) {
    const perStep = (Date.now() - Date.parse(p.stage_started_at)) / 1000 / p.step;
    text += ` · ${training} about ${duration(perStep * (p.max_steps - p.step))} left`;
  }
  return text;
}

// The gate's table: the active model, SFT alone and SFT+DPO (runs from before DPO: candidate and active).
// The measures of training/evaluate.py MEASURES; a run from before one was added shows the others.
function evalTable(m) {
  const keys = ["grounded_accuracy", "verifier_pass", "moderation_pass", "sendable", "cases"];
  const columns = m.compared
    ? [["active", "active before"], ["sft", "SFT only"], ["sft+dpo", "SFT+DPO"]].map(([key, label]) =>
        ({ label: key === m.chosen ? `${label} (kept)` : label, values: m.compared[key] }))
    : [{ label: "candidate", values: m.candidate }, { label: "active before", values: m.active_before }];
  const cell = (values, k) => h("td", { text: values ? number(values[k]) : "not run" });
  const dpo = m.dpo || {};
  return h("div", {},
    h("h4", { text: m.promoted ? "Eval gate: promoted" : "Eval gate: not promoted" }),
    m.not_promoted_because?.length ? h("ul", {}, ...m.not_promoted_because.map((r) => h("li", { text: r }))) : null,
    h("table", { id: "gate-table" },
      h("thead", {}, h("tr", {}, h("th", { text: "metric" }), ...columns.map((c) => h("th", { text: c.label })))),
      h("tbody", {}, ...keys.filter((k) => k in m.candidate).map((k) =>
        h("tr", {}, h("td", { text: k }), ...columns.map((c) => cell(c.values, k)))))),
    m.chosen_because?.length ? h("p", { class: "small muted", text:
      `${m.chosen === "sft+dpo" ? "SFT+DPO" : "SFT alone"} kept: ${m.chosen_because.join("; ")}` }) : null,
    dpo.pairs !== undefined && !dpo.skipped ? h("p", { class: "small muted", text:
      `DPO: ${dpo.pairs} preference pairs, ${dpo.steps} steps, beta ${number(dpo.beta)}, ${number(dpo.seconds, 0)} s` }) : null,
    m.finetune ? h("p", { class: "small muted", text:
      `eval loss ${number(m.finetune.eval_loss_before)} → ${number(m.finetune.eval_loss_after)}, ` +
      `${m.finetune.train_examples} train / ${m.finetune.eval_examples} eval examples, ${number(m.finetune.seconds, 0)} s` }) : null);
}

// ---- model versions --------------------------------------------------------------------------------

async function models() {
  const { models: versions, answering } = await api("/api/v1/models");
  view.replaceChildren(
    h("h2", { text: "Model versions" }),
    h("p", { id: "answering" }, "Answering now: ", h("strong", { text: answering.name }),
      ` (${answering.backend}, ${answering.source})`),
    // (replaceChildren is the DOM's: a null would be drawn as the text "null")
    ...(versions.length ? [] : [h("p", { class: "muted", text: "No trained version yet: the model above answers until a run promotes one." })]),
    h("p", { class: "muted small", text: "Activating an older version is a roll-back; every process answers with it from its next turn." }),
    h("table", { id: "models" },
      h("thead", {}, h("tr", {}, ...["name", "status", "grounded", "verifier", "sendable", "base", "created", "activated", ""].map((c) => h("th", { text: c })))),
      h("tbody", {}, ...versions.map((v) => h("tr", { class: v.status },
        h("td", { text: v.name }), h("td", {}, h("span", { class: `status ${v.status}`, text: v.status })),
        h("td", { text: number(v.metrics?.candidate?.grounded_accuracy) }),
        h("td", { text: number(v.metrics?.candidate?.verifier_pass) }),
        h("td", { text: number(v.metrics?.candidate?.sendable) }),
        h("td", { text: v.base }), h("td", { text: when(v.created_at) }), h("td", { text: when(v.activated_at) }),
        h("td", {}, v.status === "active" ? "" : h("button", { type: "button", onclick: async () => {
          if (!confirm(`Activate ${v.name}?`)) return;
          try { await api(`/api/v1/models/${v.id}/activate`, { method: "POST" }); toast(`${v.name} is active.`, "ok"); models(); }
          catch (error) { toast(error.message, "error"); }
        } }, "Activate")))))),
  );
}

// ---- analytics -------------------------------------------------------------------------------------

async function analytics() {
  const { days, stages, moderation } = await api("/api/v1/admin/analytics?days=14");
  const labels = days.map((d) => d.day.slice(5));
  const col = (key) => days.map((d) => d[key]);
  view.replaceChildren(
    h("h2", { text: "Analytics (last 14 days, UTC)" }),
    h("div", { class: "charts" },
      barChart({ daily: true, title: "customer messages per day", labels, series: [{ name: "messages", values: col("customer_messages") }] }),
      barChart({ daily: true, title: "replies: sent on their own vs held", labels, series: [
        { name: "auto-sent", values: col("auto_sent"), color: "#2f9e44" },
        { name: "held", values: col("held"), color: "#f59f00" },
        { name: "blocked", values: col("blocked"), color: "#e03131" }] }),
      lineChart({ daily: true, title: "held rate and agent edit rate", labels, max: 1, series: [
        { name: "held rate", values: col("held_rate") }, { name: "edited or rejected by agents", values: col("edit_rate") }] }),
      barChart({ daily: true, title: "feedback", labels, series: [
        { name: "helpful", values: col("feedback_up"), color: "#2f9e44" }, { name: "not helpful", values: col("feedback_down"), color: "#e03131" }] }),
      lineChart({ daily: true, title: "latency by stage, p50", labels, unit: "ms", series: stages.map((s) => ({
        name: s.replace("_ms", ""), values: days.map((d) => d.latency_p50_ms[s] ?? null) })) })),
    moderationTable(moderation),
    numbersTable(days),
  );
}

function moderationTable(totals) {
  const rows = Object.entries(totals || {});
  return h("section", { class: "card", id: "moderation-counts" },
    h("h3", { text: "Customer messages moderation caught, by category (14 days)" }),
    rows.length
      ? h("table", {}, h("tbody", {}, ...rows.map(([category, count]) =>
          h("tr", {}, h("td", { text: category.replaceAll("_", " ") }), h("td", { text: String(count) })))))
      : h("p", { class: "muted", text: "Nothing caught in these days." }),
    h("p", { class: "muted small", text: "Each category's threshold is under Settings." }));
}

function numbersTable(days) {
  const head = ["day", "conv.", "messages", "auto-sent", "held", "approved", "edited", "rejected", "up", "down", "total p95 ms"];
  const cells = (d) => [d.day, d.conversations, d.customer_messages, d.auto_sent, d.held, d.approved, d.edited,
                        d.rejected, d.feedback_up, d.feedback_down, d.latency_p95_ms.total_ms ?? "–"];
  return h("details", {},
    h("summary", { text: "The numbers" }),
    h("table", {},
      h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { text: c })))),
      h("tbody", {}, ...days.map((d) => h("tr", {}, ...cells(d).map((v) => h("td", { text: String(v) })))))));
}

// ---- schedule and thresholds -------------------------------------------------------------------------

// The settings in the admin's language: ?lang=zh|en, else the browser's (as the widget picks its own).
const SETTINGS_ZH = (new URLSearchParams(location.search).get("lang") || navigator.language || "en").startsWith("zh");
const T = SETTINGS_ZH ? {
  title: "再训练计划与阈值", save: "保存", reset: "恢复默认", saved: "已保存。对话和计划任务立即使用新值。", reverted: "已恢复默认值。",
  note: (s) => `（默认 ${s.default}${s.overridden ? "，已修改" : ""}）`,
  schedule: (s) => `计划：每 ${s.every_hours} 小时，新的最终回复至少 ${s.min_new_turns} 条时开始训练（现有 ${s.new_turns} 条；` +
    (s.due ? "下次检查时开始训练" : s.new_turns < s.min_new_turns ? `还需 ${s.min_new_turns - s.new_turns} 条` : "等待间隔到期") + "）。",
} : {
  title: "Retraining schedule and thresholds", save: "Save", reset: "Reset to defaults", reverted: "Back to the defaults.",
  saved: "Saved. Turns and the schedule use the new values now.",
  note: (s) => ` (default ${s.default}${s.overridden ? ", changed" : ""})`,
  schedule: (s) => `Schedule: every ${s.every_hours} h, when at least ${s.min_new_turns} new final replies ` +
    `exist (now ${s.new_turns}; ${s.due ? "a run starts at the next check"
      : s.new_turns < s.min_new_turns ? `${s.min_new_turns - s.new_turns} more needed`
      : "waiting for the interval"}).`,
};

async function settings() {
  const [{ settings: items }, schedule] = await Promise.all([api("/api/v1/admin/settings"), api("/api/v1/admin/schedule")]);
  const form = h("form", { class: "card", id: "settings-form", lang: SETTINGS_ZH ? "zh-CN" : "en" },
    ...items.map((s) => h("label", {},
      h("span", { class: "name", text: (SETTINGS_ZH ? s.label_zh : s.label) || s.key, title: s.key }),
      h("input", { type: "number", name: s.key, value: s.value, min: s.min, max: s.max, step: s.type === "int" ? 1 : "any", required: true }),
      h("span", { class: "muted small help", text: (SETTINGS_ZH ? s.help_zh : s.help) + T.note(s) }))),
    h("div", { class: "row buttons" },
      h("button", { type: "submit", class: "primary" }, T.save),
      h("button", { type: "button", onclick: async () => {
        try {
          await api("/api/v1/admin/settings", { method: "PUT", body: { values: Object.fromEntries(items.map((s) => [s.key, null])) } });
          toast(T.reverted, "ok"); settings();
        } catch (error) { toast(error.message, "error"); }
      } }, T.reset)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(items.map((s) => [s.key, Number(form.elements[s.key].value)]));
    try {
      await api("/api/v1/admin/settings", { method: "PUT", body: { values } });
      toast(T.saved, "ok");
      settings();
    } catch (error) { toast(error.message, "error"); }
  });
  view.replaceChildren(
    h("h2", { text: T.title, lang: SETTINGS_ZH ? "zh-CN" : "en" }),
    h("p", { class: "muted", id: "schedule-note", text: T.schedule(schedule), lang: SETTINGS_ZH ? "zh-CN" : "en" }),
    form);
}

// ---- moderation lexicon ------------------------------------------------------------------------------

async function lexicon() {
  const data = await api("/api/v1/admin/lexicon");
  const draft = structuredClone(data);
  const draw = () => view.replaceChildren(
    h("div", { class: "row spread" },
      h("h2", {}, "Moderation lexicon ", h("span", { class: "muted small", text: `version ${data.version}` })),
      h("button", { type: "button", class: "primary", id: "save-lexicon", onclick: save }, "Save lexicon")),
    h("p", { class: "muted small", text: "block: the message is refused; mask: the term is hidden; flag: the reply is held for an agent. " +
      "Changes apply to the next message, without a restart." }),
    ...Object.entries(draft.categories).map(([name, cat]) => h("section", { class: "card category" },
      h("div", { class: "row spread" },
        h("h3", {}, name, cat.direction && cat.direction !== "both"
          ? h("span", { class: "muted small", text: cat.direction === "out" ? " (replies only)" : " (customers' messages only)" }) : ""),
        h("select", { "aria-label": `action for ${name}`, onchange: (e) => { cat.action = e.target.value; } },
          ...["block", "mask", "flag"].map((a) => h("option", { value: a, selected: cat.action === a, text: a })))),
      h("div", { class: "chips" }, ...cat.terms.map((term, i) => h("span", { class: "chip" }, term,
        h("button", { type: "button", "aria-label": `remove ${term}`, onclick: () => { cat.terms.splice(i, 1); draw(); } }, "×")))),
      h("form", { class: "row", onsubmit: (e) => {
        e.preventDefault();
        const value = e.target.term.value.trim();
        if (value && !cat.terms.includes(value)) cat.terms.push(value);
        draw();
      } }, h("input", { name: "term", placeholder: "add a term", "aria-label": `add a term to ${name}` }), h("button", { type: "submit" }, "Add")))),
  );
  const save = async () => {
    try {
      const saved = await api("/api/v1/admin/lexicon", { method: "PUT", body: draft });
      toast(`Saved as version ${saved.version}.`, "ok");
      lexicon();
    } catch (error) { toast(error.message, "error"); }
  };
  draw();
}

// ---- users ---------------------------------------------------------------------------------------

async function users() {
  const { users: list } = await api("/api/v1/admin/users");
  const form = h("form", { class: "card row wrap", id: "new-user" },
    h("input", { name: "email", type: "email", placeholder: "email", required: true, "aria-label": "email" }),
    h("input", { name: "name", placeholder: "name", "aria-label": "name" }),
    h("input", { name: "password", type: "password", placeholder: "password (10+ characters)", minlength: 10, required: true, "aria-label": "password", autocomplete: "new-password" }),
    h("select", { name: "role", "aria-label": "role" }, h("option", { value: "agent", text: "agent" }), h("option", { value: "admin", text: "admin" })),
    h("button", { type: "submit", class: "primary" }, "Add user"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(["email", "name", "password", "role"].map((k) => [k, form.elements[k].value]));
    try { await api("/api/v1/admin/users", { method: "POST", body }); toast(`${body.email} added.`, "ok"); users(); }
    catch (error) { toast(error.message, "error"); }
  });
  const update = async (u, changes) => {
    try { await api(`/api/v1/admin/users/${u.id}`, { method: "PATCH", body: changes }); users(); }
    catch (error) { toast(error.message, "error"); }
  };
  view.replaceChildren(
    h("h2", { text: "Users" }),
    h("table", { id: "users" },
      h("thead", {}, h("tr", {}, ...["email", "name", "role", "active", "since", ""].map((c) => h("th", { text: c })))),
      h("tbody", {}, ...list.map((u) => h("tr", { class: u.is_active ? "" : "inactive" },
        h("td", { text: u.email }), h("td", { text: u.name }),
        h("td", {}, h("select", { "aria-label": `role of ${u.email}`, onchange: (e) => update(u, { role: e.target.value }) },
          ...["agent", "admin"].map((r) => h("option", { value: r, selected: u.role === r, text: r })))),
        h("td", { text: u.is_active ? "yes" : "no" }), h("td", { text: when(u.created_at) }),
        h("td", {}, h("button", { type: "button", onclick: () => update(u, { is_active: !u.is_active }) },
          u.is_active ? "Switch off" : "Switch on")))))),
    h("h3", { text: "Add a user" }), form);
}

route();
