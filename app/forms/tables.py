"""The TABLE / CUSTOMTABLE field: rows of cells posted as `key-<row>-<column>`.

The same naming serves the HTML table and the JSON path (rows flattened into a
MultiDict), so one parser converts and checks every cell.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable, Sequence

from wtforms.fields import Field
from wtforms.utils import unset_value

from app.flowdef.conditions import compile_condition
from app.flowdef.model import Column

from .context import choice_names, msg_bad_choice, msg_bad_date, msg_bad_datetime, msg_bad_int, \
    msg_required, walk_choices
from .fields import STORAGE_DATETIME, parse_datetime

MAX_ROWS = 500
EMPTY_ROWS_SHOWN = 3


def cell_text(value: Any) -> str:
    """A stored cell value as the text an input would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def convert_cell(column: Column, text: str) -> tuple[Any, Callable[[str], str] | None]:
    """(stored value, message maker or None) for one non-empty cell of `column`."""
    if column.display == "int":
        try:
            return int(text), None
        except ValueError:
            return None, msg_bad_int
    if column.display == "date":
        try:
            return datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d"), None
        except ValueError:
            return None, msg_bad_date
    if column.display == "datetime":
        parsed = parse_datetime(text)
        if parsed is None:
            return None, msg_bad_datetime
        return parsed.strftime(STORAGE_DATETIME), None
    if column.display == "select" and text not in choice_names(column.choices):
        return None, msg_bad_choice
    return text, None


class TableField(Field):
    """A list of row dicts; cell errors name the row (1-based) and the column."""

    def __init__(self, label=None, validators=None, columns: Sequence[Column] = (),
                 display_label="", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.columns = tuple(columns)
        self.display_label = display_label
        self.rows_text: list[dict[str, str]] = []
        self.from_formdata = False
        self.hidden_cells: frozenset[tuple[int, str]] = frozenset()   # (row index, column key) hidden by hide_when
        self._hide = {c.key: compile_condition(c.hide_when) for c in self.columns if c.hide_when is not None}

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        if data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.object_data = data
        self.from_formdata = formdata is not None
        self._formdata = formdata
        if formdata is not None:
            self.rows_text = self._rows_from_formdata(formdata)
            if any(str(v).strip() for v in formdata.getlist(self.name)):
                self.process_errors.append(f"【{self.display_label}】格式不正确，应为行的列表")
        else:
            rows = data if isinstance(data, list) else []
            self.rows_text = [{c.key: cell_text(r.get(c.key)) for c in self.columns}
                              for r in rows if isinstance(r, dict)]
        self.raw_data = [v for row in self.rows_text for v in row.values() if v]
        self._cell_errors: list[str] = []
        self.data = self._convert_rows()
        if not self._hide:
            self.process_errors.extend(self._cell_errors)

    def pre_validate(self, form):
        """Cells with a `hide_when` are judged once the whole form is known: a hidden cell is neither required
        nor kept, a shown one is checked like any other (the browser hides the same cells, static/js/hide-when.js)."""
        if not self._hide:
            return
        from .live import form_condition_values

        self.apply_cell_conditions(form_condition_values(form, self._formdata))
        self.errors.extend(self._cell_errors)

    def apply_cell_conditions(self, values) -> None:
        """Decide which cells are hidden for the form's `values` ({field key: value}) and convert the rows again."""
        hidden = set()
        for index, row in enumerate(self.rows_text):
            merged = {**values, **row}
            hidden.update((index, key) for key, holds in self._hide.items() if holds(merged))
        self.hidden_cells = frozenset(hidden)
        self._cell_errors = []
        self.data = self._convert_rows()

    def _rows_from_formdata(self, formdata) -> list[dict[str, str]]:
        pattern = re.compile(rf"^{re.escape(self.name)}-(\d+)-(.+)$")
        known = {c.key for c in self.columns}
        rows: dict[int, dict[str, str]] = {}
        for name in formdata.keys():
            match = pattern.match(name)
            if match and match.group(2) in known:
                index = int(match.group(1))
                rows.setdefault(index, {})[match.group(2)] = str(formdata.get(name) or "").strip()
        if len(rows) > MAX_ROWS:
            self.process_errors.append(f"【{self.display_label}】最多 {MAX_ROWS} 行")
            return []
        return [{c.key: rows[i].get(c.key, "") for c in self.columns} for i in sorted(rows)]

    def _convert_rows(self) -> list[dict[str, Any]]:
        converted = []
        for number, row in enumerate(self.rows_text, start=1):
            if not any(row.values()):
                continue
            stored = {}
            for column in self.columns:
                if (number - 1, column.key) in self.hidden_cells:
                    stored[column.key] = None
                    continue
                stored[column.key] = self._convert(number, column, row.get(column.key, ""))
            converted.append(stored)
        return converted

    def _convert(self, number: int, column: Column, text: str) -> Any:
        where = f"【{self.display_label}】第 {number} 行"
        if not text:
            if column.required:
                self._cell_errors.append(where + msg_required(column.name))
            return None
        value, message = convert_cell(column, text)
        if message is not None:
            self._cell_errors.append(where + message(column.name))
        return value

    def column_options(self, column: Column) -> list[tuple[str, str]]:
        """(key, label) options of a select column, indented by depth for trees."""
        return [(c.key, "\u3000" * depth + c.name) for c, depth, _p in walk_choices(column.choices)]

    def rows_for_render(self) -> list[dict[str, str]]:
        """Rows as text for the HTML table, ending with at least three empty rows."""
        rows = list(self.rows_text)
        trailing = 0
        for row in reversed(rows):
            if any(row.values()):
                break
            trailing += 1
        rows += [{c.key: "" for c in self.columns}] * max(0, EMPTY_ROWS_SHOWN - trailing)
        return rows
