// Live hide_when: each rendered ticket form carries its conditions as JSON (<script type="application/json"
// data-hide-rules>, written by app/forms/live.py); whenever an input changes, the form's values are read the way
// the server reads a post (app.forms.submitted_values) and every conditional field is shown or hidden.
import {evaluate} from "./conditions.js";

function submitted(form, fields) {
  const data = new FormData(form);
  const values = {};
  for (const [key, spec] of Object.entries(fields)) {
    const posted = data.getAll(spec.name).filter((v) => typeof v === "string");
    if (spec.multi) {
      values[key] = posted.filter((v) => v !== "");
    } else if (posted.length) {
      values[key] = posted[0];
    }
  }
  return values;
}

// A table's cells with a hide_when: each row reads its own cells (by column key) over the form's values,
// as app/forms/tables.py does; a hidden cell keeps its place in the row but shows nothing.
function applyCells(scope, table, values) {
  const element = scope.querySelector(`table[data-table-field="${CSS.escape(table.name)}"]`);
  if (!element) {
    return;
  }
  const prefix = `${table.name}-`;
  for (const row of element.querySelectorAll("tbody tr")) {
    const rowValues = {};
    for (const input of row.querySelectorAll("[name]")) {
      const rest = input.name.startsWith(prefix) ? input.name.slice(prefix.length) : "";
      const match = /^\d+-(.+)$/.exec(rest);
      if (match) {
        rowValues[match[1]] = input.value.trim();
      }
    }
    for (const [column, cond] of Object.entries(table.columns)) {
      const cell = row.querySelector(`td[data-cell="${CSS.escape(column)}"]`);
      if (cell) {
        const hidden = evaluate(cond, {...values, ...rowValues});
        cell.classList.toggle("cell-hidden", hidden);
        cell.toggleAttribute("data-hidden", hidden);
      }
    }
  }
}

function bind(script) {
  const form = script.closest("form");
  if (!form) {
    return;
  }
  const rules = JSON.parse(script.textContent);
  const scope = script.previousElementSibling || form;
  const apply = () => {
    const values = {...rules.values, ...submitted(form, rules.fields)};
    for (const [key, cond] of Object.entries(rules.conditions)) {
      const box = scope.querySelector(`[data-field="${CSS.escape(key)}"]`);
      if (!box) {
        continue;
      }
      const hidden = evaluate(cond, values);
      box.classList.toggle("d-none", hidden);
      box.toggleAttribute("data-hidden", hidden);
    }
    for (const table of Object.values(rules.cells || {})) {
      applyCells(scope, table, values);
    }
  };
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  apply();
}

document.querySelectorAll("script[type='application/json'][data-hide-rules]").forEach(bind);
