// System page: machine resources, history size and per-camera figures, refreshed every few seconds.

import { $, api, connectPush, el, formatBytes, formatTime, setupHeader, toast } from "/static/common.js";

const PERIOD = 5000;
let names = {};

function tile(title, value, percent, note) {
  return el(
    "div",
    { class: "panel tile", dataset: { tile: title.toLowerCase() } },
    el("h3", {}, title),
    el("div", { class: "value" }, value),
    percent === null ? null : el("div", { class: "gauge" }, el("div", { style: { width: `${Math.min(100, percent)}%` } })),
    note ? el("div", { class: "muted small" }, note) : null,
  );
}

function status(state, monitoring) {
  if (!monitoring) return el("span", { class: "muted" }, "stopped");
  if (!state || state.ok === null) return el("span", { class: "muted" }, "starting");
  if (!state.in_schedule) return el("span", { class: "muted" }, "outside schedule");
  return state.ok ? el("span", { class: "ok" }, "ok") : el("span", { class: "error" }, "error");
}

async function load() {
  const [info, cameras] = await Promise.all([api("GET", "/api/system"), api("GET", "/api/cameras")]);
  names = Object.fromEntries(cameras.map((c) => [c.id, c.name]));
  $("#tiles").replaceChildren(
    tile("RAM", `${info.ram_percent}%`, info.ram_percent, `clevercam uses ${formatBytes(info.process_rss_bytes)}`),
    tile("Disk", `${info.disk_percent}%`, info.disk_percent, `${formatBytes(info.disk_free_bytes)} free`),
    tile("CPU", `${info.cpu_percent}%`, info.cpu_percent, null),
    tile("History", `${info.history_count}`, null, `events, ${formatBytes(info.history_bytes)}`),
  );
  $("#camera-rows").replaceChildren(
    ...cameras.map((camera) => {
      const state = info.cameras[camera.id] || camera.state || {};
      return el(
        "tr",
        { dataset: { camera: camera.id } },
        el("td", {}, names[camera.id]),
        el("td", {}, status(state, camera.monitoring)),
        el("td", {}, formatTime(state.last_frame, true)),
        el("td", { class: "num" }, state.frames_checked ?? "–"),
        el("td", { class: "num" }, state.frames_with_motion ?? "–"),
        el("td", { class: "num" }, state.events_today ?? "–"),
        el("td", { class: state.error ? "error" : "muted" }, state.error || "–"),
      );
    }),
  );
  showNotify(info.notify);
  $("#about").textContent = `clevercam ${info.version} · model ${info.model} · instance ${info.instance_id}`;
}

// The mail part of /api/system: absent when no mail server is configured.
function showNotify(notify) {
  $("#notify").hidden = !notify;
  if (!notify) return;
  const parts = [
    `${notify.server} → ${notify.recipients} recipient(s)`,
    `sent ${notify.sent}, failed ${notify.failed}, held back by the minimum interval ${notify.suppressed}`,
    notify.last_sent ? `last mail ${formatTime(notify.last_sent, true)}` : "no mail sent yet",
  ];
  const line = $("#notify-status");
  line.replaceChildren(parts.join(" · "));
  if (notify.error) line.append(el("span", { class: "error" }, ` · ${notify.error}`));
}

async function sendTestMail() {
  const button = $("#notify-test");
  button.disabled = true;
  try {
    const result = await api("POST", "/api/notify/test", {});
    toast(`Test mail sent to ${result.to.join(", ")}`);
  } catch (error) {
    toast(`Test mail failed: ${error.message}`, "error");
  } finally {
    button.disabled = false;
    load().catch(() => {});
  }
}

function main() {
  setupHeader();
  $("#notify-test").addEventListener("click", sendTestMail);
  load();
  setInterval(() => {
    if (document.visibilityState === "visible") load().catch(() => {});
  }, PERIOD);
  connectPush((message) => {
    if (message.type === "camera_status" || message.type === "event") load().catch(() => {});
  });
}

main();
