"""Counting SQL statements in tests: what the issue-8 budgets are asserted with, and the wide flow they measure."""
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


# the first five cover every kind of lookup a field can need (dictionary, users), so 5 and 50 compare fairly
TYPES = ["STRING", "SELECT_DICT", "MEMBERS", "RADIO", "INT", "TEXT", "DATE", "MULTISELECT"]


def _field(i: int, offset: int = 0) -> tuple[str, object]:
    kind = TYPES[i % len(TYPES)]
    key = f"f{i + offset}"
    i += offset
    if kind == "SELECT_DICT":
        return f"{{key: {key}, name: 字段{i}, type: SELECT, required: true, source: {{dictionary: IMPACT}}}}", "high"
    if kind in ("MULTISELECT", "RADIO"):
        return (f"{{key: {key}, name: 字段{i}, type: {kind}, required: true, "
                f"choices: [{{key: a, name: A}}, {{key: b, name: B}}]}}", "a")
    if kind == "MEMBERS":
        return f"{{key: {key}, name: 字段{i}, type: MEMBERS}}", "alice"
    value = {"STRING": "text", "TEXT": "long text", "INT": "42", "DATE": "2026-11-28"}[kind]
    return f"{{key: {key}, name: 字段{i}, type: {kind}, required: true}}", value


def wide_flow(n: int) -> tuple[str, dict, dict]:
    """A change flow with `n` fields on the start node and `n` on a step: (yaml, start values, step values)."""
    start = [_field(i) for i in range(n)]
    step = [_field(i, n) for i in range(n)]
    yaml_text = f"""
key: wide{n}
name: 宽表单{n}
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {{key: title, name: 标题, type: STRING, required: true}}
{chr(10).join('      - ' + f for f, _ in start)}
  - key: approve
    name: 审批
    kind: manual
    processors: {{type: GENERAL, value: [approvers]}}
    fields:
{chr(10).join('      - ' + f for f, _ in step)}
  - key: implement
    name: 实施
    kind: manual
    distribute_type: CLAIM_THEN_PROCESS
    processors: {{type: GENERAL, value: [approvers]}}
  - {{key: end, name: 结束, kind: end}}
transitions:
  - {{from: submit, to: approve}}
  - {{from: approve, to: implement}}
  - {{from: implement, to: end}}
"""
    start_values = {"title": "wide", **{f"f{i}": v for i, (_, v) in enumerate(start)}}
    step_values = {f"f{n + i}": v for i, (_, v) in enumerate(step)}
    return yaml_text, start_values, step_values
