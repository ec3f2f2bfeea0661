// Classes page: class sets, their examples, training with cross-validation, import/export.

import { $, api, connectPush, el, setupHeader, toast } from "/static/common.js";

let sets = [];

const pct = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 100)} %`);

function confusionTable(training) {
  const columns = training.labels;
  const rows = columns.slice(0, -1); // the last column is "unknown"
  return el(
    "table",
    { class: "confusion", "aria-label": "Confusion matrix" },
    el("caption", { class: "small muted" }, "rows: true class · columns: predicted"),
    el("tr", {}, el("th", {}, ""), ...columns.map((name) => el("th", { scope: "col" }, name))),
    ...rows.map((name, row) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, name),
        ...training.confusion[row].map((count, column) => el("td", { class: row === column ? "hit" : "" }, count)),
      ),
    ),
  );
}

function trainingView(set) {
  const training = set.training;
  if (!training) return el("p", { class: "muted small training" }, "Not trained yet.");
  const accuracy =
    training.accuracy === null
      ? "too few examples to cross-validate"
      : `cross-validated accuracy ${pct(training.accuracy)} (${training.folds} folds)`;
  return el(
    "div",
    { class: "training" },
    el(
      "p",
      { class: "small" },
      el("strong", { class: "accuracy" }, accuracy),
      ` · ${training.examples} examples · ${training.seconds.toFixed(3)} s · ${new Date(training.trained_at).toLocaleString()}`,
    ),
    confusionTable(training),
    set.examples !== training.examples
      ? el("p", { class: "small problem" }, "The examples changed since: train again to use them.")
      : null,
  );
}

function statesView(set) {
  if (set.mode !== "state") return null;
  if (!set.states.length) return el("p", { class: "small muted states" }, "No state yet.");
  return el(
    "p",
    { class: "small states" },
    "Now: ",
    ...set.states.map((s) =>
      el("span", {}, `${s.camera}/${s.roi} `, el("span", { class: "state-now" }, s.state), ` (${pct(s.score)}) `),
    ),
  );
}

async function removeExample(set, example) {
  try {
    await api("DELETE", `/api/classes/${encodeURIComponent(set.slug)}/examples/${encodeURIComponent(example.id)}`);
    await load();
  } catch (error) {
    toast(error.message, "error");
  }
}

async function train(set, button) {
  button.disabled = true;
  try {
    const training = await api("POST", `/api/classes/${encodeURIComponent(set.slug)}/train`);
    toast(`Trained: cross-validated accuracy ${pct(training.accuracy)}`);
    await load();
  } catch (error) {
    toast(error.message, "error");
    button.disabled = false;
  }
}

async function remove(set) {
  if (!confirm(`Delete the class set ${set.name} and its ${set.examples} examples?`)) return;
  try {
    await api("DELETE", `/api/classes/${encodeURIComponent(set.slug)}`);
    await load();
  } catch (error) {
    toast(error.message, "error");
  }
}

function setCard(set, examples) {
  const trainButton = el("button", { type: "button", class: "primary train" }, "Train");
  trainButton.addEventListener("click", () => train(set, trainButton));
  const byClass = set.classes.map((name) => {
    const mine = examples.filter((example) => example.label === name);
    return el(
      "div",
      { class: "class-examples", dataset: { class: name } },
      el("h3", {}, `${name} `, el("span", { class: "count" }, `(${set.counts[name] || 0})`)),
      el(
        "div",
        { class: "examples" },
        ...mine.map((example) =>
          el(
            "figure",
            { class: "example", dataset: { id: example.id } },
            el("img", { src: example.thumbnail_url, alt: `${name} example`, loading: "lazy" }),
            el(
              "button",
              { type: "button", title: "Remove this example", "aria-label": `Remove ${name} example`,
                onclick: () => removeExample(set, example) },
              "×",
            ),
          ),
        ),
        mine.length ? null : el("span", { class: "muted small" }, "no example yet"),
      ),
    );
  });
  return el(
    "article",
    { class: "class-set", dataset: { slug: set.slug } },
    el(
      "div",
      { class: "row" },
      el("h2", {}, set.name),
      el("span", { class: "muted small" },
        `${set.mode} mode${set.mode === "state" ? `, every ${set.interval} s` : ""} · ` +
        `${set.rois.length ? set.rois.join(", ") : "every ROI"}`),
      el("span", { class: "spacer" }),
      trainButton,
      el("a", { class: "button", href: `/api/classes/${encodeURIComponent(set.slug)}/export`, download: "" }, "Export"),
      el("button", { type: "button", class: "danger", onclick: () => remove(set) }, "Delete"),
    ),
    set.problem ? el("p", { class: "small problem" }, set.problem) : null,
    statesView(set),
    trainingView(set),
    ...byClass,
  );
}

async function load() {
  const data = await api("GET", "/api/classes");
  sets = data.class_sets;
  const cards = [];
  for (const set of sets) {
    const { examples } = await api("GET", `/api/classes/${encodeURIComponent(set.slug)}/examples`);
    cards.push(setCard(set, examples));
  }
  $("#sets").replaceChildren(...cards);
  $("#no-sets").hidden = sets.length > 0;
}

async function loadRois() {
  const cameras = await api("GET", "/api/cameras");
  $("#roi-choices").replaceChildren(
    ...cameras.flatMap((camera) =>
      camera.rois.map((roi) =>
        el("label", { class: "check" }, el("input", { type: "checkbox", name: "rois", value: `${camera.id}/${roi.slug}` }),
          ` ${camera.name} · ${roi.name}`),
      ),
    ),
  );
}

async function create(event) {
  event.preventDefault();
  const form = event.target;
  const status = $("#new-status");
  const body = {
    name: form.elements.name.value.trim(),
    classes: form.elements.classes.value.split(",").map((v) => v.trim()).filter(Boolean),
    mode: form.elements.mode.value,
    interval: Number(form.elements.interval.value) || 30,
    rois: [...form.querySelectorAll('input[name="rois"]:checked')].map((input) => input.value),
  };
  try {
    await api("POST", "/api/classes", body);
    status.textContent = `Created ${body.name}`;
    status.className = "small ok";
    form.reset();
    await load();
  } catch (error) {
    status.textContent = error.message;
    status.className = "small error";
  }
}

async function importFile() {
  const file = $("#import-file").files[0];
  const status = $("#import-status");
  if (!file) {
    status.textContent = "Choose a file first";
    status.className = "small error";
    return;
  }
  const response = await fetch("/api/classes/import", {
    method: "POST",
    headers: { "X-Requested-With": "clevercam", "Content-Type": "application/octet-stream" },
    credentials: "same-origin",
    body: file,
  });
  const data = await response.json();
  status.textContent = response.ok ? `Imported ${data.name}` : data.error;
  status.className = `small ${response.ok ? "ok" : "error"}`;
  if (response.ok) await load();
}

function onPush(message) {
  if (message.type !== "state") return;
  clearTimeout(onPush.timer);
  onPush.timer = setTimeout(() => load().catch((error) => toast(error.message, "error")), 500);
}

async function main() {
  setupHeader();
  $("#new-set").addEventListener("submit", create);
  $("#import").addEventListener("click", () => importFile().catch((error) => toast(error.message, "error")));
  await Promise.all([load(), loadRois()]).catch((error) => toast(error.message, "error"));
  connectPush(onPush);
}

main();
