"""Counting SQL statements in tests: what the issue-8 budgets are asserted with."""
from __future__ import annotations

from sqlalchemy import event

from app.extensions import db


class StatementCounter:
    """`with StatementCounter(engine) as c:` counts the statements run inside the block."""

    def __init__(self, engine):
        self.engine, self.count, self.statements = engine, 0, []

    def _on(self, conn, cursor, statement, *args, **kw):
        self.count += 1
        self.statements.append(statement.split("\n")[0][:90])

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on)


def statements_of_get(app, client, url: str) -> int:
    """Statements one GET of `url` runs (the page must answer 200)."""
    with app.app_context():
        engine = db.engine
    with StatementCounter(engine) as counter:
        assert client.get(url).status_code == 200
    return counter.count
