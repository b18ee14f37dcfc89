// Configurations: the list (run or edit each), and the editor of one.

import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { configurationEditor } from "./editor.js";
import { stages } from "./stages.js";
import { startRunDialog } from "./start-run.js";

export function configurationsView(id) {
  return {
    async start(main) {
      const [configurations, topics] = await Promise.all([
        api.get("/api/configuration/all"), api.get("/api/registeredtopics")]);
      if (id === null) {
        list(main, configurations);
        return;
      }
      const config = id === "new" ? null
        : configurations.find((c) => c.id === id || c.name === id) ||
          await api.get(`/api/configuration/${encodeURIComponent(id)}`);
      configurationEditor(main, config, topics);
    },
  };
}

function list(main, configurations) {
  const run = async (config) => {
    const started = await startRunDialog(configurations, config.name);
    if (started) location.hash = `#/runs/${started.id}`;
  };
  fill(main,
    h("div", { class: "page-head" }, h("h1", {}, "Configurations"), h("span", { class: "spacer" }),
      h("a", { class: "button primary", href: "#/configurations/new" }, "New configuration")),
    configurations.length === 0
      ? h("p", { class: "empty" }, "No configurations yet: create one with New configuration.")
      : h("div", { class: "cards" }, configurations.map((config) =>
        h("section", { class: "card", "data-configuration": config.name },
          h("div", { class: "card-head" },
            h("h2", {}, h("a", { href: `#/configurations/${config.id}` }, config.name)),
            h("span", { class: "muted" }, `${config.steps.length} steps`),
            h("span", { class: "spacer" }),
            h("a", { class: "button", href: `#/runs?configuration=${encodeURIComponent(config.name)}` },
              "Runs"),
            h("a", { class: "button", href: `#/configurations/${config.id}` }, "Edit"),
            h("button", { class: "primary", onclick: () => run(config) }, "Run")),
          config.description && h("p", { class: "muted" }, config.description),
          stages(config.steps)))));
}
