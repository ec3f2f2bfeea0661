// Learned classes on the other pages: "add to class" (history) and "capture this ROI" (cameras).

import { $, api, el, toast } from "/static/common.js";

// One <option> per class of every set: value "slug/class".
export async function classOptions(select, placeholder) {
  let sets = [];
  try {
    sets = (await api("GET", "/api/classes")).class_sets;
  } catch (error) {
    toast(error.message, "error");
  }
  const groups = sets.map((set) =>
    el(
      "optgroup",
      { label: set.name },
      ...set.classes.map((name) =>
        el("option", { value: `${set.slug}/${name}` }, `${set.name}: ${name} (${set.counts[name] || 0})`),
      ),
    ),
  );
  select.replaceChildren(el("option", { value: "" }, sets.length ? placeholder : "no class set yet"), ...groups);
  return sets;
}

function target(select) {
  const value = select.value;
  const cut = value.indexOf("/");
  return cut < 0 ? null : { slug: value.slice(0, cut), name: value.slice(cut + 1) };
}

async function addExamples(slug, body) {
  const data = await api("POST", `/api/classes/${encodeURIComponent(slug)}/examples`, body);
  return data.counts;
}

function countsText(counts) {
  return Object.entries(counts).map(([name, n]) => `${name} ${n}`).join(", ");
}

// History: the selected events become examples of the chosen class (their stored embeddings).
export function setupAddToClass(selectedIds) {
  const select = $("#class-target");
  const button = $("#add-to-class");
  if (!select || !button) return;
  const refresh = () => classOptions(select, "Add to class…");
  select.addEventListener("focus", refresh, { once: true });
  refresh();
  button.addEventListener("click", async () => {
    const chosen = target(select);
    const ids = selectedIds();
    if (!chosen) {
      toast("Choose a class first", "error");
      return;
    }
    try {
      const counts = await addExamples(chosen.slug, { class: chosen.name, events: ids });
      toast(`Added ${ids.length} to ${chosen.name} (${countsText(counts)})`);
      refresh().then(() => { select.value = `${chosen.slug}/${chosen.name}`; });
    } catch (error) {
      toast(error.message, "error");
    }
  });
}

// Cameras: the ROI of a fresh frame becomes an example of the chosen class.
export function renderCapture(box, camera) {
  if (!box) return;
  const rois = el(
    "select",
    { name: "capture-roi", "aria-label": "ROI to capture" },
    ...camera.rois.map((roi) => el("option", { value: roi.slug }, roi.name)),
  );
  const classes = el("select", { name: "capture-class", "aria-label": "Class of the capture" });
  const button = el("button", { type: "button", disabled: !camera.rois.length }, "Capture");
  button.addEventListener("click", async () => {
    const chosen = target(classes);
    if (!chosen) {
      toast("Choose a class first", "error");
      return;
    }
    button.disabled = true;
    try {
      const counts = await addExamples(chosen.slug, {
        class: chosen.name,
        capture: { camera: camera.id, roi: rois.value },
      });
      toast(`Captured ${rois.selectedOptions[0].textContent} as ${chosen.name} (${countsText(counts)})`);
      await classOptions(classes, "as class…");
      classes.value = `${chosen.slug}/${chosen.name}`;
    } catch (error) {
      toast(error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
  classOptions(classes, "as class…");
  box.replaceChildren(
    el("span", { class: "small" }, "Capture this ROI now"),
    rois,
    classes,
    button,
    el("a", { href: "/classes", class: "small" }, "Classes"),
  );
}
