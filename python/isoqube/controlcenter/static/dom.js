// Building elements and formatting values. Everything shown is put in as
// text nodes or attributes, never parsed as HTML, so run data (errors,
// outputs, descriptions) cannot inject markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "style" && typeof value === "object") Object.assign(element.style, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces an element's children.
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function badge(status) {
  return h("span", { class: `badge ${status}`, "data-status": status }, status);
}

export function parseTime(text) {
  return text ? new Date(text) : null;
}

// "14:03:27.412", local time.
export function clock(text) {
  const time = parseTime(text);
  if (!time) return "–";
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}` +
    `.${pad(time.getMilliseconds(), 3)}`;
}

export function dateTime(text) {
  const time = parseTime(text);
  return time ? time.toLocaleString() : "–";
}

// "412 ms", "3.20 s", "2 min 03 s", "1 h 04 min".
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(2)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

export function between(start, end) {
  const from = parseTime(start);
  const to = parseTime(end);
  return from && to ? to - from : null;
}

// "5 s ago", "3 min ago", or the date for older times.
export function ago(text) {
  const time = parseTime(text);
  if (!time) return "–";
  const seconds = (Date.now() - time) / 1000;
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return time.toLocaleDateString();
}

export function shortId(id) {
  return id.slice(0, 8);
}

// When a step stopped: completed, failed or cancelled.
export function stepEnd(step) {
  return step.completedOn || step.failedOn || step.cancelledOn || null;
}

export const RUNNING = new Set(["pending", "running"]);

// Returns nudge(): each nudge makes `load` run once more, at most one run at
// a time and one start every `ms` milliseconds. Live events nudge the views,
// which re-read what they show: many events make few requests.
export function throttle(load, ms = 250) {
  let waiting = false;
  let again = false;
  let last = 0;
  const run = async () => {
    const wait = Math.max(0, last + ms - Date.now());
    if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
    again = false;
    last = Date.now();
    try {
      await load();
    } catch (error) {
      console.warn("refresh failed", error);
    }
    if (again) await run();
  };
  return () => {
    if (waiting) {
      again = true;
      return;
    }
    waiting = true;
    run().finally(() => { waiting = false; });
  };
}
