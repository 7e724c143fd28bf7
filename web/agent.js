// The agent console: a live queue of held replies and handed-over conversations; claim, decide, reply.
import { api, h, number, toast, when } from "./console.js";

const reviewsList = document.getElementById("reviews");
const handoversList = document.getElementById("handovers");
const detail = document.getElementById("detail");
const live = document.getElementById("live");

let queue = { reviews: [], handed_over: [], me: null };
let selected = null; // {kind: "review"|"conversation", id}
let canned = { en: [], zh: [] };

api("/api/v1/agent/canned").then((data) => { canned = data; }).catch(() => {});

// ---- the live queue (SSE: the whole queue again whenever it changes) -----------------------------

function listen() {
  const stream = new EventSource("/api/v1/agent/events");
  stream.addEventListener("queue", (event) => {
    live.textContent = "live · updated " + new Date().toLocaleTimeString();
    queue = JSON.parse(event.data);
    drawQueue();
  });
  stream.addEventListener("signed_out", () => {
    stream.close();
    location.href = "/login?expired=1&next=/agent";
  });
  stream.onerror = () => { live.textContent = "reconnecting…"; };
}

// One entry per conversation: who it is, what they wrote last, what held it, how many items wait in it.
function drawQueue() {
  document.getElementById("pending-count").textContent = queue.reviews.length;
  document.getElementById("handover-count").textContent = queue.handed_over.length;
  reviewsList.replaceChildren(
    ...queue.reviews.map((r) => {
      const mine = r.claimed_by === queue.me;
      const taken = r.claimed_by && !mine;
      const open = selected?.kind === "review" && r.review_ids.includes(selected.id);
      return h("li", { class: "item" + (open ? " selected" : "") + (taken ? " taken" : ""),
                       "data-review": r.id, "data-conversation": r.conversation_id },
        h("button", { type: "button", onclick: () => openReview(r.id) },
          whoLine(r, r.items > 1 ? `${r.items} held` : ""),
          h("span", { class: "line", text: r.customer_text || askedForAPerson(r) || "(no text)" }),
          h("span", { class: "meta" },
            when(r.created_at), " · ", r.checks.join(", ") || "held",
            taken ? h("span", { class: "tag", text: "claimed by " + (r.claimed_by_name || "another agent") }) : null,
            mine ? h("span", { class: "tag mine", text: "yours" }) : null)));
    }),
  );
  if (!queue.reviews.length) reviewsList.append(h("li", { class: "muted small", text: "Nothing held." }));
  handoversList.replaceChildren(
    ...queue.handed_over.map((c) =>
      h("li", { class: "item" + (isSelected("conversation", c.id) ? " selected" : ""), "data-conversation": c.id },
        h("button", { type: "button", onclick: () => openConversation(c.id) },
          whoLine(c, c.items ? `${c.items} waiting` : ""),
          h("span", { class: "line", text: c.last_text || askedForAPerson(c) || "(no message yet)" }),
          h("span", { class: "meta", text: `${c.locale} · ${c.items ? c.checks.join(", ") : "answered, nothing waiting"}` })))),
  );
  if (!queue.handed_over.length) handoversList.append(h("li", { class: "muted small", text: "No conversation is waiting for a person." }));
  // The open review was decided or settled (here or by someone else): say so.
  if (selected?.kind === "review" && !queue.reviews.some((r) => r.review_ids.includes(selected.id))) {
    detail.querySelector(".actions")?.replaceChildren(h("p", { class: "muted", text: "This review is closed." }));
  }
}

function whoLine(entry, count) {
  const name = entry.customer_name || `Visitor ${(entry.conversation_id || entry.id).slice(0, 6)}`;
  return h("span", { class: "who" }, h("strong", { class: "name", text: name }),
    count ? h("span", { class: "count", text: count }) : null);
}

// A hand-over has no customer message of its own: say what it is rather than "(no text)".
const askedForAPerson = (entry) => (entry.checks.includes("asked for a person") ? "Asked to talk to a person" : "");

const isSelected = (kind, id) => selected && selected.kind === kind && selected.id === id;

// ---- one held reply -------------------------------------------------------------------------------

async function openReview(id) {
  if (selected?.kind === "review" && selected.id !== id) releaseQuietly(selected.id);
  selected = { kind: "review", id };
  drawQueue();
  let review;
  try {
    review = await api(`/api/v1/reviews/${id}/claim`, { method: "POST" });
  } catch (error) {
    if (error.code !== "claimed" && error.code !== "already_decided") return toast(error.message, "error");
    toast(error.message, "warn");
    review = await api(`/api/v1/reviews/${id}`);
    review.readOnly = true;
  }
  drawReview(review);
}

function releaseQuietly(id) {
  api(`/api/v1/reviews/${id}/claim`, { method: "DELETE" }).catch(() => {});
}

function drawReview(review) {
  const lang = review.conversation.locale === "zh" ? "zh" : "en";
  const editor = h("textarea", { id: "reply-text", rows: 5, "aria-label": "Reply to send" });
  editor.value = review.candidate_text || "";
  const cannedSelect = h("select", { "aria-label": "Canned responses", onchange: (event) => {
    const pick = (canned[lang] || [])[event.target.value];
    if (pick) editor.value = pick.text;
    event.target.value = "";
  } }, h("option", { value: "", text: "Canned responses…" }),
  ...(canned[lang] || []).map((c, i) => h("option", { value: i, text: c.title })));

  const decide = async (action) => {
    const text = editor.value.trim();
    try {
      await api(`/api/v1/reviews/${review.id}`, { method: "POST", body: { action, text: text || null } });
      toast(action === "approve" ? "Approved and sent." : action === "edit" ? "Your edit was sent." : "Rejected.", "ok");
      selected = null;
      detail.replaceChildren(h("p", { class: "muted empty", text: "Done. Pick the next item on the left." }));
    } catch (error) {
      toast(error.message, "error");
    }
  };
  const canDecide = review.status === "pending" && !review.readOnly;
  // A proposal that failed its checks can't be sent as it is: edit it first, or reject it.
  const refused = review.proposal_refused || [];
  const approvable = Boolean(review.candidate_text) && !refused.length;
  const actions = canDecide
    ? h("div", { class: "actions" },
        h("div", { class: "row" }, cannedSelect),
        editor,
        refused.length ? h("div", { class: "refused", id: "refused", role: "note" },
          h("strong", { text: "Can't be approved as it is: " }), refused.join("; ")) : null,
        h("div", { class: "row buttons" },
          h("button", { type: "button", class: approvable ? "primary" : "", id: "approve", disabled: !approvable,
                        title: !review.candidate_text ? "There is no proposed reply"
                          : refused.length ? "The proposal failed its checks: edit it or reject it" : "Send the proposed reply as it is",
                        onclick: () => decide("approve") }, "Approve"),
          h("button", { type: "button", id: "edit-send", class: approvable ? "" : "primary", onclick: () => {
            if (!editor.value.trim()) return toast("Write the reply to send.", "warn");
            if (editor.value.trim() === (review.candidate_text || "").trim()) {
              return refused.length ? toast("Change the proposal before sending it, or reject it.", "warn") : decide("approve");
            }
            decide("edit");
          } }, "Edit & send"),
          h("button", { type: "button", class: "danger", id: "reject", title: "Reject the proposal; sends the text box if it isn't the proposal",
                        onclick: () => {
            if (editor.value.trim() === (review.candidate_text || "").trim()) editor.value = "";
            decide("reject");
          } }, "Reject"),
          h("button", { type: "button", class: "link", onclick: () => { releaseQuietly(review.id); selected = null; drawQueue();
            detail.replaceChildren(h("p", { class: "muted empty", text: "Released." })); } }, "Release")))
    : h("div", { class: "actions" }, h("p", { class: "muted", text: review.readOnly
        ? `${review.claimed_by_name || "Another agent"} is working on this one.` : `This review was ${review.status}.` }));

  detail.replaceChildren(
    h("h2", {}, "Held reply ", h("span", { class: "muted small", text: `#${review.id} · ${when(review.created_at)}` })),
    h("div", { class: "columns" },
      h("div", {},
        h("h3", { text: "Conversation" }),
        conversationView(review.conversation, review.message_id)),
      h("div", {},
        h("h3", { text: "Why it was held" }),
        h("ul", { class: "reasons" }, ...review.reasons.map((r) => h("li", { text: r }))),
        settlesView(review),
        h("h3", { text: "Proposed reply" }),
        h("blockquote", { class: "candidate", text: review.candidate_text || "(none: write a reply)" }),
        scoresView(review),
        factsView(review.fact_lines),
        actions)),
  );
  scrollToFocus(detail);
}

// The conversation's earlier held replies are settled by the answer to this one (the server closes them).
function settlesView(review) {
  const entry = queue.reviews.find((r) => r.review_ids.includes(review.id));
  const earlier = entry ? entry.review_ids.filter((id) => id < review.id).length : 0;
  if (!earlier || review.status !== "pending") return null;
  return h("p", { class: "muted small", id: "settles", text: earlier === 1
    ? "An earlier held reply in this conversation is settled by your answer too."
    : `${earlier} earlier held replies in this conversation are settled by your answer too.` });
}

// A long conversation opens at the held message, not at its top.
function scrollToFocus(root) {
  const list = root.querySelector(".transcript");
  const focus = list?.querySelector(".focus");
  if (focus) list.scrollTop = Math.max(0, focus.offsetTop - list.clientHeight / 3); // the list is positioned
}

function scoresView(review) {
  if (!review.candidates?.length) return null;
  return h("details", { class: "scores", open: true },
    h("summary", { text: "Candidates and scores" }),
    h("table", {},
      h("thead", {}, h("tr", {}, ...["source", "score", "grounded", "relevance", "eligible", "unsupported"].map((c) => h("th", { text: c })))),
      h("tbody", {}, ...review.candidates.map((c) => h("tr", { class: c.chosen ? "chosen" : "" },
        h("td", { text: c.source }), h("td", { text: number(c.scores.score) }), h("td", { text: number(c.scores.verifier) }),
        h("td", { text: number(c.scores.relevance) }), h("td", { text: String(c.scores.eligible ?? "") }),
        h("td", { text: (c.scores.unsupported || []).join(", ") }))))),
    typeof review.scores.threshold === "number"
      ? h("p", { class: "muted small", text: `a reply goes out on its own at a score of ${number(review.scores.threshold)} or more` })
      : null);
}

function factsView(lines) {
  if (!lines?.length) return null;
  return h("details", { class: "facts", open: true },
    h("summary", { text: `Facts the reply may use (${lines.length})` }),
    h("ul", {}, ...lines.map((line) => h("li", { text: line }))));
}

function conversationView(conversation, focusId) {
  return h("ol", { class: "transcript" }, ...conversation.messages.map((m) =>
    h("li", { class: `msg ${m.role} ${m.status}` + (m.id === focusId ? " focus" : "") },
      h("span", { class: "who", text: `${m.role} · ${when(m.created_at)}${m.status === "pending_review" ? " · held" : ""}` }),
      h("div", { class: "text", text: m.text }),
      ...m.attachments.map(attachmentView))));
}

function attachmentView(a) {
  const url = `/api/v1/agent/attachments/${a.id}`;
  const p = a.perception || {};
  const media = a.kind === "image"
    ? h("a", { href: url, target: "_blank", rel: "noopener" }, h("img", { class: "shot", src: url, alt: a.filename }))
    : h("audio", { controls: true, src: url, preload: "none" });
  let read = null;
  if (p.error) read = h("p", { class: "error small", text: "perception failed: " + p.error });
  else if (a.kind === "audio") read = transcriptView(p);
  else if (a.kind === "image") read = ocrTable(p);
  return h("div", { class: "attachment" }, h("span", { class: "small muted", text: a.filename }), media, read);
}

// The transcript with what the answer rests on marked: the customer's own order ids, amounts, and ids heard
// nearly right (the reply asked the customer to confirm those); the recogniser's confidence beside it.
function transcriptView(p) {
  const text = p.text || "";
  const marks = (p.marks || []).filter((m) => m.end > m.start);
  const parts = [];
  let at = 0;
  for (const m of marks) {
    if (m.start < at) continue;
    parts.push(text.slice(at, m.start));
    parts.push(h("mark", { class: `heard ${m.kind}`, title: m.kind === "order" ? `order ${m.value}` : "amount",
                           text: text.slice(m.start, m.end) }));
    at = m.end;
  }
  parts.push(text.slice(at));
  const near = (p.marks || []).filter((m) => m.kind === "near").map((m) => m.value);
  return h("div", { class: "transcript-text" },
    h("p", {}, h("strong", { text: "Transcript: " }), ...(text ? parts : ["(nothing heard)"])),
    h("p", { class: "muted small" },
      typeof p.confidence === "number" ? `recogniser confidence ${number(p.confidence, 2)}` : "",
      near.length ? h("span", { class: "near", text: ` · heard nearly right: ${near.join(", ")} (the customer was asked to confirm)` }) : null),
    p.matched ? matchedView(p.matched) : null);
}

// An id or total of the customer's put in place of what the recogniser wrote, because the audio itself
// scored it higher (app/perception/heard_ids.py): what was heard, what it became, and by how much it won.
function matchedView(m) {
  const what = m.kind === "id" ? `order ${m.value}` : `the total ${m.value}`;
  const ahead = typeof m.margin === "number" ? `${number(m.margin, 1)} nats ahead of their next ${m.kind === "id" ? "order" : "total"}`
    : `their only ${m.kind === "id" ? "order" : "total"}`;
  return h("p", { class: "matched small" },
    h("strong", { text: "Matched by the audio: " }),
    `“${m.heard}” → ${what} (${ahead}; ${number(m.against_heard, 1)} nats against what was written)`);
}

function ocrTable(fields) {
  const confidence = fields.confidence || {};
  const shown = ["number", "code", "date", "seller", "seller_tax_id", "buyer", "buyer_tax_id", "total", "tax", "currency"];
  const rows = shown.filter((k) => fields[k] !== null && fields[k] !== undefined && fields[k] !== "").map((k) => [k, fields[k]]);
  if (!rows.length) return h("p", { class: "muted small", text: "No invoice fields were read from this image." });
  return h("table", { class: "ocr" },
    h("thead", {}, h("tr", {}, h("th", { text: "field" }), h("th", { text: "read" }), h("th", { text: "confidence" }))),
    h("tbody", {}, ...rows.map(([k, v]) => h("tr", {}, h("td", { text: k }), h("td", { text: String(v) }),
      h("td", { text: number(confidence[k], 2) })))));
}

// ---- a conversation handed to a person --------------------------------------------------------

async function openConversation(id) {
  if (selected?.kind === "review") releaseQuietly(selected.id);
  selected = { kind: "conversation", id };
  drawQueue();
  let conversation;
  try {
    conversation = await api(`/api/v1/agent/conversations/${id}`);
  } catch (error) {
    return toast(error.message, "error");
  }
  const lang = conversation.locale === "zh" ? "zh" : "en";
  const box = h("textarea", { id: "agent-text", rows: 4, "aria-label": "Message to the customer" });
  const send = async () => {
    if (!box.value.trim()) return;
    try {
      await api(`/api/v1/agent/conversations/${id}/messages`, { method: "POST", body: { text: box.value } });
      box.value = "";
      openConversation(id);
    } catch (error) { toast(error.message, "error"); }
  };
  // The assistant's latest proposal still waiting here: a start for the agent's own words, never sent as is.
  const suggestion = conversation.suggestion;
  detail.replaceChildren(
    h("h2", {}, "Conversation ", h("span", { class: "muted small", text: `${id.slice(0, 8)} · ${conversation.status}` })),
    conversationView(conversation, null),
    suggestion ? h("div", { class: "suggestion", id: "suggestion" },
      h("h3", { text: "The assistant suggests" }),
      h("blockquote", { class: "candidate", text: suggestion.text }),
      suggestion.refused.length ? h("div", { class: "refused", role: "note" },
        h("strong", { text: "It failed its checks: " }), suggestion.refused.join("; ")) : null,
      h("button", { type: "button", id: "use-suggestion", onclick: () => { box.value = suggestion.text; box.focus(); } },
        "Use it as a start")) : null,
    h("div", { class: "actions" },
      h("select", { "aria-label": "Canned responses", onchange: (event) => {
        const pick = (canned[lang] || [])[event.target.value];
        if (pick) box.value = pick.text;
        event.target.value = "";
      } }, h("option", { value: "", text: "Canned responses…" }), ...(canned[lang] || []).map((c, i) => h("option", { value: i, text: c.title }))),
      box,
      h("div", { class: "row buttons" },
        h("button", { type: "button", class: "primary", id: "agent-send", onclick: send }, "Send"),
        conversation.status === "handed_over"
          ? h("button", { type: "button", onclick: async () => {
              try {
                await api(`/api/v1/agent/conversations/${id}/hand-back`, { method: "POST" });
                toast("The assistant answers this conversation again.", "ok");
              } catch (error) { toast(error.message, "error"); }
            } }, "Hand back to the assistant")
          : null)),
  );
}

listen();
