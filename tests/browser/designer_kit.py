"""Driving the flow designer's canvas and side panel in Playwright (shared by the designer's browser tests)."""


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
