"""Issue 17, clicked in Chromium: the global view's tab (8), history (9), the flow graph (10), feedback (11).

Each test submits through the pages as a user would; no request leaves 127.0.0.1.
"""
import re
from urllib.parse import urlsplit


def submit_account(page, title: str) -> tuple[str, str]:
    """A 账号开通 request through the request module's 新增请求 menu; returns (ticket path, number)."""
    page.click("#module-submit button:has-text('新增请求')")
    with page.expect_navigation():
        page.click("#module-submit a.dropdown-item:has-text('账号开通')")
    page.fill("input[name=title]", title)
    page.select_option("select[name=system]", "crm")
    page.check("input[name=account_type][value=permanent]") if page.query_selector(
        "input[name=account_type][type=radio]") else page.select_option("select[name=account_type]", "permanent")
    page.fill("textarea[name=reason]", "工作需要")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    return urlsplit(page.url).path, page.inner_text("#sn")


def _active_tab(page) -> str:
    return page.inner_text("ul.nav-tabs .nav-link.active").strip()


def test_global_view_opens_where_the_tickets_are_and_remembers_the_tab(sessions):
    alice, admin = sessions("alice"), sessions("admin")
    _, sn = submit_account(alice.go("/modules/request"), "全局视图的单")
    page = admin.go("/tickets")
    assert _active_tab(page) == "所有单据" and sn in page.inner_text("table.ticket-table")
    with page.expect_navigation():
        page.click("ul.nav-tabs a:has-text('待认领')")
    assert _active_tab(admin.go("/tickets")) == "待认领"                 # the last choice, remembered
    assert _active_tab(alice.go("/tickets")) == "与我相关"


def test_withdrawn_ticket_shows_withdrawn_leaves_to_do_and_is_history(sessions):
    alice, leader = sessions("alice"), sessions("leader")
    path, sn = submit_account(alice.go("/modules/request"), "要撤回的单")
    page = alice.page
    # after submitting, the page offers the module's list as well as the ticket
    assert "提单成功" in page.inner_text("main") and page.is_visible("#submitted-list")
    assert sn in leader.go("/tickets?tab=todo").inner_text("table.ticket-table")
    page = alice.go(path)
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button:has-text('撤单')")
    assert "已撤销" in page.inner_text("main")
    assert sn not in leader.go("/tickets?tab=todo").inner_text("table.ticket-table")
    assert sn not in leader.go("/").inner_text("#todo")
    mine = alice.go("/tickets?tab=mine").inner_text("table.ticket-table")
    assert re.search(rf"{sn}.*已撤销", mine.replace("\n", " "))
    # 我的历史单: what I submitted once it ended, and what the leader was asked to handle
    assert sn in alice.go("/tickets?tab=history").inner_text("table.ticket-table")
    assert sn in leader.go("/tickets?tab=history").inner_text("table.ticket-table")


def test_related_ticket_note_names_the_ticket_and_suspended_steps_say_so(sessions):
    alice, leader = sessions("alice"), sessions("leader")
    path, sn = submit_account(alice.go("/modules/request"), "要关联的单")
    page = alice.go(path)
    with page.expect_navigation():
        page.click("a:has-text('新建关联单')")
    assert sn in page.inner_text("#related-note") and "要关联的单" in page.inner_text("#related-note")
    # the leader suspends: nobody is told the step still waits for processing
    page = leader.go(path)
    page.click("button:has-text('挂起')")
    page.fill("#suspend-form input[name=message]", "等待预算")
    with page.expect_navigation():
        page.click("#suspend-form button:has-text('确认挂起')")
    text = alice.go(path).inner_text("#step-leader_approve")
    assert "单据已挂起" in text and "等待" not in text.replace("单据已挂起", "")


def test_flow_graph_labels_do_not_overlap_and_folding_is_remembered(sessions):
    alice = sessions("alice")
    path, _ = submit_account(alice.go("/modules/request"), "看流程图")
    page = alice.go(path)
    details = page.locator("#progress-details")
    assert details.get_attribute("open") is not None
    nodes = [page.locator("#progress g.node rect").nth(i).bounding_box()
             for i in range(page.locator("#progress g.node rect").count())]
    labels = [page.locator("#progress svg > text").nth(i).bounding_box()
              for i in range(page.locator("#progress svg > text").count())]
    assert labels, "the account flow has named routes"

    def overlap(a, b):
        return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] \
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]

    for i, label in enumerate(labels):
        assert not any(overlap(label, node) for node in nodes), label
        assert not any(overlap(label, other) for other in labels[i + 1:]), label
    page.click("#progress-summary")
    assert details.get_attribute("open") is None and not page.is_visible("#progress svg")
    page = alice.go(path)                                     # folded again on the next visit
    assert page.locator("#progress-details").get_attribute("open") is None
    page.click("#progress-summary")
    assert alice.go(path).locator("#progress-details").get_attribute("open") is not None
