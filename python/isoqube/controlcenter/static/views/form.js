// Showing the API's refusals in a form: each error next to the field it
// names (an element made by fieldError(field)), the others above the form.

import { h } from "../dom.js";

export function fieldError(field) {
  return h("small", { class: "field-error", "data-field": field, hidden: true });
}

// `error` is an ApiError, or anything with `errors` [{field, message}] or
// a `message`.
export function showErrors(form, general, error) {
  clearErrors(form, general);
  const errors = error.errors?.length ? error.errors : [{ field: null, message: error.message }];
  const unplaced = [];
  for (const { field, message } of errors) {
    const slot = field && form.querySelector(`.field-error[data-field="${CSS.escape(field)}"]`);
    if (!slot) {
      unplaced.push(message);
      continue;
    }
    slot.textContent = message;
    slot.hidden = false;
    // The field is around its error slot, or names it (for slots gathered
    // below a row of narrow fields).
    const owner = form.querySelector(`.field[data-for="${CSS.escape(field)}"]`) || slot.closest(".field");
    owner?.classList.add("invalid");
  }
  // The summary names what is wrong even when each field shows its part.
  general.textContent = unplaced.length ? unplaced.join("; ") : error.message;
  general.hidden = false;
  form.querySelector(".invalid input, .invalid select, .invalid textarea")?.focus();
}

export function clearErrors(form, general) {
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const field of form.querySelectorAll(".field.invalid")) field.classList.remove("invalid");
  general.hidden = true;
}
