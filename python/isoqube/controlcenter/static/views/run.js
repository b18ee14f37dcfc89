// One run: its status and actions (re-run, resume, cancel), the error that
// failed it, a timeline of its steps and their details, all re-read as its
// events come.

import { api } from "../api.js";
import {
  badge, between, clock, dateTime, duration, fill, h, RUNNING, stepEnd, throttle,
} from "../dom.js";
import { timeline } from "./timeline.js";

export function runView(id) {
  let stopLive = null;
  let ticker = null;
  const opened = new Set(); // steps whose output is unfolded, kept across re-reads

  return {
    async start(main, { live }) {
      const page = h("div", { class: "run-page", "data-run": id });
      const message = h("div", { class: "callout", hidden: true });
      fill(main, page);
      let run = null;
      const load = async () => {
        run = await api.get(`/api/configuration/run/${encodeURIComponent(id)}`);
        render(page, run, message, act, opened);
      };
      const act = async (label, request) => {
        message.hidden = true;
        try {
          const result = await request();
          if (result?.id && result.id !== id) location.hash = `#/runs/${result.id}`;
          else await load();
        } catch (error) {
          message.className = "callout failed";
          message.textContent = `${label} failed: ${error.message}`;
          message.hidden = false;
        }
      };
      const nudge = throttle(load, 200);
      stopLive = live.follow((event) => { if (!event || event.runId === id) nudge(); });
      // Running steps' bars and durations grow between events too.
      ticker = setInterval(() => { if (run && RUNNING.has(run.status)) nudge(); }, 1000);
      await load();
    },
    stop() {
      stopLive?.();
      clearInterval(ticker);
    },
  };
}

function render(page, run, message, act, opened) {
  const finished = !RUNNING.has(run.status);
  const took = between(run.createdOn, finished ? run.modifiedOn : new Date().toISOString());
  const post = (path) => () => api.post(`/api/configuration/run/${run.id}${path}`);
  fill(page,
    h("div", { class: "crumbs" }, h("a", { href: "#/runs" }, "Runs"), " / ",
      h("span", { class: "mono" }, run.id)),
    h("div", { class: "page-head" },
      h("h1", {}, run.configurationName || "run"),
      badge(run.status),
      h("span", { class: "spacer" }),
      h("button", {
        onclick: () => act("Re-run", () => api.post("/api/configuration/run", { id: run.id })),
        title: "A new run of the same configuration, payload and ingestion id",
      }, "Re-run"),
      ["failed", "cancelled"].includes(run.status) &&
        h("button", { onclick: () => act("Resume", post("/resume")),
          title: "Continue from the unfinished steps" }, "Resume"),
      RUNNING.has(run.status) && h("button", {
        class: "danger",
        onclick: () => confirm("Cancel this run?") && act("Cancel", post("/cancel")),
      }, "Cancel")),
    message,
    run.description && h("p", { class: "lead" }, run.description),
    h("dl", { class: "facts" },
      fact("Run", h("span", { class: "mono" }, run.id)),
      fact("Ingestion id", h("span", { class: "mono" }, run.ingestionId || "–")),
      fact("Started", dateTime(run.createdOn)),
      fact(finished ? "Took" : "Running for", duration(took)),
      fact("Steps", `${run.steps.filter((s) => s.status === "completed").length} of ` +
        `${run.steps.length} completed`),
      Object.keys(run.payload || {}).length > 0 &&
        fact("Payload", h("code", {}, JSON.stringify(run.payload)))),
    run.error && h("div", { class: "callout failed run-error" }, h("strong", {}, "Error: "), run.error),
    h("h2", {}, "Timeline"),
    timeline(run),
    h("h2", {}, "Steps"),
    stepsTable(run, opened));
}

function fact(name, value) {
  return [h("dt", {}, name), h("dd", {}, value)];
}

function stepsTable(run, opened) {
  return h("table", { class: "steps" },
    h("thead", {}, h("tr", {}, ["Step", "Waits for", "Status", "Attempts", "Invoked", "Ended",
      "Duration", ""].map((c) => h("th", {}, c)))),
    h("tbody", {}, run.steps.map((step) => stepRows(step, opened))));
}

// A step's row, and below it its error and (when unfolded) its output.
function stepRows(step, opened) {
  const end = stepEnd(step);
  const running = ["running", "retrying"].includes(step.status);
  const took = between(step.invokedOn, end || (running ? new Date().toISOString() : null));
  const hasOutput = step.output !== null && step.output !== undefined;
  const detail = h("tr", { class: "step-detail" }, h("td", { colspan: 8 },
    step.error && h("div", { class: "step-error" }, step.error),
    hasOutput && opened.has(step.name) && h("pre", {}, JSON.stringify(step.output, null, 2))));
  const toggle = hasOutput && h("button", {
    class: "link", "aria-expanded": String(opened.has(step.name)),
    onclick: (event) => {
      const open = !opened.has(step.name);
      if (open) opened.add(step.name);
      else opened.delete(step.name);
      event.target.setAttribute("aria-expanded", String(open));
      fill(detail.firstChild, step.error && h("div", { class: "step-error" }, step.error),
        open && h("pre", {}, JSON.stringify(step.output, null, 2)));
      detail.hidden = !open && !step.error;
    },
  }, "output");
  detail.hidden = !step.error && !(hasOutput && opened.has(step.name));
  return [
    h("tr", { class: "step", "data-step": step.name, "data-status": step.status },
      h("td", {}, step.name, step.topic !== step.name && h("div", { class: "muted small" }, step.topic)),
      h("td", { class: "muted after" }, (step.after || []).join(", ") || "—"),
      h("td", {}, badge(step.status)),
      h("td", { class: "num" }, `${step.attempts}/${step.retry?.attempts ?? 1}`),
      h("td", { class: "num" }, clock(step.invokedOn)),
      h("td", { class: "num" }, clock(end)),
      h("td", { class: "num" }, duration(took)),
      h("td", { class: "num" }, toggle)),
    detail,
  ];
}
