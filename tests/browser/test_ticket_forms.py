"""Ticket forms in Chromium: files survive a failed submit; the printout shows every field in full."""
from browser_kit import FLOW


def submit_page(sessions, make_service, username="alice"):
    service_id = make_service(FLOW, users=("alice", "bob"))
    session = sessions(username)
    return session, session.go(f"/submit/{service_id}")


def test_an_uploaded_file_is_kept_when_the_form_comes_back_with_errors(sessions, make_service, tmp_path):
    report = tmp_path / "巡检报告.txt"
    report.write_text("CPU 40%\n", encoding="utf-8")
    alice, page = submit_page(sessions, make_service)
    page.select_option("select[name=kind]", "app")
    page.set_input_files("input[type=file][name=files]", str(report))
    with page.expect_navigation():
        page.click("main button:has-text('提交')")          # no title: refused
    assert page.locator("[data-field=title] .invalid-feedback").count() == 1
    kept = page.locator("[data-field=files] input[type=checkbox]")
    assert kept.count() == 1 and kept.is_checked()
    assert "巡检报告.txt" in page.inner_text("[data-field=files]")
    page.fill("input[name=title]", "带附件")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    assert page.inner_text("#sn").startswith("REQ")
    assert page.locator("a:has-text('巡检报告.txt')").count() == 1
    href = page.locator("a:has-text('巡检报告.txt')").get_attribute("href")
    assert alice.context.request.get(alice.base + href).text() == "CPU 40%\n"


def test_the_printout_shows_every_row_of_a_table_and_every_value(sessions, make_service):
    alice, page = submit_page(sessions, make_service)
    page.fill("input[name=title]", "打印全部字段")
    page.select_option("select[name=kind]", "host")
    page.fill("input[name=hosts-0-ip]", "10.0.0.1")
    page.click("button[data-add-row=hosts]")
    page.fill("input[name=hosts-1-ip]", "10.0.0.2")
    page.click("button[data-add-row=hosts]")
    page.fill("input[name=hosts-2-ip]", "10.0.0.3")
    page.select_option("select[name=tags]", ["db", "web"], force=True)
    page.fill("input[name=db_name]", "orders")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    ticket_path = page.url.split(alice.base)[1]
    page = alice.go(ticket_path + "/print")
    hosts = page.locator("[data-field=hosts] tbody tr")
    assert hosts.all_inner_texts() == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert "行" not in page.inner_text("[data-field=hosts]")
    assert page.inner_text("[data-field=tags]").strip() in ("数据库,网站", "网站,数据库")
    assert page.inner_text("[data-field=db_name]").strip() == "orders"
