// Cameras page: live preview with ROIs drawn by dragging, camera settings, model choice.

import { renderCapture } from "/static/classes-ui.js";
import { $, api, connectPush, el, formatTime, setupHeader, toast } from "/static/common.js";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const COLOURS = ["#22c55e", "#3b82f6", "#f59e0b", "#ec4899", "#8b5cf6", "#14b8a6", "#ef4444", "#84cc16"];
const MIN_SIZE = 2; // percent
const PREVIEW_PERIOD = 5000;

let cameras = [];
let current = null; // the camera as the server has it
let rois = []; // the ROIs being edited: {name, box, labels, enabled}
let active = -1;
let dirty = false;
let drag = null;
let previewUrl = null;

const colour = (index) => COLOURS[index % COLOURS.length];
const round = (value) => Math.round(value * 10) / 10;
const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

// -- cameras and tabs ------------------------------------------------------------------------

function renderTabs() {
  $("#tabs").replaceChildren(
    ...cameras.map((camera) =>
      el(
        "button",
        {
          type: "button",
          role: "tab",
          "aria-selected": current && camera.id === current.id ? "true" : "false",
          onclick: () => selectCamera(camera.id),
        },
        camera.name,
      ),
    ),
  );
}

function selectCamera(id, force = false) {
  if (!force && dirty && current && id !== current.id && !confirm("Discard the unsaved changes?")) return;
  current = cameras.find((camera) => camera.id === id) || cameras[0];
  history.replaceState(null, "", `#${current.id}`);
  resetDraft();
  renderTabs();
  $("#test-results").replaceChildren();
  renderCapture($("#capture"), current);
  loadPreview();
}

function resetDraft() {
  rois = current.rois.map((roi) => ({
    name: roi.name,
    box: [...roi.box],
    labels: [...roi.labels],
    enabled: roi.enabled,
  }));
  active = Math.min(active, rois.length - 1);
  setDirty(false);
  fillForm();
  renderRois();
  renderStatus();
  $("#camera-title").textContent = current.name;
  $("#monitoring").checked = current.monitoring;
}

const UNSAVED = "Unsaved changes";

// Shows or clears the "unsaved" note; other messages there ("Saved…", errors) stay.
function setDirty(value) {
  dirty = value;
  const status = $("#save-status");
  if (value) {
    status.className = "small dirty-note";
    status.textContent = UNSAVED;
  } else if (status.textContent === UNSAVED) {
    status.className = "small";
    status.textContent = "";
  }
}

// -- preview and ROI drawing -----------------------------------------------------------------

async function loadPreview() {
  if (!current) return;
  const id = current.id;
  let response;
  try {
    response = await fetch(`/api/cameras/${encodeURIComponent(id)}/snapshot`, { credentials: "same-origin" });
  } catch {
    return;
  }
  if (!current || current.id !== id) return;
  const image = $("#frame");
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = (await response.json()).error || message;
    } catch {
      // not JSON: keep the status line
    }
    image.hidden = true;
    $("#preview").classList.remove("loaded");
    $("#placeholder").hidden = false;
    $("#placeholder").textContent = `No picture: ${message}`;
    // The failed fetch changed the camera's state: show it even if the push missed it.
    api("GET", `/api/cameras/${encodeURIComponent(id)}`)
      .then((camera) => {
        replaceCamera(camera);
        if (current && current.id === id) renderStatus();
      })
      .catch(() => {});
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  image.onload = () => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = url;
  };
  image.src = url;
  image.hidden = false;
  $("#placeholder").hidden = true;
  $("#preview").classList.add("loaded");
}

function renderOverlay() {
  $("#roi-layer").replaceChildren(
    ...rois.map((roi, index) => {
      const [x0, y0, x1, y1] = roi.box;
      const box = el(
        "div",
        {
          class: `roi-box${roi.enabled ? "" : " off"}${index === active ? " active" : ""}`,
          dataset: { index },
          title: roi.name,
        },
        el("span", { class: "tag" }, roi.name),
        ...["nw", "ne", "sw", "se"].map((corner) => el("span", { class: `handle ${corner}`, dataset: { corner } })),
      );
      Object.assign(box.style, { left: `${x0}%`, top: `${y0}%`, width: `${x1 - x0}%`, height: `${y1 - y0}%` });
      box.style.setProperty("--c", colour(index));
      return box;
    }),
  );
}

function pointerPercent(event) {
  const rect = $("#roi-layer").getBoundingClientRect();
  return {
    x: clamp(((event.clientX - rect.left) / rect.width) * 100, 0, 100),
    y: clamp(((event.clientY - rect.top) / rect.height) * 100, 0, 100),
  };
}

function onPointerDown(event) {
  if (event.button !== 0 || !current) return;
  const start = pointerPercent(event);
  const handle = event.target.closest(".handle");
  const box = event.target.closest(".roi-box");
  if (box) {
    const index = Number(box.dataset.index);
    drag = { kind: handle ? "resize" : "move", corner: handle?.dataset.corner, index, start, box: [...rois[index].box] };
    selectRoi(index);
  } else {
    const ghost = el("div", { class: "drawing" });
    $("#roi-layer").append(ghost);
    drag = { kind: "draw", start, ghost, box: [start.x, start.y, start.x, start.y] };
  }
  $("#roi-layer").setPointerCapture(event.pointerId);
  event.preventDefault();
}

function onPointerMove(event) {
  if (!drag) return;
  const p = pointerPercent(event);
  if (drag.kind === "draw") {
    drag.box = [Math.min(drag.start.x, p.x), Math.min(drag.start.y, p.y), Math.max(drag.start.x, p.x), Math.max(drag.start.y, p.y)];
    const [x0, y0, x1, y1] = drag.box;
    Object.assign(drag.ghost.style, { left: `${x0}%`, top: `${y0}%`, width: `${x1 - x0}%`, height: `${y1 - y0}%` });
    return;
  }
  let [x0, y0, x1, y1] = drag.box;
  if (drag.kind === "move") {
    const dx = clamp(p.x - drag.start.x, -x0, 100 - x1);
    const dy = clamp(p.y - drag.start.y, -y0, 100 - y1);
    [x0, y0, x1, y1] = [x0 + dx, y0 + dy, x1 + dx, y1 + dy];
  } else {
    if (drag.corner.includes("w")) x0 = Math.min(p.x, x1 - MIN_SIZE);
    if (drag.corner.includes("e")) x1 = Math.max(p.x, x0 + MIN_SIZE);
    if (drag.corner.includes("n")) y0 = Math.min(p.y, y1 - MIN_SIZE);
    if (drag.corner.includes("s")) y1 = Math.max(p.y, y0 + MIN_SIZE);
  }
  rois[drag.index].box = [x0, y0, x1, y1].map(round);
  renderOverlay();
  updateBoxText(drag.index);
}

function onPointerUp() {
  if (!drag) return;
  const finished = drag;
  drag = null;
  if (finished.kind === "draw") {
    finished.ghost.remove();
    const [x0, y0, x1, y1] = finished.box.map(round);
    if (x1 - x0 < MIN_SIZE || y1 - y0 < MIN_SIZE) return;
    rois.push({ name: newRoiName(), box: [x0, y0, x1, y1], labels: ["*"], enabled: true });
    active = rois.length - 1;
    renderRois();
    setDirty(true);
    const input = $(`.roi-card[data-index="${active}"] input[name="roi-name"]`);
    if (input) {
      input.focus();
      input.select();
    }
    return;
  }
  const moved = finished.box.some((value, i) => value !== rois[finished.index].box[i]);
  if (moved) setDirty(true);
}

function newRoiName() {
  const names = new Set(rois.map((roi) => roi.name.toLowerCase()));
  let number = rois.length + 1;
  while (names.has(`area ${number}`)) number += 1;
  return `area ${number}`;
}

function selectRoi(index) {
  active = index;
  renderOverlay();
  for (const card of document.querySelectorAll(".roi-card")) {
    card.classList.toggle("active", Number(card.dataset.index) === index);
  }
}

// -- ROI list --------------------------------------------------------------------------------

function boxText(box) {
  const [x0, y0, x1, y1] = box.map((v) => v.toFixed(1));
  return `box ${x0}, ${y0} – ${x1}, ${y1} %`;
}

function updateBoxText(index) {
  const text = $(`.roi-card[data-index="${index}"] .box-text`);
  if (text) text.textContent = boxText(rois[index].box);
}

function labelChip(roi, label, index) {
  return el(
    "span",
    { class: "tagchip" },
    label === "*" ? "* any label" : label,
    el("button", {
      type: "button",
      "aria-label": `Remove label ${label}`,
      onclick: () => {
        roi.labels = roi.labels.filter((v) => v !== label);
        setDirty(true);
        renderRoiCard(index);
      },
    }, "×"),
  );
}

function addLabels(roi, text, index) {
  const labels = text.split(",").map((v) => v.trim()).filter(Boolean);
  if (!labels.length) return;
  for (const label of labels) {
    if (!roi.labels.some((v) => v.toLowerCase() === label.toLowerCase())) roi.labels.push(label);
  }
  if (labels.some((v) => v !== "*")) roi.labels = roi.labels.filter((v) => v !== "*");
  setDirty(true);
  renderRoiCard(index, true);
}

// Moves what was typed into the ROI's labels; the input is emptied first, so the change
// event its removal fires finds nothing left to add.
function takeLabels(input, roi, index) {
  const text = input.value;
  input.value = "";
  addLabels(roi, text, index);
}

function roiCard(roi, index) {
  const input = el("input", {
    type: "text",
    name: "roi-label",
    list: "label-list",
    placeholder: "Add a label…",
    "aria-label": `Add a label to ${roi.name}`,
    onkeydown: (event) => {
      if (event.key === "Enter" || event.key === ",") {
        event.preventDefault();
        takeLabels(event.target, roi, index);
      }
    },
    onchange: (event) => takeLabels(event.target, roi, index),
  });
  const card = el(
    "fieldset",
    { class: `roi-card${index === active ? " active" : ""}`, dataset: { index }, onclick: () => selectRoi(index) },
    el(
      "div",
      { class: "roi-head" },
      el("input", {
        type: "text",
        name: "roi-name",
        value: roi.name,
        "aria-label": "ROI name",
        maxlength: 64,
        oninput: (event) => {
          roi.name = event.target.value;
          setDirty(true);
          renderOverlay();
        },
      }),
      el("label", { class: "check" }, el("input", {
        type: "checkbox",
        name: "roi-enabled",
        checked: roi.enabled,
        onchange: (event) => {
          roi.enabled = event.target.checked;
          setDirty(true);
          renderOverlay();
        },
      }), "Enabled"),
      el("button", {
        type: "button",
        class: "danger",
        onclick: (event) => {
          event.stopPropagation();
          rois.splice(index, 1);
          active = -1;
          setDirty(true);
          renderRois();
        },
      }, "Remove"),
    ),
    el("div", { class: "label-editor" }, ...roi.labels.map((label) => labelChip(roi, label, index)), input),
    el("small", { class: "muted box-text" }, boxText(roi.box)),
  );
  card.style.setProperty("--c", colour(index));
  return card;
}

function renderRoiCard(index, focus = false) {
  const old = $(`.roi-card[data-index="${index}"]`);
  if (!old || !rois[index]) return;
  const card = roiCard(rois[index], index);
  old.replaceWith(card);
  if (focus) card.querySelector('input[name="roi-label"]').focus();
}

function renderRois() {
  $("#roi-list").replaceChildren(...rois.map(roiCard));
  $("#no-rois").hidden = rois.length > 0;
  renderOverlay();
}

// -- settings form ---------------------------------------------------------------------------

function fillForm() {
  const form = $("#camera-form");
  const set = (name, value) => { form.elements[name].value = value ?? ""; };
  set("name", current.name);
  set("url", current.url);
  set("username", current.username);
  set("password", "");
  form.elements.password.placeholder = current.has_password ? "•••••• (unchanged)" : "";
  form.elements.remove_password.checked = false;
  form.elements.remove_password.closest("label").hidden = !current.has_password;
  set("auth", current.auth);
  set("check_period", current.check_period);
  set("timeout", current.timeout);
  set("max_sequence_length", current.max_sequence_length);
  set("from_hour", current.schedule.from_hour);
  set("to_hour", current.schedule.to_hour);
  $("#days").replaceChildren(
    ...WEEKDAYS.map((day) =>
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "day", value: day, checked: current.schedule.days.includes(day) }), day),
    ),
  );
}

function formBody() {
  const form = $("#camera-form");
  const value = (name) => form.elements[name].value.trim();
  const body = {
    name: value("name") || null,
    url: value("url"),
    username: value("username") || null,
    auth: value("auth"),
    schedule: {
      days: [...form.querySelectorAll('input[name="day"]:checked')].map((box) => box.value),
    },
    rois: rois.map((roi) => ({
      name: roi.name.trim(),
      box: roi.box,
      labels: roi.labels.length ? roi.labels : ["*"],
      enabled: roi.enabled,
    })),
  };
  for (const name of ["check_period", "timeout", "max_sequence_length"]) {
    if (value(name) !== "") body[name] = Number(value(name));
  }
  for (const name of ["from_hour", "to_hour"]) {
    if (value(name) !== "") body.schedule[name] = Number(value(name));
  }
  if (form.elements.password.value) body.password = form.elements.password.value;
  if (form.elements.remove_password.checked) body.remove_password = true;
  return body;
}

async function save(event) {
  event.preventDefault();
  const status = $("#save-status");
  $("#save").disabled = true;
  status.className = "small muted";
  status.textContent = "Saving…";
  try {
    const camera = await api("PUT", `/api/cameras/${encodeURIComponent(current.id)}`, formBody());
    replaceCamera(camera);
    resetDraft();
    status.className = "small ok";
    status.textContent = "Saved and applied";
    loadPreview();
  } catch (error) {
    status.className = "small error";
    status.textContent = error.message;
  } finally {
    $("#save").disabled = false;
  }
}

function replaceCamera(camera) {
  cameras = cameras.map((c) => (c.id === camera.id ? camera : c));
  if (current && current.id === camera.id) current = camera;
}

// -- status, refresh, test, monitoring -------------------------------------------------------

function renderStatus() {
  const line = $("#status");
  const state = current.state;
  const stopped = current.monitoring ? "" : " · monitoring stopped";
  line.className = "status";
  if (!state || state.ok === null) {
    line.textContent = current.monitoring ? "Not checked yet." : "Monitoring is stopped.";
    line.classList.add("muted");
  } else if (state.ok) {
    const latency = state.latency_ms === null ? "" : ` · ${Math.round(state.latency_ms)} ms`;
    line.textContent = `✓ ${state.width}×${state.height}${latency} · last frame ${formatTime(state.last_frame)}${stopped}`;
    line.classList.add("ok");
  } else {
    line.textContent = `✗ ${state.error}${stopped}`;
    line.classList.add("error");
  }
}

async function refresh() {
  $("#refresh").disabled = true;
  $("#status").textContent = "Fetching a frame…";
  try {
    replaceCamera(await api("POST", `/api/cameras/${encodeURIComponent(current.id)}/refresh`));
    renderStatus();
    loadPreview();
  } catch (error) {
    toast(error.message, "error");
  } finally {
    $("#refresh").disabled = false;
  }
}

async function testClassifier() {
  const box = $("#test-results");
  $("#test").disabled = true;
  box.replaceChildren(el("p", { class: "muted" }, "Classifying the current frame…"));
  try {
    const result = await api("POST", `/api/cameras/${encodeURIComponent(current.id)}/test`);
    const names = Object.fromEntries(current.rois.map((roi) => [roi.slug, roi.name]));
    box.replaceChildren(
      ...Object.entries(result.rois).map(([slug, predictions]) =>
        el(
          "div",
          { class: "panel test-roi", dataset: { roi: slug } },
          el("strong", {}, names[slug] || slug),
          el("ol", {}, ...predictions.map((p) => el("li", {}, `${p.label} `, el("span", { class: "muted" }, `${Math.round(p.score * 100)}%`)))),
        ),
      ),
    );
    if (dirty) box.prepend(el("p", { class: "dirty-note" }, "Tested with the saved ROIs; save to test your changes."));
    loadPreview();
  } catch (error) {
    box.replaceChildren(el("p", { class: "error" }, error.message));
  } finally {
    $("#test").disabled = false;
  }
}

async function setMonitoring(event) {
  const on = event.target.checked;
  try {
    replaceCamera(await api("POST", `/api/cameras/${encodeURIComponent(current.id)}/monitoring`, { monitoring: on }));
    renderStatus();
    toast(on ? "Monitoring started" : "Monitoring stopped");
  } catch (error) {
    event.target.checked = !on;
    toast(error.message, "error");
  }
}

// -- model -----------------------------------------------------------------------------------

async function loadModels() {
  const data = await api("GET", "/api/models");
  const form = $("#model-form");
  $("#model-select").replaceChildren(
    ...data.models.map((model) =>
      el("option", { value: model.id, selected: model.active }, `${model.name}${model.bundled ? " (bundled)" : ""}`),
    ),
  );
  form.elements.min_score.value = data.min_score;
  form.elements.top_k.value = data.top_k;
  $("#model-status").textContent = `In use: ${data.loaded}`;
}

async function loadLabels() {
  const data = await api("GET", "/api/labels");
  $("#label-list").replaceChildren(...["*", ...data.labels].map((label) => el("option", { value: label })));
}

async function saveModel(event) {
  event.preventDefault();
  const form = $("#model-form");
  const status = $("#model-status");
  status.textContent = "Loading the model…";
  try {
    await api("PUT", "/api/model", {
      path: form.elements.path.value,
      min_score: Number(form.elements.min_score.value),
      top_k: Number(form.elements.top_k.value),
    });
    await loadModels();
    await loadLabels();
    toast("Model settings applied");
  } catch (error) {
    status.textContent = error.message;
    status.className = "small error";
  }
}

// -- push ------------------------------------------------------------------------------------

function onPush(message) {
  if (message.type === "camera") {
    replaceCamera(message.data);
    if (current && message.camera === current.id) {
      $("#monitoring").checked = current.monitoring;
      if (!dirty) resetDraft();
      else renderStatus();
    }
  } else if (message.type === "camera_status" && current && message.camera === current.id) {
    current.state = { ...(current.state || {}), ok: message.ok, error: message.error };
    renderStatus();
  }
}

async function main() {
  setupHeader();
  connectPush(onPush);
  cameras = await api("GET", "/api/cameras");
  if (!cameras.length) {
    $("#no-cameras").hidden = false;
    return;
  }
  $("#camera").hidden = false;
  const layer = $("#roi-layer");
  layer.addEventListener("pointerdown", onPointerDown);
  layer.addEventListener("pointermove", onPointerMove);
  layer.addEventListener("pointerup", onPointerUp);
  layer.addEventListener("pointercancel", onPointerUp);
  $("#camera-form").addEventListener("submit", save);
  $("#camera-form").addEventListener("input", (event) => {
    if (!event.target.name.startsWith("roi-")) setDirty(true);
  });
  $("#revert").addEventListener("click", () => resetDraft());
  $("#refresh").addEventListener("click", refresh);
  $("#test").addEventListener("click", testClassifier);
  $("#monitoring").addEventListener("change", setMonitoring);
  $("#model-form").addEventListener("submit", saveModel);
  window.addEventListener("beforeunload", (event) => {
    if (dirty) event.preventDefault();
  });
  selectCamera(decodeURIComponent(location.hash.slice(1)), true);
  setInterval(() => {
    if (document.visibilityState === "visible" && !drag) loadPreview();
  }, PREVIEW_PERIOD);
  loadModels().catch((error) => toast(error.message, "error"));
  loadLabels().catch((error) => toast(error.message, "error"));
}

main();
