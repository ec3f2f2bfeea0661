// Shared helpers of the clevercam pages: API calls, DOM building, the push socket, header.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Calls the JSON API; a lost session goes back to the login page.
export async function api(method, url, body) {
  const options = { method, headers: { "X-Requested-With": "clevercam" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  if (response.status === 401 && !url.startsWith("/api/login")) {
    goLogin();
    throw new ApiError(401, "login required");
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("application/json") ? await response.json() : null;
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || `${response.status} ${response.statusText}`);
  }
  return data;
}

export function goLogin() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

// el("button", {class: "x", onclick: f}, "text", child) -> element
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") Object.assign(node.style, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

let toastTimer = null;
export function toast(message, kind = "") {
  let box = $(".toast");
  if (!box) {
    box = el("div", { class: "toast", role: "status" });
    document.body.append(box);
  }
  box.className = `toast ${kind}`;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 7000 : 3000);
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 && unit ? 1 : 0)} ${units[unit]}`;
}

export function formatTime(iso, withDate = false) {
  if (!iso) return "–";
  const date = new Date(iso);
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return withDate ? `${date.toLocaleDateString()} ${time}` : time;
}

// ISO date (YYYY-MM-DD) of a local Date.
export function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// The push socket, reconnecting with a growing pause; calls onMessage(data) per message.
export function connectPush(onMessage) {
  const dot = $("#live");
  let delay = 1000;
  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/ws`);
    socket.addEventListener("open", () => {
      delay = 1000;
      if (dot) { dot.classList.add("on"); dot.title = "Live"; }
    });
    socket.addEventListener("message", (message) => {
      try {
        onMessage(JSON.parse(message.data));
      } catch (error) {
        console.error(error);
      }
    });
    socket.addEventListener("close", () => {
      if (dot) { dot.classList.remove("on"); dot.title = "Reconnecting…"; }
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  open();
}

// Header: the logout button shows when the server asks for a login.
export async function setupHeader() {
  const button = $("#logout");
  if (!button) return;
  try {
    const health = await api("GET", "/api/health");
    button.hidden = !health.auth_required;
  } catch {
    return;
  }
  button.addEventListener("click", async () => {
    await api("POST", "/api/logout");
    location.assign("/login");
  });
}
