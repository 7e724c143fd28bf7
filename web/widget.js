/*
 * Shopdesk chat widget: one script tag on any shop page.
 *
 *   <script src="https://desk.example/static/widget.js" data-shop="myshop"
 *           data-customer-ref="c1001" data-customer-sig="<hex HMAC of the ref>" async></script>
 *
 * Optional: data-locale="en|zh" (else the browser's language), data-api="https://desk.example"
 * (else the origin the script came from).
 *
 * Everything the server, the model or the customer wrote is put on the page as text (textContent),
 * never as HTML; only http(s) links become <a> elements. The widget lives in a shadow root, so the
 * shop's styles and the widget's don't mix.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__shopdeskWidget) return;
  window.__shopdeskWidget = true;

  var data = script.dataset;
  var API = (data.api || new URL(script.src, location.href).origin).replace(/\/$/, "");
  var SHOP = data.shop || "shop";
  var REF = data.customerRef || null;
  var SIG = data.customerSig || null;
  var MAX_FILES = 4;
  var MAX_IMAGE_SIDE = 2048; // the browser downscales photos before upload
  var MAX_RECORD_S = 120;
  var SEND_ATTEMPTS = 4;

  var TEXT = {
    en: {
      title: "Customer service", open: "Chat with us", close: "Close", placeholder: "Type a message…",
      send: "Send", attach: "Attach an image or audio file", record: "Record a voice message",
      cancel: "Cancel", sendVoice: "Send voice message", human: "Talk to a human",
      thinking: "Thinking…", reading: "Reading your invoice…", listening: "Listening…",
      held: "An agent is checking this reply", agent: "Agent", assistant: "Assistant", you: "You",
      failed: "Not sent.", retry: "Retry", reconnecting: "Reconnecting…", helpful: "Helpful",
      unhelpful: "Not helpful", noMic: "The microphone is not available.", tooMany: "At most 4 files per message.",
      remove: "Remove", welcome: "Hi! Ask about an order, a refund or an invoice. You can also send a screenshot or a voice message.",
      handedOver: "A support agent will join this conversation.", voice: "Voice message", dropHere: "Drop files here",
      error: "Something went wrong. Please try again.",
      notSent: "{name} was not sent: {why}.",
      why: {
        empty: "the file is empty", too_large: "the file is too large", broken: "the file is damaged and can't be opened",
        unsupported: "only photos (PNG, JPEG, WebP, HEIC) and voice messages can be sent",
        too_many_pixels: "the picture is too large", no_audio: "there is no sound in it",
        too_long: "the voice message is longer than 2 minutes", too_short: "the voice message is too short",
        silent: "the voice message is silent", too_many_files: "at most 4 files per message"
      }
    },
    zh: {
      title: "在线客服", open: "联系客服", close: "关闭", placeholder: "输入消息…",
      send: "发送", attach: "上传图片或音频", record: "录制语音消息",
      cancel: "取消", sendVoice: "发送语音", human: "转人工",
      thinking: "正在思考…", reading: "正在识别发票…", listening: "正在听取语音…",
      held: "客服正在核对这条回复", agent: "客服", assistant: "智能助手", you: "我",
      failed: "未发送。", retry: "重试", reconnecting: "正在重新连接…", helpful: "有帮助",
      unhelpful: "没帮助", noMic: "无法使用麦克风。", tooMany: "每条消息最多 4 个文件。",
      remove: "移除", welcome: "您好！可以咨询订单、退款或发票，也可以发送截图或语音。",
      handedOver: "人工客服将加入对话。", voice: "语音消息", dropHere: "拖放文件到这里",
      error: "出错了，请重试。",
      notSent: "{name} 未发送：{why}。",
      why: {
        empty: "文件是空的", too_large: "文件太大", broken: "文件已损坏，无法打开",
        unsupported: "只能发送图片（PNG、JPEG、WebP、HEIC）和语音消息",
        too_many_pixels: "图片尺寸太大", no_audio: "文件里没有声音",
        too_long: "语音超过 2 分钟", too_short: "语音太短", silent: "语音没有声音", too_many_files: "每条消息最多 4 个文件"
      }
    }
  };

  var lang = pickLocale(data.locale);
  var t = TEXT[lang];

  function pickLocale(given) {
    if (given === "zh" || given === "en") return given;
    var asked = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
    return /^zh/i.test(asked) ? "zh" : "en";
  }

  // ---- DOM helpers: text only ------------------------------------------------------------------

  // Icons as SVG paths (Material icons, Apache-2.0): emoji fonts are missing on many machines.
  var ICONS = {
    chat: "M20 2H4c-1.1 0-1.99.9-1.99 2L2 22l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2z",
    attach: "M16.5 6v11.5c0 2.21-1.79 4-4 4s-4-1.79-4-4V5c0-1.38 1.12-2.5 2.5-2.5s2.5 1.12 2.5 2.5v10.5c0 " +
      ".55-.45 1-1 1s-1-.45-1-1V6H10v9.5c0 1.38 1.12 2.5 2.5 2.5s2.5-1.12 2.5-2.5V5c0-2.21-1.79-4-4-4S7 " +
      "2.79 7 5v12.5c0 3.04 2.46 5.5 5.5 5.5s5.5-2.46 5.5-5.5V6h-1.5z",
    mic: "M12 14c1.66 0 2.99-1.34 2.99-3L15 5c0-1.66-1.34-3-3-3S9 3.34 9 5v6c0 1.66 1.34 3 3 3zm5.3-3c0 3-2.54 " +
      "5.1-5.3 5.1S6.7 14 6.7 11H5c0 3.41 2.72 6.23 6 6.72V21h2v-3.28c3.28-.48 6-3.3 6-6.72h-1.7z",
    send: "M2.01 21L23 12 2.01 3 2 10l15 2-15 2z",
    close: "M19 6.41L17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z",
    up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 " +
      "7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
    down: "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 " +
      ".41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z",
    image: "M21 19V5c0-1.1-.9-2-2-2H5c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h14c1.1 0 2-.9 2-2zM8.5 13.5l2.5 3.01L14.5 " +
      "12l4.5 6H5l3.5-4.5z"
  };

  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "i i-" + name);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  /** A file's name after its kind's icon. */
  function fileLabel(kind, name) {
    return el("span", { class: "file" }, [icon(kind === "audio" ? "mic" : "image"), " ", name]);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "class") node.className = attrs[key];
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var LINK = /\bhttps?:\/\/[^\s<>"'）)]+/g;

  /** Text with http(s) links made clickable; everything else stays text. */
  function richText(text) {
    var frag = document.createDocumentFragment();
    var last = 0;
    String(text).replace(LINK, function (url, at) {
      frag.appendChild(document.createTextNode(text.slice(last, at)));
      var href = safeUrl(url);
      frag.appendChild(href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow", text: url })
                            : document.createTextNode(url));
      last = at + url.length;
      return url;
    });
    frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---- the conversation: stored per shop and customer, so a reload keeps it ------------------------

  var storeKey = "shopdesk:" + SHOP + ":" + (REF || "anonymous");
  var conversation = null;

  function loadStored() {
    try {
      var saved = JSON.parse(localStorage.getItem(storeKey) || "null");
      if (saved && saved.token && new Date(saved.expires_at) > new Date()) return saved;
    } catch (e) { /* storage blocked or corrupt: start a new conversation */ }
    return null;
  }

  var createdHere = false; // at most one new conversation per page load
  var creating = null; // the creation under way: a message sent meanwhile waits for it instead of starting another

  function ensureConversation() {
    if (conversation) return Promise.resolve(conversation);
    if (creating) return creating;
    if (createdHere) return Promise.reject(new Error(t.error));
    var saved = loadStored();
    if (saved) {
      conversation = saved;
      return Promise.resolve(conversation);
    }
    var body = { locale: lang };
    if (REF && SIG) { body.customer_ref = REF; body.customer_sig = SIG; }
    creating = fetch(API + "/api/v1/conversations", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(readJson).then(function (res) {
      creating = null;
      if (!res.ok) throw new Error(res.error);
      conversation = res.data;
      createdHere = true;
      try { localStorage.setItem(storeKey, JSON.stringify(conversation)); } catch (e) { /* private mode */ }
      return conversation;
    }, function (error) {
      creating = null;
      throw error;
    });
    return creating;
  }

  function forgetConversation() {
    conversation = null;
    try { localStorage.removeItem(storeKey); } catch (e) { /* ignore */ }
  }

  function readJson(response) {
    return response.text().then(function (body) {
      var parsed = null;
      try { parsed = body ? JSON.parse(body) : null; } catch (e) { parsed = null; }
      var error = parsed && parsed.error ? parsed.error.message : (response.ok ? null : t.error);
      return { ok: response.ok, status: response.status, data: parsed, error: error };
    });
  }

  function authed(path, options) {
    options = options || {};
    options.headers = Object.assign({ Authorization: "Bearer " + conversation.token }, options.headers || {});
    return fetch(API + path, options).then(readJson);
  }

  // ---- the panel ---------------------------------------------------------------------------------

  var host = el("div", { id: "shopdesk-widget" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("link", { rel: "stylesheet", href: API + "/static/widget.css" }));

  var bubble = el("button", { class: "bubble", type: "button", "aria-label": t.open, title: t.open,
                              onclick: function () { toggle(true); } }, [icon("chat")]);
  var list = el("ol", { class: "messages", "aria-live": "polite" });
  var progress = el("p", { class: "progress", hidden: "" });
  var status = el("p", { class: "status", hidden: "" });
  var tray = el("div", { class: "tray", hidden: "" });
  var input = el("textarea", { rows: "1", placeholder: t.placeholder, "aria-label": t.placeholder, maxlength: "4000" });
  var fileInput = el("input", { type: "file", accept: "image/*,audio/*", multiple: "", hidden: "" });
  var sendButton = el("button", { class: "send", type: "submit", "aria-label": t.send, title: t.send }, [icon("send")]);
  var attachButton = el("button", { class: "icon attach", type: "button", "aria-label": t.attach, title: t.attach,
                                    onclick: function () { fileInput.click(); } }, [icon("attach")]);
  var micButton = el("button", { class: "icon mic", type: "button", "aria-label": t.record, title: t.record,
                                 onclick: startRecording }, [icon("mic")]);
  var recorderBar = el("div", { class: "recorder", hidden: "" });
  var form = el("form", { class: "composer", onsubmit: function (event) { event.preventDefault(); sendCurrent(); } },
                [attachButton, micButton, input, sendButton, fileInput]);
  var humanButton = el("button", { class: "human", type: "button", onclick: handOver }, [t.human]);
  var panel = el("section", { class: "panel", role: "dialog", "aria-label": t.title, hidden: "" }, [
    el("header", {}, [
      el("strong", { text: t.title }),
      humanButton,
      el("button", { class: "icon close", type: "button", "aria-label": t.close, title: t.close,
                     onclick: function () { toggle(false); } }, [icon("close")])
    ]),
    list, progress, status, tray, recorderBar, form
  ]);
  root.appendChild(bubble);
  root.appendChild(panel);

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  var started = false;

  function toggle(open) {
    panel.hidden = !open;
    bubble.hidden = open;
    if (open) {
      input.focus();
      if (!started) { started = true; start(); }
    }
  }

  function showStatus(text) {
    status.textContent = text || "";
    status.hidden = !text;
  }

  // ---- messages: each once, by server id ---------------------------------------------------------

  var shown = {}; // server message id -> element
  var lastId = 0;
  var outbox = []; // customer messages sent but not yet confirmed: {text, files, node}

  function roleLabel(role) {
    return role === "customer" ? t.you : role === "agent" ? t.agent : t.assistant;
  }

  // A reply an agent is still checking: held, its review not decided. The hand-over confirmation (no
  // customer message it replies to) says so in its own words and carries no note.
  function beingChecked(message) {
    return message.status === "pending_review" && !!message.reply_to_id && (!message.review || message.review === "pending");
  }

  function messageNode(message) {
    var body = el("div", { class: "text" });
    body.appendChild(richText(message.text || ""));
    var node = el("li", { class: "msg " + message.role + (beingChecked(message) ? " held" : "") }, [
      el("span", { class: "who", text: roleLabel(message.role) }), body
    ]);
    if (message.reply_to_id) node.dataset.replyTo = message.reply_to_id;
    (message.attachments || []).forEach(function (a) {
      node.appendChild(fileLabel(a.kind, a.filename));
    });
    if (beingChecked(message)) node.appendChild(el("span", { class: "note held-note", text: t.held }));
    if (message.role !== "customer" && message.status === "sent") node.appendChild(feedbackBar(message.id));
    return node;
  }

  function feedbackBar(id) {
    var bar = el("span", { class: "feedback" });
    [["up", icon("up"), t.helpful], ["down", icon("down"), t.unhelpful]].forEach(function (item) {
      bar.appendChild(el("button", {
        type: "button", class: "rate " + item[0], "aria-label": item[2], title: item[2], "aria-pressed": "false",
        onclick: function (event) { rate(id, item[0], bar, event.currentTarget); }
      }, [item[1]]));
    });
    return bar;
  }

  function rate(id, rating, bar, button) {
    authed("/api/v1/messages/" + id + "/feedback", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ rating: rating })
    }).then(function (res) {
      if (!res.ok) return showStatus(res.error);
      bar.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      button.setAttribute("aria-pressed", "true");
    });
  }

  function show(message) {
    if (shown[message.id]) return;
    if (message.role === "customer") {
      // Our own message coming back (over the stream, or in the reply): adopt the element we drew.
      var mine = outbox.filter(function (item) { return item.text === (message.text || ""); })[0];
      if (mine) {
        outbox.splice(outbox.indexOf(mine), 1);
        mine.node.classList.remove("sending");
        shown[message.id] = mine.node;
        lastId = Math.max(lastId, message.id);
        return;
      }
    }
    var node = messageNode(message);
    shown[message.id] = node;
    list.appendChild(node);
    lastId = Math.max(lastId, message.id);
    list.scrollTop = list.scrollHeight;
    if (message.role !== "customer" && message.status === "pending_review" && !message.reply_to_id) {
      humanButton.hidden = true; // handed over already: a person is coming
    }
    if (message.role !== "customer" && message.status === "sent" && (message.reply_to_id || message.role === "agent")) {
      // The answer a held reply was waiting for: nobody is checking that one any more. A person's answer
      // settles the held replies before it too (the server closes their reviews).
      Array.prototype.forEach.call(list.querySelectorAll(".msg.held"), function (held) {
        var replyTo = Number(held.dataset.replyTo);
        if (replyTo === message.reply_to_id ||
            (message.role === "agent" && (!message.reply_to_id || replyTo < message.reply_to_id))) {
          held.classList.remove("held");
          var note = held.querySelector(".held-note");
          if (note) note.remove();
        }
      });
    }
  }

  // ---- live replies over SSE; reconnects with the last id, so nothing is lost or doubled ----------

  var stream = null;

  function listen() {
    if (stream) stream.close();
    var url = API + "/api/v1/conversations/" + conversation.id + "/events?after=" + lastId +
      "&access_token=" + encodeURIComponent(conversation.token);
    stream = new EventSource(url);
    stream.addEventListener("message", function (event) {
      showStatus("");
      show(JSON.parse(event.data));
    });
    stream.onopen = function () { showStatus(""); };
    stream.onerror = function () {
      showStatus(t.reconnecting);
      if (stream.readyState === EventSource.CLOSED) {
        // The browser gave up (server restarted, token refused): catch up and listen again.
        setTimeout(function () { catchUp().then(listen, listen); }, 3000);
      }
    };
  }

  function catchUp() {
    var asked = conversation;
    return authed("/api/v1/conversations/" + asked.id + "/messages?after=" + lastId).then(function (res) {
      if (res.status === 401 || res.status === 404) return replace(asked);
      if (res.ok) res.data.messages.forEach(show);
    });
  }

  // A stored conversation that expired or is gone was refused: a new one takes its place, once. A message
  // sent meanwhile may have replaced it already. One this page created is answered before the response
  // that created it (writes commit first): a refusal then is an error to show, never a reason to open a
  // second conversation.
  function replace(refused) {
    if (conversation === refused) {
      if (createdHere) return Promise.reject(new Error(t.error));
      forgetConversation();
    }
    return ensureConversation();
  }

  function start() {
    list.appendChild(el("li", { class: "msg assistant welcome" }, [el("div", { class: "text", text: t.welcome })]));
    ensureConversation().then(catchUp).then(listen).catch(function () { showStatus(t.error); });
    window.addEventListener("online", function () { if (conversation) catchUp().then(listen); });
  }

  // ---- attachments: button, paste, drag and drop; images downscaled here --------------------------

  var pending = []; // {file, url}

  fileInput.addEventListener("change", function () {
    addFiles(fileInput.files);
    fileInput.value = "";
  });
  input.addEventListener("paste", function (event) {
    var files = event.clipboardData && event.clipboardData.files;
    if (files && files.length) { event.preventDefault(); addFiles(files); }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendCurrent(); }
  });
  panel.addEventListener("dragover", function (event) { event.preventDefault(); panel.classList.add("dropping"); });
  panel.addEventListener("dragleave", function () { panel.classList.remove("dropping"); });
  panel.addEventListener("drop", function (event) {
    event.preventDefault();
    panel.classList.remove("dropping");
    if (event.dataTransfer && event.dataTransfer.files) addFiles(event.dataTransfer.files);
  });

  var preparing = []; // files still being downscaled: a send waits for them rather than leaving them behind

  function addFiles(files) {
    Array.prototype.forEach.call(files, function (file) {
      if (pending.length + preparing.length >= MAX_FILES) return showStatus(t.tooMany);
      var job = downscale(file).then(function (ready) {
        pending.push({ file: ready, url: URL.createObjectURL(ready) });
        drawTray();
      });
      preparing.push(job);
      job.then(function () { preparing.splice(preparing.indexOf(job), 1); });
    });
  }

  /** A photo larger than MAX_IMAGE_SIDE is re-encoded smaller; anything the browser can't decode goes as it is. */
  function downscale(file) {
    if (!/^image\//.test(file.type) || !window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1) return file;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob ? new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" }) : file);
        }, "image/jpeg", 0.9);
      });
    }).catch(function () { return file; });
  }

  function drawTray() {
    tray.textContent = "";
    tray.hidden = !pending.length;
    pending.forEach(function (item, index) {
      var preview = /^image\//.test(item.file.type)
        ? el("img", { src: item.url, alt: item.file.name })
        : el("span", { class: "audio" }, [icon("mic"), " ", item.file.name]);
      tray.appendChild(el("span", { class: "chip" }, [
        preview,
        el("button", { type: "button", class: "remove", "aria-label": t.remove + " " + item.file.name,
                       onclick: function () { URL.revokeObjectURL(item.url); pending.splice(index, 1); drawTray(); } },
           [icon("close")])
      ]));
    });
  }

  // ---- voice messages: press to record, see the time, cancel or send ----------------------------

  var recorder = null;
  var recordTimer = null;

  function startRecording() {
    if (!navigator.mediaDevices || !window.MediaRecorder) return showStatus(t.noMic);
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (mic) {
      var type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"].filter(function (m) {
        return MediaRecorder.isTypeSupported(m);
      })[0];
      var chunks = [];
      recorder = new MediaRecorder(mic, type ? { mimeType: type } : undefined);
      recorder.ondataavailable = function (event) { if (event.data.size) chunks.push(event.data); };
      recorder.onstop = function () {
        mic.getTracks().forEach(function (track) { track.stop(); });
        clearInterval(recordTimer);
        recorderBar.hidden = true;
        form.hidden = false;
        if (recorder && recorder.keep && chunks.length) {
          var mime = recorder.mimeType || "audio/webm";
          var ext = /ogg/.test(mime) ? "ogg" : /mp4/.test(mime) ? "m4a" : "webm";
          var clip = new File(chunks, "voice-message." + ext, { type: mime.split(";")[0] });
          pending.push({ file: clip, url: URL.createObjectURL(clip) });
          drawTray();
          sendCurrent();
        }
        recorder = null;
      };
      recorder.start(250);
      var began = Date.now();
      var clock = el("span", { class: "clock", text: "0:00" });
      recorderBar.textContent = "";
      recorderBar.appendChild(el("span", { class: "dot" }));
      recorderBar.appendChild(clock);
      recorderBar.appendChild(el("button", { type: "button", class: "cancel", onclick: function () { stopRecording(false); } }, [t.cancel]));
      recorderBar.appendChild(el("button", { type: "button", class: "primary", onclick: function () { stopRecording(true); } }, [t.sendVoice]));
      recorderBar.hidden = false;
      form.hidden = true;
      recordTimer = setInterval(function () {
        var s = Math.floor((Date.now() - began) / 1000);
        clock.textContent = Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
        if (s >= MAX_RECORD_S) stopRecording(true);
      }, 250);
    }).catch(function () { showStatus(t.noMic); });
  }

  function stopRecording(keep) {
    if (!recorder) return;
    recorder.keep = keep;
    recorder.stop();
  }

  // ---- sending: one Idempotency-Key per message, retried until the server has it -----------------

  function sendCurrent() {
    // A photo picked a moment ago may still be downscaling: send once it is ready, with it.
    if (preparing.length) { Promise.all(preparing).then(sendCurrent); return; }
    var text = input.value.trim();
    var files = pending.map(function (item) { return item.file; });
    if (!text && !files.length) return;
    input.value = "";
    pending = [];
    drawTray();
    var node = messageNode({ role: "customer", text: text, attachments: [] });
    node.classList.add("sending");
    var shownFiles = files.map(function (file) {
      var shownFile = /^image\//.test(file.type)
        ? el("img", { class: "thumb", src: URL.createObjectURL(file), alt: file.name })
        : fileLabel("audio", file.name);
      node.appendChild(shownFile);
      return shownFile;
    });
    list.appendChild(node);
    list.scrollTop = list.scrollHeight;
    var item = { text: text, files: files, shownFiles: shownFiles, node: node, key: uuid() };
    outbox.push(item);
    deliver(item);
  }

  function deliver(item) {
    var hasImage = item.files.some(function (f) { return /^image\//.test(f.type); });
    var hasAudio = item.files.some(function (f) { return /^audio\//.test(f.type); });
    progress.textContent = hasImage ? t.reading : hasAudio ? t.listening : t.thinking;
    progress.hidden = false;
    sendButton.disabled = true;
    ensureConversation().then(function () { return sendTo(conversation, item); }).then(function (res) {
      progress.hidden = true;
      sendButton.disabled = false;
      var turn = res.data;
      if (turn && turn.message) {
        show(turn.message);
        if (turn.reply) {
          show({ id: turn.reply.id, role: "assistant", text: turn.reply.text, status: turn.reply.status,
                 reply_to_id: turn.message.id });
        }
      }
      var refused = turn && turn.error && turn.error.files;
      if (refused) {
        refusedFiles(item, refused, !(turn && turn.message));
      } else if (!res.ok) {
        if (!(turn && turn.message)) failed(item);
        showStatus(res.error);
      }
    }).catch(function () {
      progress.hidden = true;
      sendButton.disabled = false;
      failed(item);
    });
  }

  // Sent before the page found its stored conversation expired: the message goes to the one replacing it.
  function sendTo(target, item) {
    return attempt(item, 0).then(function (res) {
      if (res.status !== 401 && res.status !== 404) return res;
      return replace(target).then(function () { return attempt(item, 0); });
    });
  }

  function attempt(item, tries) {
    var body = new FormData();
    if (item.text) body.append("text", item.text);
    item.files.forEach(function (file) { body.append("files", file, file.name); });
    return authed("/api/v1/conversations/" + conversation.id + "/messages", {
      method: "POST", headers: { "Idempotency-Key": item.key }, body: body
    }).then(function (res) {
      // 5xx, rate limited, or this message's turn still running elsewhere: the same key again, later.
      var again = res.status >= 500 || res.status === 429 || (res.status === 409 && res.headers.get("Retry-After"));
      if (again && tries + 1 < SEND_ATTEMPTS) return later(item, tries);
      return res;
    }, function (networkError) {
      if (tries + 1 < SEND_ATTEMPTS) return later(item, tries);
      throw networkError;
    });
  }

  function later(item, tries) {
    return new Promise(function (resolve) { setTimeout(resolve, 1000 * Math.pow(2, tries)); })
      .then(function () { return attempt(item, tries + 1); });
  }

  // Files the server refused: said next to each, in the customer's language; the rest of the message went.
  function refusedFiles(item, refused, nothingSent) {
    refused.forEach(function (file, i) {
      var why = t.why[file.code] || t.error;
      var note = el("div", { class: "refused", role: "alert" },
        [t.notSent.replace("{name}", file.filename).replace("{why}", why)]);
      var index = -1;
      item.files.forEach(function (f, j) { if (index < 0 && f.name === file.filename && item.shownFiles[j]) index = j; });
      var shownFile = index >= 0 ? item.shownFiles[index] : null;
      if (shownFile) {
        shownFile.replaceWith(note); // no broken picture in the bubble: the reason stands in its place
        item.shownFiles[index] = null;
      } else {
        item.node.appendChild(note);
      }
    });
    if (nothingSent) {
      item.node.classList.remove("sending");
      item.node.classList.add("failed"); // nothing to retry: the same files would be refused again
      if (outbox.indexOf(item) >= 0) outbox.splice(outbox.indexOf(item), 1);
    }
    item.node.scrollIntoView({ block: "nearest" });
  }

  function failed(item) {
    item.node.classList.add("failed");
    var retry = el("button", { type: "button", class: "retry", onclick: function () {
      item.node.classList.remove("failed");
      note.remove();
      deliver(item); // the same Idempotency-Key: the server stores and answers it once
    } }, [t.retry]);
    var note = el("span", { class: "note" }, [t.failed + " ", retry]);
    item.node.appendChild(note);
  }

  // ---- talk to a human ---------------------------------------------------------------------------

  function handOver() {
    humanButton.disabled = true;
    ensureConversation().then(function () {
      return authed("/api/v1/conversations/" + conversation.id + "/hand-over", { method: "POST" });
    }).then(function (res) {
      if (!res.ok) { humanButton.disabled = false; return showStatus(res.error); }
      humanButton.hidden = true;
      if (res.data.message) show(res.data.message);
      else showStatus(t.handedOver);
    }).catch(function () { humanButton.disabled = false; showStatus(t.error); });
  }
})();
