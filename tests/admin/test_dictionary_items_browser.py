"""The dictionary items table in a real browser (Playwright + /usr/bin/chromium): add a row, save, reload, it is there."""
from __future__ import annotations

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(live_server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 900}, base_url=live_server)
        page.on("dialog", lambda dialog: dialog.accept())
        yield page
        browser.close()


def log_in_as_admin(page):
    page.goto("/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin-pass-123")
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/")


def test_admin_adds_a_dictionary_item_row_and_it_is_still_there_after_reload(page, demo):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Dictionary

    with demo.app_context():
        dictionary_id = db.session.execute(select(Dictionary.id).where(Dictionary.key == "RISK_LEVEL")).scalar_one()
    log_in_as_admin(page)
    page.goto(f"/admin/dictionary/edit/?id={dictionary_id}")
    table = page.locator('table[data-table-field="items"] tbody')
    rows_before = table.locator("tr").count()
    page.get_by_role("button", name="添加一行").click()          # table-rows.js copies the spare row
    assert table.locator("tr").count() == rows_before + 1
    new_row = table.locator("tr").nth(rows_before - 1)          # the old spare row: fill it
    new_row.get_by_label("编码", exact=True).fill("critical")
    new_row.get_by_label("名称", exact=True).fill("极高风险")
    new_row.get_by_label("排序").fill("0")
    page.locator("input[type=submit][name=_continue_editing]").click()
    page.locator(".alert-success").wait_for()
    page.reload()
    keys = [table.locator("tr").nth(i).get_by_label("编码", exact=True).input_value() for i in range(table.locator("tr").count())]
    assert keys[0] == "critical" and {"high", "medium", "low"} <= set(keys)
    assert table.locator("tr").first.get_by_label("名称", exact=True).input_value() == "极高风险"
