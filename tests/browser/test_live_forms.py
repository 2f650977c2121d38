"""Conditional fields (hide_when) appear and disappear while the user fills the form in, by the server's rules.

The browser evaluates the conditions the page carries as data with static/js/conditions.js; the first test
runs a table of cases through it and through app/flowdef/conditions.py and requires the same answers.
"""
import pytest
from pydantic import TypeAdapter

from app.flowdef.conditions import compile_condition, condition_data
from app.flowdef.model import Condition
from browser_kit import FLOW

CASES = [
    ({"field": "a", "op": "==", "value": "x"}, {"a": "x"}),
    ({"field": "a", "op": "==", "value": "x"}, {"a": "y"}),
    ({"field": "a", "op": "==", "value": "x"}, {}),
    ({"field": "a", "op": "!=", "value": "x"}, {}),
    ({"field": "a", "op": "notin", "value": ["x"]}, {}),
    ({"field": "a", "op": "==", "value": 3}, {"a": "3.0"}),
    ({"field": "a", "op": "==", "value": 3}, {"a": " 3 "}),
    ({"field": "a", "op": "==", "value": 3}, {"a": ""}),
    ({"field": "a", "op": "==", "value": ""}, {"a": ""}),
    ({"field": "a", "op": "==", "value": True}, {"a": "y"}),
    ({"field": "a", "op": "==", "value": True}, {"a": "no"}),
    ({"field": "a", "op": "==", "value": False}, {"a": ""}),
    ({"field": "a", "op": "==", "value": None}, {"a": None}),
    ({"field": "a", "op": "==", "value": "x"}, {"a": None}),
    ({"field": "a", "op": "==", "value": ["x", "y"]}, {"a": ["x", "y"]}),
    ({"field": "a", "op": "==", "value": ["x", "y"]}, {"a": "x,y"}),
    ({"field": "a", "op": "==", "value": ["x", "y"]}, {"a": ["y", "x"]}),
    ({"field": "a", "op": ">", "value": 10}, {"a": "9"}),
    ({"field": "a", "op": ">", "value": 10}, {"a": "11"}),
    ({"field": "a", "op": ">", "value": "10"}, {"a": "9"}),
    ({"field": "a", "op": ">=", "value": "b"}, {"a": "abc"}),
    ({"field": "a", "op": "<", "value": 1e3}, {"a": "1e2"}),
    ({"field": "a", "op": "<=", "value": 5}, {"a": None}),
    ({"field": "a", "op": "<", "value": "z"}, {"a": "1_0"}),
    ({"field": "a", "op": "in", "value": ["x", "y"]}, {"a": "x"}),
    ({"field": "a", "op": "in", "value": ["x", "y"]}, {"a": ["x", "y"]}),
    ({"field": "a", "op": "in", "value": ["x", "y"]}, {"a": ["x", "z"]}),
    ({"field": "a", "op": "in", "value": ["x", "y"]}, {"a": []}),
    ({"field": "a", "op": "in", "value": "x,y"}, {"a": "y"}),
    ({"field": "a", "op": "in", "value": [1, 2]}, {"a": "1"}),
    ({"field": "a", "op": "notin", "value": ["x"]}, {"a": "y"}),
    ({"field": "a", "op": "notin", "value": ["x"]}, {"a": []}),
    ({"field": "a", "op": "contains", "value": "db"}, {"a": ["db", "web"]}),
    ({"field": "a", "op": "contains", "value": "db"}, {"a": []}),
    ({"field": "a", "op": "contains", "value": "ro"}, {"a": "error"}),
    ({"field": "a", "op": "contains", "value": ["x", "y"]}, {"a": "x,y,z"}),
    ({"field": "a", "op": "contains", "value": ["x", "y"]}, {"a": ["x"]}),
    ({"field": "a", "op": "contains", "value": True}, {"a": [True]}),
    ({"all": [{"field": "a", "value": "x"}, {"field": "b", "op": ">", "value": 1}]}, {"a": "x", "b": "2"}),
    ({"all": [{"field": "a", "value": "x"}, {"field": "b", "op": ">", "value": 1}]}, {"a": "x", "b": "1"}),
    ({"any": [{"field": "a", "value": "x"}, {"field": "b", "value": "y"}]}, {"b": "y"}),
    ({"any": [{"field": "a", "value": "x"}, {"field": "b", "value": "y"}]}, {}),
    ({"not": {"field": "a", "op": "in", "value": ["x"]}}, {"a": "x"}),
    ({"not": {"any": [{"field": "a", "value": 1}, {"not": {"field": "b", "value": 2}}]}}, {"a": 0, "b": 2}),
]


def test_browser_and_server_evaluate_conditions_alike(chromium, live_server):
    adapter = TypeAdapter(Condition)
    conditions = [adapter.validate_python(cond) for cond, _ in CASES]
    expected = [compile_condition(c)(values) for c, (_, values) in zip(conditions, CASES)]
    cases = [{"cond": condition_data(c), "values": values} for c, (_, values) in zip(conditions, CASES)]
    page = chromium.new_page()
    page.goto(live_server + "/login")
    got = page.evaluate("""async (cases) => {
        const {evaluate} = await import("/static/js/conditions.js");
        return cases.map((c) => evaluate(c.cond, c.values));
    }""", cases)
    page.close()
    assert len(set(expected)) == 2          # the table has cases that hold and cases that do not
    assert [(cond, values, e) for (cond, values), e in zip(CASES, got)] == \
        [(cond, values, e) for (cond, values), e in zip(CASES, expected)]


def visible(page, scope, key):
    return page.locator(f"{scope} [data-field={key}]").is_visible()


@pytest.fixture
def live_flow(make_service, live_server):
    return make_service(FLOW, users=("alice",))


def test_conditional_fields_follow_the_values_on_the_submit_form(sessions, live_flow):
    alice = sessions("alice")
    page = alice.go(f"/submit/{live_flow}")
    assert not visible(page, "main form", "hosts") and not visible(page, "main form", "db_name")
    page.select_option("select[name=kind]", "host")
    assert visible(page, "main form", "hosts")                 # a table field appears ...
    rows = page.locator("table[data-table-field=hosts] tbody tr")
    before = rows.count()
    page.click("button[data-add-row=hosts]")
    assert rows.count() == before + 1
    page.select_option("select[name=kind]", "app")
    assert not visible(page, "main form", "hosts")             # ... and goes again
    page.select_option("select[name=tags]", ["web", "db"])
    assert visible(page, "main form", "db_name")
    page.select_option("select[name=tags]", ["web"])
    assert not visible(page, "main form", "db_name")

    # what the page hid, the server does not require; what it shows, the server does
    page.fill("input[name=title]", "动态表单")
    page.select_option("select[name=kind]", "host")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    errors = page.locator("main form [data-field=hosts] .invalid-feedback").all_inner_texts()
    assert errors and not page.locator("main form [data-field=db_name] .invalid-feedback").count()
    assert visible(page, "main form", "hosts") and not visible(page, "main form", "db_name")
    page.fill("input[name=hosts-0-ip]", "10.0.0.1")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    assert page.inner_text("#sn").startswith("REQ")


def test_conditional_fields_on_a_step_form_read_earlier_steps_and_the_step_itself(sessions, live_flow):
    alice = sessions("alice")
    page = alice.go(f"/submit/{live_flow}")
    page.fill("input[name=title]", "步骤表单")
    page.select_option("select[name=kind]", "app")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    step = "#step-review form"
    assert not visible(page, step, "back_reason")
    assert not visible(page, step, "host_check")             # kind (an earlier step's value) is not host
    page.check("#step-review input[value=back]")
    assert visible(page, step, "back_reason")
    page.check("#step-review input[value=ok]")
    assert not visible(page, step, "back_reason")
    with page.expect_navigation():
        page.click("#step-review button:has-text('提交')")
    assert "已提交" in page.content()


CELL_FLOW = """
key: live_cells
name: 主机变更
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: urgent, name: 紧急, type: CHECKBOX}
      - key: hosts
        name: 主机清单
        type: CUSTOMTABLE
        required: true
        columns:
          - {key: host, name: 主机, required: true}
          - {key: action, name: 操作, display: select, choices: [{key: add, name: 新增}, {key: drop, name: 删除}]}
          - {key: reason, name: 原因, required: true, hide_when: {field: action, op: "!=", value: drop}}
          - {key: note, name: 备注, hide_when: {field: urgent, op: "==", value: true}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: end}
"""


def cell_visible(page, row, column):
    return page.locator(f"table[data-table-field=hosts] tbody tr >> nth={row} >> td[data-cell={column}] >> "
                        "input, select, textarea").first.is_visible()


def test_table_cells_follow_their_row_and_the_form(sessions, make_service, live_server):
    service = make_service(CELL_FLOW, users=("alice",))
    page = sessions("alice").go(f"/submit/{service}")
    assert not cell_visible(page, 0, "reason") and cell_visible(page, 0, "note")
    page.select_option("select[name=hosts-1-action]", "drop")
    assert cell_visible(page, 1, "reason") and not cell_visible(page, 0, "reason")   # only that row's cell
    page.check("input[name=urgent]")
    assert not cell_visible(page, 0, "note") and not cell_visible(page, 2, "note")   # a form field hides a column
    page.click("button[data-add-row=hosts]")
    assert not cell_visible(page, 3, "reason") and not cell_visible(page, 3, "note")  # a new row follows the rules

    # the server requires the shown cell only, and names its row
    page.fill("input[name=hosts-0-host]", "web1")
    page.select_option("select[name=hosts-0-action]", "add")
    page.fill("input[name=hosts-1-host]", "db1")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    errors = page.locator("main form [data-field=hosts] .invalid-feedback").all_inner_texts()
    assert errors == ["【主机清单】第 2 行【原因】为必填项"]
    assert cell_visible(page, 1, "reason") and not cell_visible(page, 0, "reason")   # re-rendered as it was
    page.fill("input[name=hosts-1-reason]", "下线")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    assert page.inner_text("#sn").startswith("REQ")
