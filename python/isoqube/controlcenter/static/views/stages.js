// The shape of a configuration: its steps in stages, each stage holding the
// steps whose longest chain of `after` dependencies has the same length, so
// parallel branches stand side by side.

import { h } from "../dom.js";

export function stages(steps) {
  const byName = new Map(steps.map((step) => [step.name || step.topic, step]));
  const depth = new Map();
  const visiting = new Set();
  const level = (name) => {
    if (depth.has(name)) return depth.get(name);
    if (visiting.has(name)) throw new Error("cycle");
    visiting.add(name);
    const step = byName.get(name);
    const after = (step?.after || []).filter((n) => byName.has(n));
    const value = after.length ? 1 + Math.max(...after.map(level)) : 0;
    visiting.delete(name);
    depth.set(name, value);
    return value;
  };
  const columns = [];
  try {
    for (const name of byName.keys()) (columns[level(name)] ||= []).push(name);
  } catch {
    return h("p", { class: "form-error" }, "The steps wait for each other in a cycle.");
  }
  return h("div", { class: "stages" }, columns.map((names, i) => [
    i > 0 && h("span", { class: "arrow" }, "→"),
    h("div", { class: "stage" }, names.map((name) => h("span", { class: "chip" }, name))),
  ]));
}
