"""The front office's input boundary: text no database or page can hold, and numbers no id can be.

Runs before every request outside the API (front office and back office alike): a NUL byte
(refused by PostgreSQL) or a lone surrogate in a query or form value, or an id/page parameter
beyond a 32-bit integer, answers 400 with a page that says what was wrong; nothing is stored.
URL ids (`<int:...>`) beyond that range do not match any route (404).
"""
from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from app.limits import INT_MAX, text_problem

# query and form parameters read as ids or page numbers (request.args.get(..., type=int))
INT_PARAMS = frozenset({"page", "catalog", "catalog_id", "category", "from_ticket", "id", "parent", "related",
                        "service", "service_id", "ticket", "page_size"})


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` limited to what the id columns hold (a larger number is no page: 404, not a database error)."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _refuse_unusable_input():
    if request.path.startswith("/api/"):
        return None                     # the API answers with its envelope (3900005)
    for source in (request.args, request.form):
        for key, values in source.lists():
            for text in (key, *values):
                problem = text_problem(text)
                if problem:
                    abort(400, f"输入中{problem}（参数 {key!r}）")
            if key in INT_PARAMS:
                for value in values:
                    digits = value.strip().lstrip("+-")
                    if digits.isdigit() and int(digits) > INT_MAX:
                        abort(400, f"参数 {key} 超出范围：{value[:40]}")
    return None


def register_input_boundary(app: Flask) -> None:
    """Install the bounded `int` converter (before any route is added) and the input check."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(_refuse_unusable_input)
