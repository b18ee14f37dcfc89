// The page: a hash router over the views, the live event stream they
// follow, and the header (where the data lives, whether updates are live).

import { api } from "./api.js";
import { fill, h } from "./dom.js";
import { configurationsView } from "./views/configurations.js";
import { runView } from "./views/run.js";
import { runsView } from "./views/runs.js";
import { topicsView } from "./views/topics.js";

const main = document.getElementById("main");

// One EventSource for the page. It reconnects by itself, sending the last
// event id, and the server replays what was missed.
class Live {
  constructor(indicator) {
    this.indicator = indicator;
    this.listeners = new Set();
    this.source = new EventSource("/api/events");
    this.source.onopen = () => this.show(true);
    this.source.onerror = () => this.show(false);
    this.source.onmessage = (message) => {
      const event = JSON.parse(message.data);
      for (const listener of this.listeners) listener(event);
    };
  }

  show(connected) {
    this.indicator.textContent = connected ? "live" : "reconnecting…";
    this.indicator.classList.toggle("on", connected);
    // A reconnection may follow missed events: let the views re-read.
    if (connected) for (const listener of this.listeners) listener(null);
  }

  // Calls listener(event) for each event (null after a reconnection);
  // returns the function that stops it.
  follow(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const routes = [
  [/^#\/runs\/([^/?]+)$/, (match) => runView(decodeURIComponent(match[1]))],
  [/^#\/configurations(?:\/(new|[^/?]+))?$/, (match) =>
    configurationsView(match[1] ? decodeURIComponent(match[1]) : null)],
  [/^#\/topics$/, () => topicsView()],
  [/^#\/runs(?:\?(.*))?$/, (match) => runsView(new URLSearchParams(match[1] || ""))],
];

let current = null;

async function route(context) {
  current?.stop?.();
  const hash = location.hash || "#/runs";
  for (const [pattern, view] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    for (const link of document.querySelectorAll("nav a")) {
      link.classList.toggle("active", hash.startsWith(`#/${link.dataset.view}`));
    }
    current = view(match);
    try {
      await current.start(main, context);
    } catch (error) {
      fill(main, h("div", { class: "callout failed" }, `Could not load this page: ${error.message}`));
    }
    return;
  }
  location.hash = "#/runs";
}

async function start() {
  const info = await api.get("/api/info");
  document.getElementById("where").textContent = `${info.store} · ${info.transport}`;
  document.getElementById("where").title = `isoqube ${info.version}`;
  if (!info.executes) {
    const notice = document.getElementById("notice");
    notice.textContent = "No consumers run in this controlcenter and the transport is " +
      "memory://: runs started here will not progress. Start it with --demo or " +
      "--import/--module, or point it at a shared transport.";
    notice.hidden = false;
  }
  const context = { live: new Live(document.getElementById("live")), info };
  window.addEventListener("hashchange", () => route(context));
  await route(context);
}

start().catch((error) => fill(main, h("div", { class: "callout failed" },
  `The controlcenter does not answer: ${error.message}`)));
