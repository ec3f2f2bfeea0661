// History page: filters with counts, hour histogram, thumbnail grid, viewer, zip and delete.

import { setupAddToClass } from "/static/classes-ui.js";
import { $, api, connectPush, el, formatTime, isoDay, setupHeader, toast } from "/static/common.js";

const PAGE_SIZE = 60;
const MAX_BATCH = 1000;
const DIMENSIONS = { labels: "label", rois: "roi", cameras: "camera" };

const state = {
  start: "",
  end: "",
  labels: [],
  rois: [],
  cameras: [],
  hours: [],
  unique: false,
  offset: 0,
};
let events = [];
let total = 0;
let viewing = -1;
let cameraNames = {};
let reloadPending = false;
let loads = 0;
const selected = new Set();

// -- state <-> URL ---------------------------------------------------------------------------

function readUrl() {
  const params = new URLSearchParams(location.search);
  const today = isoDay(new Date());
  state.start = params.has("start") ? params.get("start") : today;
  state.end = params.has("end") ? params.get("end") : today;
  for (const [key, param] of Object.entries(DIMENSIONS)) state[key] = params.getAll(param);
  state.hours = params.getAll("hour").map(Number).filter((h) => h >= 0 && h < 24);
  state.unique = ["1", "true"].includes(params.get("unique"));
  state.offset = Math.max(0, Number(params.get("offset")) || 0);
}

function queryParams() {
  const params = new URLSearchParams();
  params.set("start", state.start);
  params.set("end", state.end);
  for (const [key, param] of Object.entries(DIMENSIONS)) {
    for (const value of state[key]) params.append(param, value);
  }
  for (const hour of state.hours) params.append("hour", hour);
  if (state.unique) params.set("unique", "1");
  return params;
}

function writeUrl() {
  const params = queryParams();
  if (state.offset) params.set("offset", state.offset);
  history.replaceState(null, "", `/?${params}`);
}

// -- loading ---------------------------------------------------------------------------------

async function load() {
  if (state.start && state.end && state.start > state.end) {
    state.end = state.start;
  }
  writeUrl();
  const params = queryParams();
  params.set("limit", PAGE_SIZE);
  params.set("offset", state.offset);
  const request = ++loads;
  let data;
  try {
    data = await api("GET", `/api/events?${params}`);
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  if (request !== loads) return; // a newer search was started meanwhile: its answer counts
  events = data.events;
  total = data.total;
  if (state.offset && state.offset >= total) {
    state.offset = Math.max(0, Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE);
    return load();
  }
  $("#start").value = state.start;
  $("#end").value = state.end;
  $("#unique").checked = state.unique;
  renderFacets(data.facets);
  renderHours(data.facets.hours);
  renderGrid();
  renderPager();
  renderSelection();
}

// -- filters ---------------------------------------------------------------------------------

function toggle(list, value) {
  const index = list.indexOf(value);
  if (index >= 0) list.splice(index, 1);
  else list.push(value);
  state.offset = 0;
  load();
}

function renderFacets(facets) {
  for (const key of Object.keys(DIMENSIONS)) {
    const counts = { ...facets[key] };
    for (const value of state[key]) counts[value] ??= 0;
    const entries = Object.entries(counts);
    if (key === "labels") entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    else entries.sort((a, b) => a[0].localeCompare(b[0]));
    const box = $(`#f-${key}`);
    box.replaceChildren(
      ...entries.map(([value, count]) =>
        el(
          "button",
          {
            type: "button",
            class: "chip",
            "aria-pressed": state[key].includes(value) ? "true" : "false",
            dataset: { value },
            onclick: () => toggle(state[key], value),
          },
          key === "cameras" ? cameraNames[value] || value : value,
          " ",
          el("span", { class: "n" }, count),
        ),
      ),
    );
    if (!entries.length) box.append(el("span", { class: "empty-facet" }, "none in this range"));
  }
}

function renderHours(hours) {
  const counts = Array.from({ length: 24 }, (_, h) => hours[String(h)] || 0);
  const max = Math.max(1, ...counts);
  $("#hours").replaceChildren(
    ...counts.map((count, hour) =>
      el(
        "button",
        {
          type: "button",
          class: `hour${count ? " has" : ""}`,
          title: `${String(hour).padStart(2, "0")}:00 – ${count} event${count === 1 ? "" : "s"}`,
          "aria-label": `Hour ${hour}: ${count} events`,
          "aria-pressed": state.hours.includes(hour) ? "true" : "false",
          dataset: { hour },
          onclick: () => toggle(state.hours, hour),
        },
        el("span", { class: "bar", style: { height: `${(count / max) * 80}%` } }),
        el("span", { class: "h" }, hour),
      ),
    ),
  );
}

function shiftDays(days) {
  const shift = (value) => {
    const date = new Date(`${value || isoDay(new Date())}T12:00:00`);
    date.setDate(date.getDate() + days);
    return isoDay(date);
  };
  state.start = shift(state.start);
  state.end = shift(state.end);
  state.offset = 0;
  load();
}

// -- grid ------------------------------------------------------------------------------------

function describe(event) {
  const label = event.labels[0] || "";
  const score = event.scores[0] !== undefined ? ` ${Math.round(event.scores[0] * 100)}%` : "";
  return { label, score };
}

function renderGrid() {
  const grid = $("#grid");
  if (!events.length) {
    grid.replaceChildren(el("p", { class: "nothing" }, "No events match these filters."));
    return;
  }
  grid.replaceChildren(
    ...events.map((event, index) => {
      const { label, score } = describe(event);
      const checkbox = el("input", {
        type: "checkbox",
        "aria-label": `Select ${label} at ${formatTime(event.timestamp)}`,
        checked: selected.has(event.id),
        onchange: (e) => {
          if (e.target.checked) selected.add(event.id);
          else selected.delete(event.id);
          card.classList.toggle("selected", e.target.checked);
          renderSelection();
        },
      });
      const card = el(
        "figure",
        { class: `card${selected.has(event.id) ? " selected" : ""}`, dataset: { id: event.id } },
        el("label", { class: "pick" }, checkbox),
        el(
          "button",
          { type: "button", class: "thumb", onclick: () => openViewer(index), "aria-label": `Open ${label}` },
          el("img", { src: event.thumbnail_url, alt: `${label} in ${event.roi_name}`, loading: "lazy" }),
        ),
        el(
          "figcaption",
          {},
          el("time", { datetime: event.timestamp }, formatTime(event.timestamp, state.start !== state.end)),
          " ",
          el("span", { class: "label" }, label),
          el("span", { class: "muted" }, score),
          el("br"),
          el("span", { class: "muted small" }, `${cameraNames[event.camera] || event.camera} · ${event.roi_name}`),
        ),
      );
      return card;
    }),
  );
}

function renderPager() {
  const first = total ? state.offset + 1 : 0;
  const last = Math.min(total, state.offset + events.length);
  $("#total").textContent = `${total} event${total === 1 ? "" : "s"}`;
  $("#page-info").textContent = total ? `${first}–${last} of ${total}` : "";
  $("#newer").disabled = state.offset === 0;
  $("#older").disabled = state.offset + PAGE_SIZE >= total;
}

function renderSelection() {
  $("#selected").textContent = `${selected.size} selected`;
  $("#zip").disabled = selected.size === 0;
  $("#add-to-class").disabled = selected.size === 0;
  $("#delete").disabled = selected.size === 0;
}

// -- selection actions -----------------------------------------------------------------------

async function selectAll() {
  const params = queryParams();
  params.set("limit", MAX_BATCH);
  try {
    const data = await api("GET", `/api/events?${params}`);
    for (const event of data.events) selected.add(event.id);
    if (data.total > MAX_BATCH) toast(`Selected the newest ${MAX_BATCH} of ${data.total} events`);
  } catch (error) {
    toast(error.message, "error");
  }
  renderGrid();
  renderSelection();
}

function downloadZip() {
  if (selected.size > MAX_BATCH) {
    toast(`A zip holds at most ${MAX_BATCH} events; ${selected.size} are selected`, "error");
    return;
  }
  // A form post lets the browser stream the download to disk instead of holding it in memory.
  const form = $("#zip-form");
  form.replaceChildren(...[...selected].map((id) => el("input", { type: "hidden", name: "ids", value: id })));
  form.submit();
}

async function deleteIds(ids) {
  let deleted = 0;
  for (let i = 0; i < ids.length; i += MAX_BATCH) {
    const data = await api("POST", "/api/events/delete", { ids: ids.slice(i, i + MAX_BATCH) });
    deleted += data.deleted;
  }
  return deleted;
}

async function deleteSelected() {
  const ids = [...selected];
  if (!confirm(`Delete ${ids.length} event${ids.length === 1 ? "" : "s"} for good?`)) return;
  try {
    const deleted = await deleteIds(ids);
    toast(`Deleted ${deleted} event${deleted === 1 ? "" : "s"}`);
  } catch (error) {
    toast(error.message, "error");
  }
  selected.clear();
  load();
}

// -- viewer ----------------------------------------------------------------------------------

function openViewer(index) {
  viewing = index;
  const event = events[index];
  const dialog = $("#viewer");
  $("#viewer-image").src = event.image_url;
  $("#viewer-image").alt = `${event.labels.join(", ")} in ${event.roi_name}`;
  const labels = event.labels.map((l, i) => `${l} ${Math.round(event.scores[i] * 100)}%`).join(", ");
  $("#viewer-meta").replaceChildren(
    el("strong", {}, labels),
    el("br"),
    el(
      "span",
      { class: "muted small" },
      `${formatTime(event.timestamp, true)} · ${cameraNames[event.camera] || event.camera} · ${event.roi_name}`,
    ),
  );
  $("#viewer-download").href = `${event.image_url}?download=1`;
  $("#viewer-prev").disabled = index === 0;
  $("#viewer-next").disabled = index === events.length - 1;
  if (!dialog.open) dialog.showModal();
}

function closeViewer() {
  $("#viewer").close();
}

async function deleteViewed() {
  const event = events[viewing];
  if (!event || !confirm("Delete this event for good?")) return;
  try {
    await api("DELETE", `/api/events/${encodeURIComponent(event.id)}`);
    selected.delete(event.id);
    reloadPending = true;
    toast("Deleted");
  } catch (error) {
    toast(error.message, "error");
  }
  closeViewer();
}

// -- wiring ----------------------------------------------------------------------------------

function onPush(message) {
  if (message.type !== "event") return;
  const today = isoDay(new Date());
  if (state.offset !== 0 || (state.end && state.end < today)) return;
  if ($("#viewer").open) {
    reloadPending = true;
    return;
  }
  clearTimeout(onPush.timer);
  onPush.timer = setTimeout(load, 800);
}

async function main() {
  setupHeader();
  readUrl();
  try {
    for (const camera of await api("GET", "/api/cameras")) cameraNames[camera.id] = camera.name;
  } catch {
    cameraNames = {};
  }
  $("#prev").addEventListener("click", () => shiftDays(-1));
  $("#next").addEventListener("click", () => shiftDays(1));
  $("#today").addEventListener("click", () => {
    state.start = state.end = isoDay(new Date());
    state.offset = 0;
    load();
  });
  for (const id of ["start", "end"]) {
    $(`#${id}`).addEventListener("change", (e) => {
      state[id] = e.target.value;
      state.offset = 0;
      load();
    });
  }
  $("#unique").addEventListener("change", (e) => {
    state.unique = e.target.checked;
    state.offset = 0;
    load();
  });
  $("#clear").addEventListener("click", () => {
    Object.assign(state, { labels: [], rois: [], cameras: [], hours: [], unique: false, offset: 0 });
    load();
  });
  $("#newer").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    load();
  });
  $("#older").addEventListener("click", () => {
    state.offset += PAGE_SIZE;
    load();
  });
  $("#select-page").addEventListener("click", () => {
    for (const event of events) selected.add(event.id);
    renderGrid();
    renderSelection();
  });
  $("#select-all").addEventListener("click", selectAll);
  $("#select-none").addEventListener("click", () => {
    selected.clear();
    renderGrid();
    renderSelection();
  });
  $("#zip").addEventListener("click", downloadZip);
  setupAddToClass(() => [...selected]);
  $("#delete").addEventListener("click", deleteSelected);
  $("#viewer-close").addEventListener("click", closeViewer);
  $("#viewer-prev").addEventListener("click", () => openViewer(Math.max(0, viewing - 1)));
  $("#viewer-next").addEventListener("click", () => openViewer(Math.min(events.length - 1, viewing + 1)));
  $("#viewer-delete").addEventListener("click", deleteViewed);
  $("#viewer").addEventListener("close", () => {
    viewing = -1;
    if (reloadPending) {
      reloadPending = false;
      load();
    }
  });
  $("#viewer").addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft" && viewing > 0) openViewer(viewing - 1);
    if (e.key === "ArrowRight" && viewing < events.length - 1) openViewer(viewing + 1);
  });
  await load();
  connectPush(onPush);
}

main();
