"""The life of a 普通变更 (change) ticket: approval, CAB countersign, implementation, verification, rejections."""
import re

import pytest

PLAN = '<p>1. 停止 <b>nginx</b></p><script>alert("xss")</script><p onclick="steal()">2. 升级</p>'


def change_data(**overrides):
    data = {
        "title": "升级 nginx 到 1.25",
        "change_type": "normal",
        "risk": "medium",
        "window": "2030-01-05 22:00",
        "duration_minutes": "90",
        "plan": PLAN,
        "affected_hosts-0-ip": "10.0.0.11",
        "affected_hosts-0-role": "web",
        "affected_hosts-0-note": "主节点",
        "affected_hosts-1-ip": "10.0.0.12",
        "affected_hosts-1-role": "db",
        "rollback_plan": "回滚到 1.24 的安装包",
    }
    data.update(overrides)
    return data


def submit_change(itsm, alice, **overrides):
    return itsm.submit(alice, "change_normal", change_data(**overrides))


def cm_approve(itsm, cm, ticket_id, result="agree", comment=None):
    data = {"cm_approve-cm_result": result}
    if comment is not None:
        data["cm_approve-cm_comment"] = comment
    r = cm.post(f"/tickets/{ticket_id}/steps/cm_approve/transition", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]


def cab_votes(browser, ticket_id, *decisions):
    """Each CAB member in turn (cab1, cab2) decides the countersign: "true" 通过 / "false" 拒绝."""
    for member, result in zip(("cab1", "cab2"), decisions):
        r = browser(member).post(f"/tickets/{ticket_id}/steps/cab_review/transition",
                                 data={"cab_review-cab_review_result": result, "cab_review-cab_review_remark": "风险可控"})
        assert r.status_code == 302, r.get_data(as_text=True)[:2000]


def through_cab_and_implement(itsm, browser, ticket_id):
    ops2 = browser("ops2")
    cab_votes(browser, ticket_id, "true", "true")
    r = ops2.post(f"/tickets/{ticket_id}/steps/implement/transition",
                  data={"implement-impl_result": "success", "implement-impl_log": "22:10 完成升级"})
    assert r.status_code == 302


def test_full_life_of_a_normal_change(browser, itsm):
    alice, cm, cab1, cab2, ops1, ops2 = (browser(u) for u in ("alice", "cm", "cab1", "cab2", "ops1", "ops2"))
    ticket_id = submit_change(itsm, alice)
    snap = itsm.snapshot(ticket_id)
    assert re.fullmatch(r"CRQ\d{14}", snap.ticket.sn)
    hosts = snap.ticket.values["affected_hosts"]
    assert [(h["ip"], h["role"]) for h in hosts] == [("10.0.0.11", "web"), ("10.0.0.12", "db")]
    assert hosts[0]["note"] == "主节点" and not hosts[1].get("note")
    assert "<script>" not in snap.ticket.values["plan"] and "onclick" not in snap.ticket.values["plan"]
    assert snap.current.node_key == "cm_approve" and snap.current.status == "RUNNING"

    # the ticket page shows the sanitized plan and the host rows, never the script
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "<b>nginx</b>" in page and "2. 升级" in page
    assert "<script>alert" not in page and 'alert("xss")' not in page and "steal()" not in page
    assert "涉及主机" in page and "10.0.0.11" in page and "Web 服务器" in page and "数据库服务器" in page

    # the change manager approves
    assert snap.ticket.sn in cm.get("/").get_data(as_text=True)
    cm_approve(itsm, cm, ticket_id)

    # CAB: a countersign, every member votes; the node waits for both
    snap = itsm.snapshot(ticket_id)
    assert snap.current.node_key == "cab_review" and snap.current.status == "RUNNING"
    assert sorted(snap.current.users) == ["cab1", "cab2"]
    for member in (cab1, cab2):
        assert snap.ticket.sn in member.get("/tickets?tab=todo").get_data(as_text=True)
    cab_votes(browser, ticket_id, "true")
    snap = itsm.snapshot(ticket_id)
    assert snap.current.node_key == "cab_review" and snap.current.users == ["cab2"]
    r = cab1.post(f"/tickets/{ticket_id}/steps/cab_review/transition", data={"cab_review-cab_review_result": "true"})
    assert r.status_code in (302, 400, 403)
    assert itsm.snapshot(ticket_id).current.users == ["cab2"]
    r = cab2.post(f"/tickets/{ticket_id}/steps/cab_review/transition", data={"cab_review-cab_review_result": "true"})
    assert r.status_code == 302

    # implementation: PROCESS — both ops members may act without claiming
    snap = itsm.snapshot(ticket_id)
    assert snap.current.node_key == "implement" and snap.current.status == "RUNNING"
    assert sorted(snap.current.users) == ["ops1", "ops2"]
    for member in (ops1, ops2):
        assert snap.ticket.sn in member.get("/tickets?tab=todo").get_data(as_text=True)
        assert "implement-impl_result" in member.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    r = ops2.post(f"/tickets/{ticket_id}/steps/implement/transition",
                  data={"implement-impl_result": "success", "implement-impl_log": "22:10 完成升级"})
    assert r.status_code == 302

    # the requester verifies
    snap = itsm.snapshot(ticket_id)
    assert snap.current.node_key == "verify" and snap.current.users == ["alice"]
    r = alice.post(f"/tickets/{ticket_id}/steps/verify/transition",
                   data={"verify-verify_result": "ok", "verify-verify_note": "访问正常"})
    assert r.status_code == 302

    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "FINISHED" and snap.ticket.end_at is not None
    assert not snap.open_steps
    assert [s.node_key for s in snap.steps] == ["submit", "cm_approve", "cab_review", "implement", "verify"]
    assert "cab1 审批节点【CAB 评审】：通过，备注：风险可控" in snap.logs
    assert any(m.startswith("节点【CAB 评审】会签结束：通过（同意 2 人，不同意 0 人，共 2 人）") for m in snap.logs)
    assert "ops2 处理节点【变更实施】(实施完成)" in snap.logs
    assert snap.logs[-1] == "单据流程结束"
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "已结束" in page and "22:10 完成升级" in page and "<script>alert" not in page


def test_change_manager_rejection_sends_the_ticket_back_to_the_submitter(browser, itsm):
    alice, cm, bob = browser("alice"), browser("cm"), browser("bob")
    ticket_id = submit_change(itsm, alice)
    cm_approve(itsm, cm, ticket_id, result="reject", comment="回退方案不完整")

    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "RUNNING"
    step = snap.current
    assert step.node_key == "submit" and step.name == "提单" and step.status == "RUNNING"
    assert step.processors_type == "STARTER" and step.users == ["alice"]
    assert "cm 处理节点【变更经理审批】(退回)" in snap.logs
    assert snap.ticket.values["cm_comment"] == "回退方案不完整"

    # alice sees the start form again (filled with what she typed) in her to-do list
    assert snap.ticket.sn in alice.get("/tickets?tab=todo").get_data(as_text=True)
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "当前步骤：提单" in page and "回退方案不完整" in page
    assert 'name="submit-rollback_plan"' in page and "回滚到 1.24 的安装包" in page
    window = re.search(r'<input[^>]*name="submit-window"[^>]*>', page).group(0)
    assert "2030-01-05" in window and "22:00" in window
    assert re.search(r'<option selected value="medium">|<option value="medium" selected', page)
    assert "submit-rollback_plan" not in cm.get(f"/tickets/{ticket_id}").get_data(as_text=True)

    # nobody else may resubmit for her
    data = {f"submit-{k}": v for k, v in change_data(rollback_plan="先备份再回滚到 1.24").items()}
    assert bob.post(f"/tickets/{ticket_id}/steps/submit/transition", data=data).status_code == 403

    r = alice.post(f"/tickets/{ticket_id}/steps/submit/transition", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    snap = itsm.snapshot(ticket_id)
    assert snap.current.node_key == "cm_approve" and snap.current.status == "RUNNING"
    assert snap.ticket.values["rollback_plan"] == "先备份再回滚到 1.24"
    assert [s.node_key for s in snap.steps] == ["submit", "cm_approve", "submit", "cm_approve"]
    cm_approve(itsm, cm, ticket_id)
    assert itsm.snapshot(ticket_id).current.node_key == "cab_review"


def test_rejecting_without_a_reason_is_refused(browser, itsm):
    alice, cm = browser("alice"), browser("cm")
    ticket_id = submit_change(itsm, alice)
    r = cm.post(f"/tickets/{ticket_id}/steps/cm_approve/transition", data={"cm_approve-cm_result": "reject"})
    assert r.status_code == 400
    assert "表单填写有误" in r.get_data(as_text=True)
    assert itsm.snapshot(ticket_id).current.node_key == "cm_approve"


def test_any_cab_rejection_returns_to_the_submitter(browser, itsm):
    alice, cm, cab2 = browser("alice"), browser("cm"), browser("cab2")
    ticket_id = submit_change(itsm, alice)
    cm_approve(itsm, cm, ticket_id)
    r = cab2.post(f"/tickets/{ticket_id}/steps/cab_review/transition",
                  data={"cab_review-cab_review_result": "false", "cab_review-cab_review_remark": "窗口冲突"})
    assert r.status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.current.node_key == "submit" and snap.current.users == ["alice"]
    assert snap.ticket.values["cab_review_result"] == "false"


def test_security_and_dba_reviews_run_side_by_side_and_join_before_implementation(browser, itsm):
    """security_impact=yes, db_change=yes: after the CAB, eng1 (安全组) and eng2 (DBA 组) review at once."""
    alice, cm, eng1, eng2 = browser("alice"), browser("cm"), browser("eng1"), browser("eng2")
    ticket_id = submit_change(itsm, alice, security_impact="yes", db_change="yes")
    cm_approve(itsm, cm, ticket_id)
    cab_votes(browser, ticket_id, "true", "true")
    snap = itsm.snapshot(ticket_id)
    assert sorted((s.node_key, tuple(s.users)) for s in snap.open_steps) == [
        ("dba_review", ("eng2",)), ("security_review", ("eng1",))]
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'data-node="review_fork"' in page and "node-current" in page
    assert eng1.post(f"/tickets/{ticket_id}/steps/dba_review/transition",
                     data={"dba_review-dba_opinion": "x"}).status_code == 403
    r = eng2.post(f"/tickets/{ticket_id}/steps/dba_review/transition", data={"dba_review-dba_opinion": "已备份"})
    assert r.status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert [s.node_key for s in snap.open_steps] == ["security_review"]
    assert "分支【DBA 评审】到达汇聚网关【评审汇聚】，等待分支：安全评审" in snap.logs
    r = eng1.post(f"/tickets/{ticket_id}/steps/security_review/transition",
                  data={"security_review-security_opinion": "端口收敛"})
    assert r.status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert [s.node_key for s in snap.open_steps] == ["implement"]
    assert snap.logs.count("分支【安全评审】到达汇聚网关【评审汇聚】，所有分支已汇聚") == 1


def test_a_change_touching_only_the_database_starts_only_the_dba_review(browser, itsm):
    alice, cm = browser("alice"), browser("cm")
    ticket_id = submit_change(itsm, alice, db_change="yes")
    cm_approve(itsm, cm, ticket_id)
    cab_votes(browser, ticket_id, "true", "true")
    snap = itsm.snapshot(ticket_id)
    assert [s.node_key for s in snap.open_steps] == ["dba_review"]
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'class="node node-skipped" data-node="security_review"' in page


def test_failed_verification_goes_back_to_implementation(browser, itsm):
    alice, cm, ops1 = browser("alice"), browser("cm"), browser("ops1")
    ticket_id = submit_change(itsm, alice)
    cm_approve(itsm, cm, ticket_id)
    through_cab_and_implement(itsm, browser, ticket_id)

    r = alice.post(f"/tickets/{ticket_id}/steps/verify/transition",
                   data={"verify-verify_result": "fail", "verify-verify_note": "首页 502"})
    assert r.status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "RUNNING"
    assert snap.current.node_key == "implement" and sorted(snap.current.users) == ["ops1", "ops2"]
    assert "alice 处理节点【变更验证】(重新实施)" in snap.logs

    r = ops1.post(f"/tickets/{ticket_id}/steps/implement/transition",
                  data={"implement-impl_result": "success", "implement-impl_log": "修复配置后重新发布"})
    assert r.status_code == 302
    alice.post(f"/tickets/{ticket_id}/steps/verify/transition", data={"verify-verify_result": "ok"})
    assert itsm.snapshot(ticket_id).ticket.status == "FINISHED"


@pytest.mark.parametrize("change_type", ["urgent", "sub1"])
def test_urgent_change_types_require_an_emergency_reason(browser, itsm, change_type):
    alice = browser("alice")
    before = itsm.ticket_count()
    r = itsm.submit(alice, "change_normal", change_data(change_type=change_type), expect_ok=False)
    assert r.status_code == 400
    assert "紧急原因" in r.get_data(as_text=True)
    assert itsm.ticket_count() == before

    ticket_id = submit_change(itsm, alice, change_type=change_type, emergency_reason="线上漏洞需当晚修复")
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.values["emergency_reason"] == "线上漏洞需当晚修复"
    assert "线上漏洞需当晚修复" in alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)


@pytest.mark.parametrize("change_type", ["normal", "standard", "routine", "major"])
def test_other_change_types_need_no_emergency_reason_and_ignore_one(browser, itsm, change_type):
    alice = browser("alice")
    ticket_id = submit_change(itsm, alice, change_type=change_type, emergency_reason="不该保存")
    snap = itsm.snapshot(ticket_id)
    assert "emergency_reason" not in snap.ticket.values or not snap.ticket.values["emergency_reason"]
    assert "不该保存" not in alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)


def test_invalid_host_row_is_reported_and_nothing_is_created(browser, itsm):
    alice = browser("alice")
    before = itsm.ticket_count()
    r = itsm.submit(alice, "change_normal",
                    change_data(**{"affected_hosts-1-role": "mainframe", "affected_hosts-1-ip": ""}), expect_ok=False)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "涉及主机" in page
    assert itsm.ticket_count() == before


def test_rich_text_links_and_handlers_are_neutralised(browser, itsm):
    alice = browser("alice")
    plan = ('<p>步骤</p><a href="javascript:alert(1)">点我</a><img src="x" onerror="alert(2)">'
            '<a href="https://wiki.example.com/runbook">手册</a>')
    ticket_id = submit_change(itsm, alice, plan=plan, title='<script>alert("t")</script>升级')
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "javascript:" not in page and "onerror" not in page
    assert 'href="https://wiki.example.com/runbook"' in page
    assert '<script>alert("t")</script>' not in page and "&lt;script&gt;" in page
    assert '<script>alert("t")</script>' not in alice.get("/tickets?tab=mine").get_data(as_text=True)


def test_resubmitted_title_becomes_the_ticket_title(browser, itsm):
    alice, cm = browser("alice"), browser("cm")
    ticket_id = submit_change(itsm, alice)
    cm_approve(itsm, cm, ticket_id, result="reject", comment="标题不清楚")
    data = {f"submit-{k}": v for k, v in change_data(title="升级 nginx 到 1.25（含回退演练）").items()}
    assert alice.post(f"/tickets/{ticket_id}/steps/submit/transition", data=data).status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.values["title"] == "升级 nginx 到 1.25（含回退演练）"
    assert snap.ticket.title == "升级 nginx 到 1.25（含回退演练）"
