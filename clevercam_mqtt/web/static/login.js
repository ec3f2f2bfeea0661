// Login page: posts the credentials, then goes back to the page that asked for them.

import { $, api } from "/static/common.js";

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  // Only a path on this server: never an open redirect.
  return next.startsWith("/") && !next.startsWith("//") && !next.includes("\\") ? next : "/";
}

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const button = form.querySelector("button");
  button.disabled = true;
  $("#error").textContent = "";
  try {
    await api("POST", "/api/login", { username: form.elements.username.value, password: form.elements.password.value });
    location.assign(nextPage());
  } catch (error) {
    $("#error").textContent = error.message;
    form.elements.password.select();
  } finally {
    button.disabled = false;
  }
});
