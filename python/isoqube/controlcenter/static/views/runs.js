// The runs list: newest first, a page at a time, filtered by status and
// configuration (kept in the address, so a filtered page can be
// bookmarked), re-read as live events come.

import { api } from "../api.js";
import { ago, badge, between, dateTime, duration, fill, h, shortId, throttle } from "../dom.js";
import { startRunDialog } from "./start-run.js";

const PAGE = 50;
const STATUSES = ["pending", "running", "completed", "failed", "cancelled"];

export function runsView(params) {
  const filters = {
    status: params.get("status") || "",
    configuration: params.get("configuration") || "",
    offset: Math.max(0, Number.parseInt(params.get("offset") || "0", 10) || 0),
  };
  let stopLive = null;
  let clock = null;

  return {
    async start(main, { live }) {
      const configurations = await api.get("/api/configuration/all");
      const body = h("tbody");
      const pager = h("div", { class: "pager" });
      fill(main,
        h("div", { class: "page-head" },
          h("h1", {}, "Runs"),
          filterSelect("status", "All statuses", STATUSES, filters),
          filterSelect("configuration", "All configurations",
            configurations.map((c) => c.name), filters),
          h("span", { class: "spacer" }),
          h("button", {
            class: "primary", disabled: configurations.length === 0,
            title: configurations.length ? null : "Save a configuration first",
            onclick: async () => {
              const run = await startRunDialog(configurations, filters.configuration);
              if (run) location.hash = `#/runs/${run.id}`;
            },
          }, "New run")),
        h("table", { class: "runs" },
          h("thead", {}, h("tr", {}, ["Status", "Run", "Configuration", "Description", "Steps",
            "", "Started", "Duration"].map((c) => h("th", {}, c)))),
          body),
        pager);
      const load = async () => {
        const { runs, more } = await api.runs({ limit: PAGE, ...filters });
        fill(body, runs.length ? runs.map(runRow) : h("tr", {}, h("td", { colspan: 8, class: "empty" },
          filters.status || filters.configuration ? "No runs match these filters." :
            "No runs yet: start one with New run.")));
        renderPager(pager, runs.length, more);
      };
      const nudge = throttle(load, 300);
      stopLive = live.follow(nudge);
      clock = setInterval(nudge, 10000); // "started 3 min ago" moves on
      await load();
    },
    stop() {
      stopLive?.();
      clearInterval(clock);
    },
  };

  function renderPager(pager, shown, more) {
    const go = (offset) => () => { location.hash = runsHash({ ...filters, offset }); };
    const first = shown ? filters.offset + 1 : 0;
    fill(pager,
      h("button", { disabled: filters.offset === 0, onclick: go(Math.max(0, filters.offset - PAGE)) },
        "← Newer"),
      h("span", { class: "muted" }, shown ? `runs ${first}–${filters.offset + shown}` : ""),
      h("button", { disabled: !more, onclick: go(filters.offset + PAGE) }, "Older →"));
  }

  function filterSelect(name, all, values, current) {
    return h("select", {
      class: "filter", "aria-label": all, name,
      onchange: (event) => {
        location.hash = runsHash({ ...current, [name]: event.target.value, offset: 0 });
      },
    }, h("option", { value: "" }, all),
    values.map((value) => h("option", { value, selected: value === current[name] }, value)));
  }
}

function runsHash(filters) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `#/runs?${text}` : "#/runs";
}

function runRow(run) {
  const done = run.steps.filter((s) => s.status === "completed").length;
  const finished = !["pending", "running"].includes(run.status);
  const took = between(run.createdOn, finished ? run.modifiedOn : new Date().toISOString());
  const link = `#/runs/${run.id}`;
  return h("tr", { "data-run": run.id, "data-status": run.status },
    h("td", {}, badge(run.status)),
    h("td", {}, h("a", { href: link, class: "mono", title: run.id }, shortId(run.id))),
    h("td", {}, run.configurationName),
    h("td", { class: "description" }, run.description || h("span", { class: "muted" }, "—")),
    h("td", {}, progress(run.steps)),
    h("td", { class: "num muted" }, `${done}/${run.steps.length}`),
    h("td", { title: dateTime(run.createdOn) }, ago(run.createdOn)),
    h("td", { class: "num" }, duration(took)));
}

// One segment per step, coloured by its status.
export function progress(steps) {
  return h("div", { class: "progress" }, steps.map((step) =>
    h("span", { class: `segment ${step.status}`, title: `${step.name}: ${step.status}` })));
}
