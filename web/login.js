// The sign-in form: the session goes into an HttpOnly cookie; the page never holds the token.
const form = document.getElementById("login");
const error = document.getElementById("login-error");
if (new URLSearchParams(location.search).has("expired")) {
  error.textContent = "Your session has ended. Please sign in again.";
  error.hidden = false;
}
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const body = { email: form.email.value, password: form.password.value, session_cookie: true };
  let response;
  try {
    response = await fetch("/api/v1/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin",
    });
  } catch {
    error.textContent = "The server can't be reached.";
    error.hidden = false;
    return;
  }
  if (response.ok) {
    const next = form.dataset.next || "/agent";
    location.href = next.startsWith("/") && !next.startsWith("//") ? next : "/agent";
    return;
  }
  const data = await response.json().catch(() => null);
  error.textContent = data?.error?.message || "Sign-in failed.";
  error.hidden = false;
});
