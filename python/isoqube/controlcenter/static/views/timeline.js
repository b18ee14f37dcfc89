// A run's steps on one time axis, from the run's start: a bar per step from
// when its consumer was invoked to when it ended (or now, while it runs).

import { duration, h, parseTime, RUNNING, stepEnd } from "../dom.js";

const TICKS = 5;

export function timeline(run) {
  const start = parseTime(run.createdOn);
  const now = new Date();
  const ends = run.steps.map((step) => barEnd(step, now)).filter(Boolean);
  const last = RUNNING.has(run.status) ? now : parseTime(run.modifiedOn);
  const span = Math.max(1, Math.max(last || start, ...ends) - start);
  const at = (time) => `${(100 * (time - start)) / span}%`;
  return h("div", { class: "timeline" },
    run.steps.map((step) => {
      const from = parseTime(step.invokedOn);
      const to = barEnd(step, now);
      const bar = from && to
        ? h("div", {
          class: `bar ${step.status}`,
          style: { left: at(from), width: `max(3px, ${(100 * (to - from)) / span}%)` },
          title: `${step.name}: ${step.status}, ${duration(to - from)}`,
        })
        : h("div", { class: "waiting", style: { left: 0 } },
          step.status === "cancelled" ? "cancelled" : step.status);
      return h("div", { class: "lane", "data-step": step.name },
        h("div", { class: "lane-name", title: step.name }, step.name),
        h("div", { class: "track" }, bar),
        h("div", { class: "lane-time num" }, from && to ? duration(to - from) : ""));
    }),
    h("div", { class: "lane axis" }, h("div", { class: "lane-name" }),
      h("div", { class: "track" }, Array.from({ length: TICKS + 1 }, (_, i) =>
        h("span", { class: "tick", style: { left: `${(100 * i) / TICKS}%` } },
          duration((span * i) / TICKS)))),
      h("div", { class: "lane-time" })));
}

// When the step stopped, or now while it runs; null before it started.
function barEnd(step, now) {
  if (!step.invokedOn) return null;
  const end = stepEnd(step);
  if (end) return parseTime(end);
  return ["running", "retrying"].includes(step.status) ? now : null;
}
