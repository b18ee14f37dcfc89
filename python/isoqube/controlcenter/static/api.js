// The HTTP API as the page uses it: JSON in, JSON out, refusals as ApiError
// with the per-field errors the server listed.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.errors = body?.errors || [];
  }

  // The message for one field ("steps[1].after"), or undefined.
  forField(field) {
    return this.errors.find((e) => e.field === field)?.message;
  }
}

async function request(method, path, body) {
  const options = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text || response.statusText };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return { data, response };
}

export const api = {
  get: async (path) => (await request("GET", path)).data,
  post: async (path, body = {}) => (await request("POST", path, body)).data,
  // A page of runs and whether there are more after it.
  async runs(params) {
    const query = new URLSearchParams({ view: "summary", ...params });
    const { data, response } = await request("GET", `/api/configuration/run/all?${query}`);
    return { runs: data, more: /rel="next"/.test(response.headers.get("Link") || "") };
  },
};
