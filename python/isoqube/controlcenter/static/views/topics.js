// The registered topics: this controlcenter's and those workers saved in
// the store, with the consumers known here.

import { api } from "../api.js";
import { fill, h } from "../dom.js";

export function topicsView() {
  return {
    async start(main) {
      const topics = await api.get("/api/registeredtopics");
      fill(main,
        h("div", { class: "page-head" }, h("h1", {}, "Topics"),
          h("span", { class: "muted" }, `${topics.length} registered`)),
        topics.length === 0
          ? h("p", { class: "empty" }, "No topics yet: start a worker, or this controlcenter " +
            "with --import/--module or --demo.")
          : h("table", { class: "topics" },
            h("thead", {}, h("tr", {}, ["Topic", "Description", "Entity", "Consumers (service)"]
              .map((c) => h("th", {}, c)))),
            h("tbody", {}, topics.map((topic) => h("tr", {},
              h("td", {}, h("strong", {}, topic.name)),
              h("td", {}, topic.description || h("span", { class: "muted" }, "—")),
              h("td", { class: "mono muted" }, topic.entityName),
              h("td", {}, topic.consumers.length
                ? topic.consumers.map((c) => h("span", { class: "chip", title: c.name },
                  c.name, h("span", { class: "muted" }, ` ${c.service}`)))
                : h("span", { class: "muted", title: "Consumers in other processes are not " +
                  "known here" }, "elsewhere")))))));
    },
  };
}
