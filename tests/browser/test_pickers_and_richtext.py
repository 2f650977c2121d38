"""Searchable pickers (people by username or name, choices, dispatch targets) and the rich-text editor, in Chromium."""
import re

import pytest
from browser_kit import FLOW

expect = pytest.importorskip("playwright.sync_api").expect


def picker(page, key):
    """The Tom Select control that stands for the field's <select>."""
    return page.locator(f"main form [data-field={key}] .ts-control")


def search(page, text):
    """Type into the open picker and wait for the server's answer to be shown."""
    with page.expect_response(lambda r: "/people/search" in r.url):
        page.keyboard.type(text)
    page.wait_for_timeout(50)


def options(page, key):
    """The options the field's picker offers now."""
    return page.locator(f"main form [data-field={key}] .ts-dropdown .option")


def test_people_and_choice_pickers_search_as_you_type(sessions, make_service):
    service_id = make_service(FLOW, users=("alice", "bob"))
    alice = sessions("alice")
    page = alice.go(f"/submit/{service_id}")
    page.fill("input[name=title]", "选人")
    page.select_option("select[name=kind]", "app")

    picker(page, "owner").click()
    search(page, "张三")                                     # a display name, answered by /people/search
    options(page, "owner").filter(has_text="alice(张三)").click()
    assert page.locator("select[name=owner]").input_value() == "alice"

    picker(page, "watchers").click()
    search(page, "bo")                                       # a username
    options(page, "watchers").filter(has_text="bob").first.click()
    search(page, "张")
    options(page, "watchers").filter(has_text="alice(张三)").click()
    page.keyboard.press("Escape")
    assert sorted(page.locator("select[name=watchers] option:checked").evaluate_all(
        "(os) => os.map((o) => o.value)")) == ["alice", "bob"]

    picker(page, "tags").click()
    page.keyboard.type("数据")
    expect(options(page, "tags")).to_have_text(["数据库"])       # the other choice is filtered out
    options(page, "tags").first.click()
    page.keyboard.press("Escape")
    assert page.locator("[data-field=db_name]").is_visible()  # the picker's change drives hide_when

    picker(page, "area").click()
    page.keyboard.type("深圳")
    options(page, "area").filter(has_text="深圳").click()
    page.fill("input[name=db_name]", "orders")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    text = page.inner_text("main")
    assert page.inner_text("#sn").startswith("REQ")
    assert "张三" in text and "数据库" in text and "深圳" in text


def test_people_search_matches_username_and_display_name(sessions):
    alice = sessions("alice")
    found = alice.context.request.get(alice.base + "/people/search?q=张").json()["results"]
    assert {"value": "alice", "text": "alice(张三)"} in found
    assert alice.context.request.get(alice.base + "/people/search?q=ALI").json()["results"][0]["value"] == "alice"
    assert alice.context.request.get(alice.base + "/people/search?q=%25").json()["results"] == []


def test_dispatch_target_is_a_searchable_picker(sessions):
    alice, desk = sessions("alice"), sessions("desk")
    page = alice.go("/submit")
    page.click("text=报障受理")
    with page.expect_navigation():
        page.click("a.btn:has-text('提单')")
    page.fill("input[name=title]", "打印机卡纸")
    for name in ("event_type", "event_source", "impact", "urgency"):
        page.select_option(f"select[name={name}]", index=1)
    page.fill("input[name=occurred_at]", "2026-11-28T09:30")
    page.fill("textarea[name=description]", "三楼打印机卡纸。")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    path = page.url.split(alice.base)[1]
    page = desk.go(path)
    page.locator("#step-handle .ts-control").first.click()
    search(page, "eng1")
    page.locator(".ts-dropdown:visible .option:has-text('eng1')").first.click()
    assert page.locator("#distribute-handle").input_value() == "PERSON:eng1"
    with page.expect_navigation():
        page.click("button:has-text('派单')")
    assert "派单成功" in page.content()


def test_rich_text_is_edited_in_an_editor_and_shown_sanitized_with_its_lines(sessions, make_service):
    service_id = make_service(FLOW, users=("alice",))
    alice = sessions("alice")
    page = alice.go(f"/submit/{service_id}")
    page.fill("input[name=title]", "富文本")
    page.select_option("select[name=kind]", "app")
    editor = page.locator("[data-richtext-for=notes]")
    editor.click()
    page.keyboard.type("第一行")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+b")
    page.keyboard.type("第二行加粗")
    page.keyboard.press("Control+b")
    assert page.locator("textarea[name=notes]").is_hidden()
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    shown = page.locator(".richtext").first
    assert shown.locator("p").all_inner_texts() == ["第一行", "第二行加粗"]
    assert shown.locator("strong").inner_text() == "第二行加粗"
    assert not re.search(r"<script|on\w+=", shown.inner_html())
