"""Driving the flow designer's canvas and side panel in Playwright (shared by the designer's browser tests)."""

import yaml
from sqlalchemy import select

from app.extensions import db
from app.infra.uow import commit
from app.models import Flow



def set_value(page, selector, value):
    """Type into a panel input and leave it (the designer applies a value on change)."""
    page.fill(selector, value)
    page.press(selector, "Tab")


def choose(page, selector, value):
    page.select_option(selector, value)


def add_field(page, key, name, type_):
    page.click("#btn-add-field")
    set_value(page, "#panel input[name=field_name]", name)
    set_value(page, "#panel input[name=field_key]", key)
    choose(page, "#panel select[name=field_type]", type_)


def back_to_node(page):
    page.click("#panel button:has-text('返回节点')")


def open_node(page, key):
    page.click(f"#canvas .drawflow-node.node-{key} .df-name")


def connect_in_panel(page, from_key, to_key):
    open_node(page, from_key)
    choose(page, "#panel select[name=connect_to]", to_key)
    page.click("#btn-connect")


def wait_checked(page):
    page.locator("#issues[data-state=done]").wait_for()


def stored_flow(app, text: str) -> int:
    """A template stored as written (possibly with errors the designer must show), as the YAML editor keeps it."""
    data = yaml.safe_load(text)
    with app.app_context():
        row = Flow(key=data["key"], name=data["name"], service_type=data["service_type"], source=text,
                   source_path=f"{data['key']}.yaml")
        db.session.add(row)
        commit()
        return row.id


def source_of(app, flow_id: int) -> str:
    with app.app_context():
        return db.session.execute(select(Flow.source).where(Flow.id == flow_id)).scalar_one()


def save(page):
    page.click("#tab-deploy")
    page.click("#btn-review")
    page.locator("#diff[data-empty]").wait_for(state="attached")
    page.click("#btn-save")
    page.locator("#saved").wait_for()
