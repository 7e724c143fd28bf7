// Shared helpers of the agent and admin consoles (ES module). Everything is put on the page as text.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

/** Build an element; children are nodes or strings (strings become text, never HTML). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Call the JSON API with the session cookie; changes carry the CSRF token. A lapsed session goes to sign-in. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                   credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(0, "network", "the server can't be reached; check the connection");
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (response.status === 401) {
    location.href = "/login?expired=1&next=" + encodeURIComponent(location.pathname + location.hash);
    throw new ApiError(401, "not_signed_in", "signed out");
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.error?.code || "error", data?.error?.message || response.statusText);
  }
  return data;
}

let toastTimer = null;
/** A short message at the bottom of the page. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.className = "show " + kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.className = ""; }, 4000);
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function number(value, digits = 3) {
  return typeof value === "number" ? String(Math.round(value * 10 ** digits) / 10 ** digits) : value ?? "–";
}

const logout = document.getElementById("logout");
logout?.addEventListener("click", async () => {
  try { await api("/api/v1/auth/logout", { method: "POST" }); } catch { /* signed out already */ }
  location.href = "/login";
});
