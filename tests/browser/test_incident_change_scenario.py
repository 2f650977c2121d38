"""The manual's scenario, clicked through in Chromium: an incident needs a change.

A user reports an incident; the service desk dispatches it; the engineer, while
handling it, opens a change as a related ticket (新建关联单); both tickets list
each other; the change runs its own flow to the end; the engineer then closes the
incident and the reporter confirms. No request leaves 127.0.0.1.
"""
import re
from urllib.parse import urlsplit


def submit_step(page, node_key):
    with page.expect_navigation():
        page.click(f"#step-{node_key} form[action$='/transition'] button:has-text('提交')")


def test_incident_then_related_change_scenario(sessions):
    alice, desk, eng1 = sessions("alice"), sessions("desk"), sessions("eng1")

    # 1. alice reports the incident
    page = alice.go("/submit")
    page.click("text=报障受理")
    with page.expect_navigation():
        page.click("a.btn:has-text('提单')")
    page.fill("input[name=title]", "OA 系统无法登录")
    for name in ("event_type", "event_source", "impact", "urgency"):
        page.select_option(f"select[name={name}]", index=1)
    page.fill("input[name=occurred_at]", "2026-11-28T09:30")
    page.fill("textarea[name=description]", "登录页返回 502，全部门受影响。")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    incident_url = page.url
    incident_sn = page.inner_text("#sn")
    assert incident_sn.startswith("INC")
    assert page.get_attribute("g.node-current", "data-node") == "handle"      # the progress view

    # 2. the service desk dispatches it to eng1
    page = desk.go("/")
    assert incident_sn in page.inner_text("#todo")
    page = desk.go(urlsplit(incident_url).path)
    page.locator("#step-handle .ts-control").first.click()       # people are searched on the server
    with page.expect_response(lambda r: "/people/search" in r.url):
        page.keyboard.type("eng1")
    page.locator(".ts-dropdown:visible .option:has-text('eng1')").first.click()
    with page.expect_navigation():
        page.click("button:has-text('派单')")
    assert "派单成功" in page.content()

    # 3. eng1 opens a change from the incident (新建关联单)
    page = eng1.go(urlsplit(incident_url).path)
    with page.expect_navigation():
        page.click("a:has-text('新建关联单')")
    page.click("text=变更申请")
    with page.expect_navigation():
        page.click("a.btn:has-text('提单')")
    page.fill("input[name=title]", "更换 OA 负载均衡节点")
    page.select_option("select[name=change_type]", "routine")
    page.select_option("select[name=risk]", index=1)
    page.fill("input[name=window]", "2026-11-28T20:00")
    page.fill("[data-richtext-for=plan]", "摘除故障节点，替换后加回。")        # the rich-text editor
    page.fill("textarea[name=rollback_plan]", "恢复原节点")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    change_url, change_sn = page.url, page.inner_text("#sn")
    assert change_sn.startswith("CRQ") and incident_sn in page.inner_text("#related")
    assert change_sn in eng1.go(urlsplit(incident_url).path).inner_text("#related")

    # 4. the change runs its flow: cm approves, cab1 and cab2 pass the countersign, ops1 implements, eng1 verifies
    steps = [("cm", "cm_approve", {"cm_approve-cm_result": "agree"}),
             ("cab1", "cab_review", {"cab_review-cab_review_result": "true"}),
             ("cab2", "cab_review", {"cab_review-cab_review_result": "true"}),
             ("ops1", "implement", {"implement-impl_result": "success", "implement-impl_log": "已替换"}),
             ("eng1", "verify", {"verify-verify_result": "ok"})]
    for username, node_key, values in steps:
        session = eng1 if username == "eng1" else sessions(username)
        page = session.go(urlsplit(change_url).path)
        if page.query_selector(f"#step-{node_key} button:has-text('认领')"):
            with page.expect_navigation():
                page.click(f"#step-{node_key} button:has-text('认领')")
        assert page.get_attribute("g.node-current", "data-node") == node_key
        decision = None
        if page.query_selector(f"#approve-{node_key}"):     # an approval node: 通过/拒绝 buttons
            decision = values.pop(f"{node_key}-{node_key}_result")
        for name, value in values.items():
            field = page.query_selector(f"[name='{name}']")
            if field.get_attribute("type") == "radio":
                page.check(f"[name='{name}'][value='{value}']")
            else:
                page.fill(f"[name='{name}']", value)
        if decision is None:
            submit_step(page, node_key)
        else:
            with page.expect_navigation():
                page.click(f"#{'approve' if decision == 'true' else 'reject'}-{node_key}")
    assert "已结束" in page.inner_text("h4")

    # 5. eng1 handles the incident, alice confirms it solved
    page = eng1.go(urlsplit(incident_url).path)
    page.fill("[name='handle-cause']", "负载均衡节点硬件故障")
    page.fill("[name='handle-solution']", f"已通过变更 {change_sn} 更换节点")
    submit_step(page, "handle")
    page = alice.go(urlsplit(incident_url).path)
    assert page.get_attribute("g.node-current", "data-node") == "confirm"
    page.check("[name='confirm-confirm_result'][value='solved']")
    submit_step(page, "confirm")
    assert "已结束" in page.inner_text("h4")
    assert page.query_selector_all("g.node-current") == []
    assert change_sn in page.inner_text("#related")

    # nothing left localhost
    outside = [u for u in sessions.requests if urlsplit(u).hostname not in ("127.0.0.1", "localhost")]
    assert not outside, outside
    assert re.match(r"http://127\.0\.0\.1:\d+", sessions.base)
