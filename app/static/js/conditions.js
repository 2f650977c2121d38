// The flow language's conditions, evaluated in the browser with the rules of app/flowdef/conditions.py
// (the two must agree: tests/browser/test_live_forms.py runs a table of cases through both).
// A condition is data: {field, op, value} | {all: [...]} | {any: [...]} | {not: ...}; never eval'd.

const PY_FLOAT = /^[+-]?((\d+(_\d+)*)?\.?\d+(_\d+)*([eE][+-]?\d+(_\d+)*)?|\d+(_\d+)*\.([eE][+-]?\d+)?|inf|infinity|nan)$/i;

function isList(v) {
  return Array.isArray(v);
}

// Python's float(v) for numbers and numeric strings; null for anything else (booleans included).
export function number(v) {
  if (typeof v === "number") {
    return v;
  }
  if (typeof v === "string") {
    const text = v.trim();
    if (!PY_FLOAT.test(text)) {
      return null;
    }
    const lower = text.toLowerCase().replace(/_/g, "");
    if (lower.endsWith("inf") || lower.endsWith("infinity")) {
      return lower.startsWith("-") ? -Infinity : Infinity;
    }
    if (lower.endsWith("nan")) {
      return NaN;
    }
    return Number(lower);
  }
  return null;
}

// Python's str(v) for JSON values.
export function text(v) {
  if (v === null || v === undefined) {
    return "None";
  }
  if (v === true) {
    return "True";
  }
  if (v === false) {
    return "False";
  }
  if (isList(v)) {
    return "[" + v.map((x) => (typeof x === "string" ? `'${x}'` : text(x))).join(", ") + "]";
  }
  return String(v);
}

// Python's bool(v).
function pyBool(v) {
  if (isList(v)) {
    return v.length > 0;
  }
  if (v !== null && typeof v === "object") {
    return Object.keys(v).length > 0;
  }
  return Boolean(v);
}

function truthy(v) {
  if (typeof v === "string") {
    return ["1", "true", "yes", "on", "y"].includes(v.trim().toLowerCase());
  }
  return pyBool(v);
}

function asList(v) {
  if (v === null || v === undefined) {
    return [];
  }
  if (isList(v)) {
    return v;
  }
  if (typeof v === "string" && v.includes(",")) {
    return v.split(",").filter((p) => p);
  }
  return [v];
}

function equal(left, right) {
  if (isList(left) || isList(right)) {
    const a = asList(left).map(text);
    const b = asList(right).map(text);
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  const ln = number(left);
  const rn = number(right);
  if (ln !== null && rn !== null) {
    return ln === rn;
  }
  if (typeof left === "boolean" || typeof right === "boolean") {
    return truthy(left) === truthy(right);
  }
  if (left !== null && right !== null) {
    return text(left) === text(right);
  }
  return left === right;
}

function ordered(compare) {
  return (left, right) => {
    const ln = number(left);
    const rn = number(right);
    if (ln !== null && rn !== null) {
      return compare(ln, rn);
    }
    if (left === null || right === null) {
      return false;
    }
    return compare(text(left), text(right));
  };
}

function within(left, right) {
  const candidates = new Set(asList(right).map(text));
  const values = asList(left);
  return values.length > 0 && values.every((x) => candidates.has(text(x)));
}

function contains(left, right) {
  if (typeof left === "string" && !isList(right)) {
    return left.includes(text(right));
  }
  const have = new Set(asList(left).map(text));
  return asList(right).every((x) => have.has(text(x)));
}

const OPS = {
  "==": equal,
  "!=": (a, b) => !equal(a, b),
  ">": ordered((a, b) => a > b),
  ">=": ordered((a, b) => a >= b),
  "<": ordered((a, b) => a < b),
  "<=": ordered((a, b) => a <= b),
  "in": within,
  "notin": (a, b) => !within(a, b),
  "contains": contains,
};

// True when `cond` holds for `values` ({field key: value}); a missing field satisfies only != and notin.
export function evaluate(cond, values) {
  if (cond === null || cond === undefined) {
    return true;
  }
  if ("all" in cond) {
    return cond.all.every((c) => evaluate(c, values));
  }
  if ("any" in cond) {
    return cond.any.some((c) => evaluate(c, values));
  }
  if ("not" in cond) {
    return !evaluate(cond.not, values);
  }
  const op = cond.op || "==";
  if (!Object.prototype.hasOwnProperty.call(values, cond.field)) {
    return op === "!=" || op === "notin";
  }
  return OPS[op](values[cond.field], cond.value === undefined ? null : cond.value);
}
