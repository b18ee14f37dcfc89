// The configuration editor: name, description, and the steps in order, each
// with its topic, an optional name, the steps it waits for (`after`; a new
// step waits for the one before it) and its retry policy. The server checks
// everything; its errors appear next to the fields they name.

import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { clearErrors, fieldError, showErrors } from "./form.js";
import { stages } from "./stages.js";

export function configurationEditor(main, config, topics) {
  const draft = {
    id: config?.id || "",
    name: config?.name || "",
    description: config?.description || "",
    steps: (config?.steps || []).map((step) => ({
      topic: step.topic,
      name: step.name === step.topic ? "" : step.name,
      after: [...(step.after || [])],
      attempts: step.retry?.attempts ?? 1,
      interval: (step.retry?.intervalMs ?? 0) / 1000,
      backoff: step.retry?.backoff ?? 1,
      payload: Object.keys(step.payload || {}).length ? JSON.stringify(step.payload) : "",
    })),
  };
  const topicNames = [...new Set([...topics.map((t) => t.name), ...draft.steps.map((s) => s.topic)])];
  const general = h("div", { class: "form-error", hidden: true });
  const stepsBox = h("div", { class: "step-list" });
  const shape = h("div");
  const save = h("button", { class: "primary", type: "submit" }, "Save");
  const form = h("form", { class: "editor", novalidate: true },
    h("div", { class: "page-head" },
      h("h1", {}, config ? `Edit ${config.name}` : "New configuration"),
      h("span", { class: "spacer" }),
      h("a", { class: "button", href: "#/configurations" }, "Cancel"), save),
    general,
    h("div", { class: "row" },
      field("Name", h("input", { name: "name", value: draft.name, required: true,
        oninput: (e) => { draft.name = e.target.value; } }), "name"),
      field("Description", h("input", { name: "description", value: draft.description,
        oninput: (e) => { draft.description = e.target.value; } }), "description", "wide")),
    h("h2", {}, "Steps"),
    fieldError("steps"),
    stepsBox,
    h("button", { type: "button", class: "add-step", onclick: () => addStep() }, "+ Add step"),
    h("h2", {}, "Shape"),
    shape);
  fill(main, form);
  render();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, general);
    const body = requestBody(draft);
    if (body.errors) {
      showErrors(form, general, { message: "Some fields are not valid", errors: body.errors });
      return;
    }
    save.disabled = true;
    try {
      await api.post("/api/configuration", body);
      location.hash = "#/configurations";
    } catch (error) {
      showErrors(form, general, error);
    } finally {
      save.disabled = false;
    }
  });

  function addStep() {
    const previous = draft.steps.at(-1);
    draft.steps.push({ topic: topicNames[0] || "", name: "", attempts: 1, interval: 0,
      backoff: 1, payload: "", after: previous ? [stepName(previous)] : [] });
    render();
    stepsBox.querySelector(".step-card:last-child select")?.focus();
  }

  function render() {
    fill(stepsBox, draft.steps.map((step, index) => stepCard(step, index)));
    renderShape();
  }

  function renderShape() {
    fill(shape, draft.steps.length ? stages(draft.steps.map((s) => ({ ...s, name: stepName(s) })))
      : h("p", { class: "muted" }, "Add steps to see how they run."));
  }

  // Renaming a step (or changing the topic it is named after) keeps the
  // steps that wait for it pointing at it.
  function renamed(before, step) {
    const after = stepName(step);
    if (before === after) return;
    for (const other of draft.steps) other.after = other.after.map((n) => (n === before ? after : n));
  }

  function stepCard(step, index) {
    const path = `steps[${index}]`;
    const move = (offset) => () => {
      const [moved] = draft.steps.splice(index, 1);
      draft.steps.splice(index + offset, 0, moved);
      render();
    };
    const remove = () => {
      const name = stepName(step);
      draft.steps.splice(index, 1);
      for (const other of draft.steps) other.after = other.after.filter((n) => n !== name);
      render();
    };
    const rename = (change) => (event) => {
      const before = stepName(step);
      change(event.target.value.trim());
      renamed(before, step);
      render();
    };
    const number = (key, attributes) => h("input", { type: "number", value: step[key], ...attributes,
      oninput: (e) => { step[key] = e.target.value; } });
    return h("div", { class: "step-card", "data-index": index },
      h("div", { class: "row" },
        h("span", { class: "step-number" }, index + 1),
        field("Topic", h("select", { onchange: rename((topic) => { step.topic = topic; }) },
          topicNames.map((t) => h("option", { value: t, selected: t === step.topic }, t))),
        `${path}.topic`),
        field("Name", h("input", { value: step.name, placeholder: step.topic || "the topic",
          onchange: rename((name) => { step.name = name; }) }), `${path}.name`),
        field("Waits for", afterPicker(step, index), `${path}.after`, "wide", "div"),
        h("div", { class: "step-actions" },
          h("button", { type: "button", class: "icon", title: "Move up", disabled: index === 0,
            onclick: move(-1) }, "↑"),
          h("button", { type: "button", class: "icon", title: "Move down",
            disabled: index === draft.steps.length - 1, onclick: move(1) }, "↓"),
          h("button", { type: "button", class: "icon danger", title: "Remove step",
            onclick: remove }, "✕"))),
      h("div", { class: "row retry" },
        h("span", { class: "step-number spacer-number" }),
        narrow("Attempts", number("attempts", { min: 1, max: 100, step: 1 }), `${path}.retry.attempts`),
        narrow("Retry after (s)", number("interval", { min: 0, step: "any" }), `${path}.retry.intervalMs`),
        narrow("Backoff ×", number("backoff", { min: 1, step: "any" }), `${path}.retry.backoff`),
        field("Payload (JSON object)", h("input", { value: step.payload, placeholder: "{}",
          oninput: (e) => { step.payload = e.target.value; } }), `${path}.payload`, "wide")),
      // The narrow fields' errors, at full width under their row.
      h("div", { class: "row-errors" }, ["attempts", "intervalMs", "backoff"].map((key) =>
        fieldError(`${path}.retry.${key}`))));
  }

  // The steps this one waits for, as chips; a menu of the steps above it
  // (and any below that it already names) changes them.
  function afterPicker(step, index) {
    const candidates = draft.steps.filter((other, i) => other !== step &&
      (i < index || step.after.includes(stepName(other)))).map(stepName);
    const summary = h("summary", { class: "picker-summary" });
    const showChosen = () => fill(summary, step.after.length
      ? step.after.map((name) => h("span", { class: "chip" }, name))
      : h("span", { class: "muted" }, index === 0 ? "nothing: the first step" : "nothing: starts with the run"));
    showChosen();
    const menu = h("div", { class: "picker-menu" }, candidates.length === 0
      ? h("span", { class: "muted" }, "No step above this one.")
      : candidates.map((name) => h("label", {},
        h("input", { type: "checkbox", value: name, checked: step.after.includes(name),
          onchange: (e) => {
            step.after = e.target.checked ? [...step.after, name] : step.after.filter((n) => n !== name);
            showChosen();
            renderShape();
          } }), name)));
    return h("details", { class: "picker" }, summary, menu);
  }
}

function stepName(step) {
  return step.name || step.topic;
}

// A labelled input with its error slot; a div around inputs that hold
// labels of their own (labels must not nest).
function field(label, input, path, extra = "", tag = "label") {
  return h(tag, { class: `field ${extra}` }, h("span", {}, label), input, fieldError(path));
}

// A labelled input whose error slot is elsewhere (fieldError(path)).
function narrow(label, input, path) {
  return h("label", { class: "field", "data-for": path }, h("span", {}, label), input);
}

// The request for the draft, or {errors} for what cannot even be sent.
function requestBody(draft) {
  const errors = [];
  const number = (value) => (value === "" || value === null ? undefined : Number(value));
  const steps = draft.steps.map((step, index) => {
    let payload = {};
    if (step.payload.trim()) {
      try {
        payload = JSON.parse(step.payload);
      } catch (error) {
        errors.push({ field: `steps[${index}].payload`, message: `not JSON: ${error.message}` });
      }
    }
    const interval = number(step.interval);
    return {
      topic: step.topic,
      name: step.name || undefined,
      after: step.after,
      retry: { attempts: number(step.attempts), backoff: number(step.backoff),
        intervalMs: interval === undefined ? undefined : Math.round(interval * 1000) },
      payload,
    };
  });
  if (errors.length) return { errors };
  return { id: draft.id || undefined, name: draft.name.trim(), description: draft.description, steps };
}
