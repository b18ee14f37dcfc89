// The "new run" dialog: a configuration, a description, and optionally an
// ingestion id and a payload. Resolves to the started run, or null.

import { api } from "../api.js";
import { h } from "../dom.js";
import { fieldError, showErrors } from "./form.js";

export function startRunDialog(configurations, chosen = "") {
  return new Promise((resolve) => {
    const select = h("select", { name: "configuration", required: true },
      configurations.map((c) => h("option", { value: c.name, selected: c.name === chosen }, c.name)));
    const description = h("input", { name: "description", placeholder: "what this run is for" });
    const ingestion = h("input", { name: "ingestionId", placeholder: "default: a new id" });
    const payload = h("textarea", { name: "payload", rows: 3, placeholder: '{"work_ms": 500}' });
    const general = h("div", { class: "form-error", hidden: true });
    const submit = h("button", { class: "primary", type: "submit" }, "Start run");
    const form = h("form", { method: "dialog", class: "dialog-form" },
      h("h2", {}, "New run"),
      general,
      label("Configuration", select, "configuration"),
      label("Description", description, "description"),
      label("Ingestion id", ingestion, "ingestionId"),
      label("Payload (JSON object)", payload, "payload"),
      h("div", { class: "buttons" },
        h("button", { type: "button", onclick: () => close(null) }, "Cancel"), submit));
    const dialog = h("dialog", { class: "dialog" }, form);
    const close = (run) => {
      dialog.close();
      dialog.remove();
      resolve(run);
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { configuration: select.value, description: description.value };
      if (ingestion.value.trim()) body.ingestionId = ingestion.value.trim();
      try {
        if (payload.value.trim()) body.payload = JSON.parse(payload.value);
      } catch (error) {
        showErrors(form, general, { errors: [{ field: "payload", message: `not JSON: ${error.message}` }] });
        return;
      }
      submit.disabled = true;
      try {
        close(await api.post("/api/configuration/run", body));
      } catch (error) {
        showErrors(form, general, error);
        submit.disabled = false;
      }
    });
    dialog.addEventListener("cancel", () => close(null));
    document.body.append(dialog);
    dialog.showModal();
    (chosen ? description : select).focus();
  });
}

function label(text, input, field) {
  return h("label", { class: "field" }, h("span", {}, text), input, fieldError(field));
}
