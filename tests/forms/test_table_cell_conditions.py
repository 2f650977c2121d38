"""hide_when on single table cells: a cell hides by the other cells of its row or by a form field, and the server
judges it the way the browser shows it (a hidden required cell is not required and not kept)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from flask import Flask, render_template_string

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.flowdef.model import Column, FieldDef  # noqa: E402
from app.forms import FieldContext, build_form, form_values, hide_rules, validate_values  # noqa: E402

# 原因 is asked for (and required) only on rows whose 操作 is 删除; 备注 only while the form's 紧急 is not ticked
COLUMNS = (
    Column(key="host", name="主机", required=True),
    Column(key="action", name="操作", display="select", required=True,
           choices=({"key": "add", "name": "新增"}, {"key": "drop", "name": "删除"})),
    Column(key="reason", name="原因", required=True, hide_when={"field": "action", "op": "!=", "value": "drop"}),
    Column(key="note", name="备注", hide_when={"field": "urgent", "op": "==", "value": True}),
)
FIELDS = [
    FieldDef(key="urgent", name="紧急", type="CHECKBOX"),
    FieldDef(key="hosts", name="主机清单", type="CUSTOMTABLE", columns=COLUMNS),
]


def test_a_hidden_required_cell_is_not_required_and_not_kept():
    values, errors = validate_values(FIELDS, {"hosts": [{"host": "web1", "action": "add", "reason": "typed anyway"}]},
                                     FieldContext())
    assert errors == {}
    assert values["hosts"] == [{"host": "web1", "action": "add", "reason": None, "note": None}]


def test_a_shown_required_empty_cell_is_refused_naming_the_row():
    rows = [{"host": "web1", "action": "add"}, {"host": "db1", "action": "drop"}]
    _values, errors = validate_values(FIELDS, {"hosts": rows}, FieldContext())
    assert errors == {"hosts": ["【主机清单】第 2 行【原因】为必填项"]}
    values, errors = validate_values(FIELDS, {"hosts": [{"host": "db1", "action": "drop", "reason": "下线"}]},
                                     FieldContext())
    assert errors == {} and values["hosts"][0]["reason"] == "下线"


def test_a_cell_reads_a_form_field_and_the_earlier_steps():
    row = {"host": "web1", "action": "add", "note": "夜间"}
    assert validate_values(FIELDS, {"hosts": [row], "urgent": True}, FieldContext())[0]["hosts"][0]["note"] is None
    assert validate_values(FIELDS, {"hosts": [row]}, FieldContext())[0]["hosts"][0]["note"] == "夜间"
    step = [FIELDS[1]]        # 紧急 was filled in at an earlier step
    assert validate_values(step, {"hosts": [row]}, FieldContext(),
                           condition_values={"urgent": True})[0]["hosts"][0]["note"] is None


def test_an_html_post_with_a_prefix_is_judged_the_same_way():
    app = Flask(__name__)
    app.config.update(WTF_CSRF_ENABLED=False, SECRET_KEY="test", TESTING=True)
    data = {"s-urgent": "1", "s-hosts-0-host": "a", "s-hosts-0-action": "drop", "s-hosts-0-note": "x",
            "s-hosts-1-host": "b", "s-hosts-1-action": "add"}
    with app.test_request_context(method="POST", data=data):
        form = build_form(FIELDS, FieldContext())(prefix="s")
        assert not form.validate()
        assert form.errors == {"hosts": ["【主机清单】第 1 行【原因】为必填项"]}
        assert form.hosts.hidden_cells == {(0, "note"), (1, "reason"), (1, "note")}
    with app.test_request_context(method="POST", data={**data, "s-hosts-0-reason": "下线"}):
        form = build_form(FIELDS, FieldContext())(prefix="s")
        assert form.validate()
        assert form_values(form, FIELDS)["hosts"] == [
            {"host": "a", "action": "drop", "reason": "下线", "note": None},
            {"host": "b", "action": "add", "reason": None, "note": None}]


def test_the_page_carries_the_cell_conditions():
    app = Flask(__name__)
    app.config.update(WTF_CSRF_ENABLED=False, SECRET_KEY="test")
    with app.test_request_context():
        form = build_form([FIELDS[1]], FieldContext(), condition_values={"urgent": True, "other": 1})(prefix="s")
        rules = hide_rules(form, [FIELDS[1]])
    assert rules["cells"] == {"hosts": {"name": "s-hosts", "columns": {
        "reason": {"field": "action", "op": "!=", "value": "drop"},
        "note": {"field": "urgent", "op": "==", "value": True}}}}
    assert rules["values"] == {"urgent": True}


@pytest.mark.parametrize("cond, problem", [
    ({"field": "nowhere", "value": 1}, "hide_when field 'nowhere' is not a field of this flow"),
    ({"field": "action", "value": "drop"}, None),
    ({"field": "urgent", "value": True}, None),
])
def test_the_flow_check_knows_what_a_cell_may_read(cond, problem):
    from app.flowdef.loader import parse_flow_text  # noqa: PLC0415

    text = f"""
key: cells
name: cells
service_type: request
nodes:
  - key: s
    name: 提单
    kind: start
    fields:
      - {{key: urgent, name: 紧急, type: CHECKBOX}}
      - key: hosts
        name: 主机清单
        type: CUSTOMTABLE
        columns:
          - {{key: action, name: 操作}}
          - {{key: reason, name: 原因, hide_when: {cond!r}}}
  - {{key: e, name: 结束, kind: end}}
transitions:
  - {{from: s, to: e}}
"""
    try:
        parse_flow_text(text)
        found = None
    except Exception as exc:  # noqa: BLE001
        found = str(exc)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
