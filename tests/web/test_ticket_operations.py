"""Ticket-level operations (suspend, resume, withdraw, supervise, terminate), rights, pages and lists."""
import re

import pytest

ACCOUNT = {"title": "申请 CRM 只读账号", "system": "crm", "account_type": "permanent", "permissions": ["read"],
           "reason": "销售数据分析需要"}
DEMO_PASSWORD = "demo-pass-123"     # tests/conftest.py
APPROVE = {"leader_approve-leader_approve_result": "true", "leader_approve-leader_approve_remark": "同意"}


def submit_account(itsm, user, **overrides):
    return itsm.submit(user, "account_apply", {**ACCOUNT, **overrides})


def approve(leader, ticket_id):
    r = leader.post(f"/tickets/{ticket_id}/steps/leader_approve/transition", data=APPROVE)
    assert r.status_code == 302
    return r


def action(user, ticket_id, name, message=None):
    data = {} if message is None else {"message": message}
    return user.post(f"/tickets/{ticket_id}/actions/{name}", data=data)


def buttons(page: str) -> str:
    """The ticket page's action area plus the open step cards (what a user may click)."""
    return page.split('id="ticket-actions"')[1].split('id="logs"')[0]


# --- suspend / resume ---------------------------------------------------------

def test_suspend_needs_a_reason(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    page = itsm.follow(leader, action(leader, ticket_id, "suspend", "   "))
    assert "请输入挂起原因" in page
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "RUNNING" and snap.current.status == "RUNNING"


def test_processor_suspends_and_resumes_the_ticket(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    assert "挂起" in buttons(leader.get(f"/tickets/{ticket_id}").get_data(as_text=True))

    page = itsm.follow(leader, action(leader, ticket_id, "suspend", "等待预算审批"))
    assert "挂起成功" in page
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "SUSPENDED" and snap.ticket.pre_status == "RUNNING"
    assert snap.current.status == "SUSPEND" and snap.current.pre_status == "RUNNING"
    assert "leader 挂起了单据，原因：等待预算审批" in snap.logs
    assert any(n.kind == "suspend" and n.recipients == ["alice"] for n in snap.notifications)
    page = leader.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "被挂起" in page and "恢复" in buttons(page)
    assert "leader_approve-leader_approve_result" not in page          # no step form while suspended

    page = itsm.follow(leader, action(leader, ticket_id, "unsuspend"))
    assert "恢复成功" in page
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "RUNNING" and snap.ticket.pre_status is None
    assert snap.current.status == "RUNNING" and snap.current.pre_status is None
    assert "leader 恢复了单据" in snap.logs
    approve(leader, ticket_id)
    assert itsm.snapshot(ticket_id).current.node_key == "implement"


def test_resume_restores_a_step_that_was_waiting_to_be_claimed(browser, itsm):
    alice, leader, ops1 = browser("alice"), browser("leader"), browser("ops1")
    ticket_id = submit_account(itsm, alice)
    approve(leader, ticket_id)
    action(ops1, ticket_id, "suspend", "排期中")
    snap = itsm.snapshot(ticket_id)
    assert snap.current.status == "SUSPEND"
    assert snap.ticket.sn not in ops1.get("/tickets?tab=claim").get_data(as_text=True)
    action(ops1, ticket_id, "unsuspend")
    snap = itsm.snapshot(ticket_id)
    assert snap.current.status == "RECEIVING" and sorted(snap.current.users) == ["ops1", "ops2"]
    assert snap.ticket.sn in browser("ops2").get("/tickets?tab=claim").get_data(as_text=True)


def test_step_operations_are_refused_while_suspended(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    action(leader, ticket_id, "suspend", "等待预算审批")
    before = itsm.snapshot(ticket_id)
    r = leader.post(f"/tickets/{ticket_id}/steps/leader_approve/transition", data=APPROVE)
    assert "单据已挂起，请先恢复后再处理" in itsm.follow(leader, r)
    r = leader.post(f"/tickets/{ticket_id}/steps/leader_approve/terminate", data={"message": "不需要了"})
    assert "单据已挂起，请先恢复后再处理" in itsm.follow(leader, r)
    after = itsm.snapshot(ticket_id)
    assert after.ticket.status == "SUSPENDED" and after.logs == before.logs
    assert [(s.node_key, s.status) for s in after.steps] == [(s.node_key, s.status) for s in before.steps]


def test_suspending_twice_is_refused(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    action(leader, ticket_id, "suspend", "第一次")
    page = itsm.follow(leader, action(leader, ticket_id, "suspend", "第二次"))
    assert "单据已处于挂起状态，不能重复挂起" in page
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.pre_status == "RUNNING" and snap.current.pre_status == "RUNNING"
    assert sum("挂起了单据" in line for line in snap.logs) == 1


def test_resume_on_a_running_ticket_is_refused(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    page = itsm.follow(leader, action(leader, ticket_id, "unsuspend"))
    assert "抱歉，该单据不在挂起中，无法操作" in page
    assert itsm.snapshot(ticket_id).ticket.status == "RUNNING"


def test_the_requester_may_not_suspend(browser, itsm):
    alice = browser("alice")
    ticket_id = submit_account(itsm, alice)
    assert "挂起" not in buttons(alice.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert action(alice, ticket_id, "suspend", "我想停一下").status_code == 403
    assert itsm.snapshot(ticket_id).ticket.status == "RUNNING"


# --- withdraw -----------------------------------------------------------------

def test_creator_withdraws_before_anyone_acted(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    assert "撤单" in buttons(alice.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    page = itsm.follow(alice, action(alice, ticket_id, "withdraw"))
    assert "撤单成功" in page and "已撤销" in page
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "REVOKED" and snap.ticket.end_at is not None and not snap.open_steps
    assert "alice 撤回了单据" in snap.logs
    assert snap.ticket.sn not in leader.get("/tickets?tab=todo").get_data(as_text=True)
    assert "撤单" not in buttons(alice.get(f"/tickets/{ticket_id}").get_data(as_text=True))


def test_withdraw_after_the_leader_acted_is_refused(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    approve(leader, ticket_id)
    assert "撤单" not in buttons(alice.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    page = itsm.follow(alice, action(alice, ticket_id, "withdraw"))
    assert "单据已有他人处理，无法撤单" in page
    assert itsm.snapshot(ticket_id).ticket.status == "RUNNING"


def test_withdraw_by_someone_else_is_refused(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    assert "撤单" not in buttons(leader.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    r = action(leader, ticket_id, "withdraw")
    assert r.status_code == 403 and "只有提单人可以撤单" in r.get_data(as_text=True)
    assert itsm.snapshot(ticket_id).ticket.status == "RUNNING"


# --- supervise ------------------------------------------------------------------

def test_creator_supervises_the_current_processors(browser, itsm):
    alice, leader, ops1 = browser("alice"), browser("leader"), browser("ops1")
    ticket_id = submit_account(itsm, alice)
    approve(leader, ticket_id)
    assert "督办" in buttons(alice.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    page = itsm.follow(alice, action(alice, ticket_id, "supervise", "请今天处理"))
    assert "督办成功" in page
    snap = itsm.snapshot(ticket_id)
    assert "alice 督办了节点【账号开通实施】的处理人：ops1,ops2，备注：请今天处理" in snap.logs
    (notice,) = [n for n in snap.notifications if n.kind == "supervise"]
    assert sorted(notice.recipients) == ["ops1", "ops2"] and notice.message == "请今天处理"
    assert snap.ticket.others_acted is True      # the leader acted; supervising changes nothing else
    assert snap.current.status == "RECEIVING"
    assert "请今天处理" in ops1.get(f"/tickets/{ticket_id}").get_data(as_text=True)


def test_supervise_does_not_count_as_someone_else_acting(browser, itsm):
    alice = browser("alice")
    ticket_id = submit_account(itsm, alice)
    action(alice, ticket_id, "supervise")
    assert itsm.snapshot(ticket_id).ticket.others_acted is False
    action(alice, ticket_id, "withdraw")
    assert itsm.snapshot(ticket_id).ticket.status == "REVOKED"


def test_supervise_by_an_unrelated_user_is_refused(browser, itsm):
    alice, bob = browser("alice"), browser("bob")
    ticket_id = submit_account(itsm, alice)
    r = action(bob, ticket_id, "supervise", "快点")
    assert r.status_code == 403
    snap = itsm.snapshot(ticket_id)
    assert not [n for n in snap.notifications if n.kind == "supervise"]
    assert not any("督办" in line for line in snap.logs)


def test_role_supervisor_may_supervise_a_ticket_they_did_not_touch(browser, itsm):
    """普通变更 names change_managers as supervisors: cm may supervise while CAB reviews."""
    alice, cm = browser("alice"), browser("cm")
    data = {"title": "扩容", "change_type": "normal", "risk": "low", "window": "2030-01-05 22:00",
            "plan": "<p>扩容</p>", "rollback_plan": "缩容"}
    ticket_id = itsm.submit(alice, "change_normal", data)
    cm.post(f"/tickets/{ticket_id}/steps/cm_approve/transition", data={"cm_approve-cm_result": "agree"})
    assert "督办成功" in itsm.follow(cm, action(cm, ticket_id, "supervise"))
    (notice,) = [n for n in itsm.snapshot(ticket_id).notifications if n.kind == "supervise"]
    assert sorted(notice.recipients) == ["cab1", "cab2"]


# --- terminate ------------------------------------------------------------------

def test_node_terminate_needs_a_reason(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    r = leader.post(f"/tickets/{ticket_id}/steps/leader_approve/terminate", data={"message": " "})
    assert "请输入终止原因！" in itsm.follow(leader, r)
    assert itsm.snapshot(ticket_id).ticket.status == "RUNNING"


def test_node_terminate_ends_the_ticket(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    assert "终止" in buttons(leader.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    r = leader.post(f"/tickets/{ticket_id}/steps/leader_approve/terminate", data={"message": "重复申请"})
    assert "终止成功" in itsm.follow(leader, r)
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "TERMINATED" and snap.ticket.end_at is not None
    assert not snap.open_steps and snap.steps[-1].status == "TERMINATED"
    assert "leader 终止了节点【直属领导审批】，原因：重复申请" in snap.logs
    assert "被终止" in alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)


def test_terminate_on_a_node_without_can_terminate_is_refused(browser, itsm):
    alice, leader, ops1 = browser("alice"), browser("leader"), browser("ops1")
    ticket_id = submit_account(itsm, alice)
    approve(leader, ticket_id)
    ops1.post(f"/tickets/{ticket_id}/steps/implement/claim")
    page = ops1.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "终止" not in buttons(page)
    r = ops1.post(f"/tickets/{ticket_id}/steps/implement/terminate", data={"message": "不做了"})
    assert "节点【账号开通实施】不允许终止" in itsm.follow(ops1, r)
    r = action(ops1, ticket_id, "terminate", "不做了")
    assert r.status_code == 403
    assert itsm.snapshot(ticket_id).ticket.status == "RUNNING"


# --- super admin ---------------------------------------------------------------

def test_super_admin_may_act_on_any_step_and_the_log_says_so(browser, itsm):
    alice, admin = browser("alice"), browser("admin")
    ticket_id = submit_account(itsm, alice)
    page = admin.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "leader_approve-leader_approve_result" in page and f"/tickets/{ticket_id}/steps/leader_approve/terminate" in page
    approve(admin, ticket_id)
    snap = itsm.snapshot(ticket_id)
    assert "admin（超级管理员特殊处理） 审批节点【直属领导审批】：通过，备注：同意(通过)" in snap.logs
    assert admin.post(f"/tickets/{ticket_id}/steps/implement/claim").status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert "admin（超级管理员特殊处理） 认领了节点【账号开通实施】" in snap.logs
    assert snap.current.users == ["admin"]


def test_super_admin_suspend_and_terminate_are_marked(browser, itsm):
    alice, admin = browser("alice"), browser("admin")
    ticket_id = submit_account(itsm, alice)
    action(admin, ticket_id, "suspend", "审计")
    action(admin, ticket_id, "unsuspend")
    action(admin, ticket_id, "terminate", "测试单")
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "TERMINATED"
    assert "admin（超级管理员特殊处理） 挂起了单据，原因：审计" in snap.logs
    assert "admin（超级管理员特殊处理） 终止了单据，原因：测试单" in snap.logs


# --- a closed ticket ------------------------------------------------------------

def test_a_closed_ticket_refuses_every_operation(browser, itsm):
    alice, leader, admin = browser("alice"), browser("leader"), browser("admin")
    ticket_id = submit_account(itsm, alice)
    leader.post(f"/tickets/{ticket_id}/steps/leader_approve/transition",
                data={"leader_approve-leader_approve_result": "false", "leader_approve-leader_approve_remark": "不需要"})
    before = itsm.snapshot(ticket_id)
    assert before.ticket.status == "FINISHED"

    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    for label in ("督办", "撤单", "挂起", "终止单据", "新建关联单"):
        assert label not in buttons(page)

    attempts = [(user, f"/tickets/{ticket_id}/actions/{name}", {"message": "x"})
                for user in (alice, admin) for name in ("suspend", "unsuspend", "withdraw", "supervise", "terminate")]
    attempts += [(admin, f"/tickets/{ticket_id}/steps/leader_approve/{name}", {"message": "x", "target": "PERSON:bob"})
                 for name in ("claim", "distribute", "deliver", "terminate")]
    attempts += [(leader, f"/tickets/{ticket_id}/steps/leader_approve/transition", APPROVE)]
    for user, url, data in attempts:
        page = itsm.follow(user, user.post(url, data=data))
        assert "抱歉，单据已关闭，无法操作" in page, url
    after = itsm.snapshot(ticket_id)
    assert after.ticket.status == "FINISHED" and after.logs == before.logs
    assert len(after.notifications) == len(before.notifications)


# --- request hygiene ------------------------------------------------------------

def test_post_without_csrf_token_is_refused_and_changes_nothing(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    before = itsm.snapshot(ticket_id)
    for user, url, data in [
        (leader, f"/tickets/{ticket_id}/steps/leader_approve/transition", APPROVE),
        (leader, f"/tickets/{ticket_id}/actions/suspend", {"message": "x"}),
        (alice, f"/tickets/{ticket_id}/actions/withdraw", {}),
        (leader, f"/tickets/{ticket_id}/steps/leader_approve/terminate", {"message": "x"}),
    ]:
        r = user.post(url, data, csrf=False)
        assert r.status_code == 400, url
    r = alice.post(f"/submit/{itsm.service_id('account_apply')}", ACCOUNT, csrf=False)
    assert r.status_code == 400
    after = itsm.snapshot(ticket_id)
    assert after.ticket.status == "RUNNING" and after.logs == before.logs
    assert after.current.node_key == "leader_approve"
    assert itsm.ticket_count() == 1


def test_unknown_ticket_is_a_404_page(browser, itsm):
    alice = browser("alice")
    r = alice.get("/tickets/987654")
    assert r.status_code == 404
    assert "没有找到对应的单据" in r.get_data(as_text=True) and "返回工作台" in r.get_data(as_text=True)
    assert action(alice, 987654, "withdraw").status_code == 404
    r = alice.post("/tickets/987654/steps/submit/transition", data={})
    assert r.status_code == 404


def test_unknown_step_or_action_is_a_404(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account(itsm, alice)
    assert leader.post(f"/tickets/{ticket_id}/steps/nope/transition", data={}).status_code == 404
    assert leader.post(f"/tickets/{ticket_id}/steps/leader_approve/explode", data={}).status_code == 404
    assert leader.post(f"/tickets/{ticket_id}/actions/explode", data={}).status_code == 404


def test_uninvolved_user_gets_403_on_the_ticket_page(browser, itsm):
    alice, bob = browser("alice"), browser("bob")
    ticket_id = submit_account(itsm, alice)
    r = bob.get(f"/tickets/{ticket_id}")
    assert r.status_code == 403
    page = r.get_data(as_text=True)
    assert "没有权限" in page and ACCOUNT["title"] not in page
    assert "撤单" not in page and "督办" not in page and "提交</button>" not in page
    r = bob.post(f"/tickets/{ticket_id}/steps/leader_approve/transition", data=APPROVE)
    assert r.status_code == 403
    assert action(bob, ticket_id, "suspend", "x").status_code == 403


@pytest.mark.parametrize("url", ["/", "/tickets", "/tickets?tab=all", "/submit", "/submit/1", "/tickets/1",
                                 "/tickets/attachments/1"])
def test_every_page_requires_login(demo, url):
    client = demo.test_client()
    r = client.get(url)
    assert r.status_code == 302
    location = r.headers["Location"]
    assert re.match(r"(https?://[^/]+)?/login\?next=", location), location


def test_posts_require_login_too(demo, itsm):
    client = demo.test_client()
    for url in ("/tickets/1/actions/withdraw", "/tickets/1/steps/submit/transition", "/tickets/1/steps/submit/claim"):
        r = client.post(url, data={})
        assert r.status_code in (302, 400), url
        if r.status_code == 302:
            assert "/login" in r.headers["Location"]
    assert itsm.ticket_count() == 0


# --- what each user sees --------------------------------------------------------

def test_each_user_sees_only_the_buttons_they_may_use(browser, itsm):
    alice, leader, ops1, ops2 = browser("alice"), browser("leader"), browser("ops1"), browser("ops2")
    ticket_id = submit_account(itsm, alice)

    page = buttons(alice.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert "撤单" in page and "督办" in page
    assert "挂起" not in page and "终止单据" not in page and "leader_approve-leader_approve_result" not in page

    page = buttons(leader.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert "leader_approve-leader_approve_result" in page and "挂起" in page and "终止" in page
    assert "撤单" not in page and "督办" not in page and ">认领<" not in page

    approve(leader, ticket_id)
    page = buttons(alice.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert "撤单" not in page and "督办" in page
    page = buttons(leader.get(f"/tickets/{ticket_id}").get_data(as_text=True))    # done with it: look only
    for label in (">认领<", "提交</button>", "挂起", "撤单", "督办", "终止", "派单", "转单"):
        assert label not in page, label
    page = buttons(ops1.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert ">认领<" in page and "implement-account_name" not in page

    ops1.post(f"/tickets/{ticket_id}/steps/implement/claim")
    page = buttons(ops1.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert "implement-account_name" in page and "转单" in page and ">认领<" not in page
    # ops2 was offered the claim too: still a participant, so may look, but has no button left
    page = buttons(ops2.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    for label in (">认领<", "提交</button>", "转单", "派单", "implement-account_name"):
        assert label not in page, label
    assert browser("bob").get(f"/tickets/{ticket_id}").status_code == 403          # never involved: no access


# --- related tickets ------------------------------------------------------------

def test_related_ticket_is_linked_both_ways(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    first = submit_account(itsm, alice)
    first_sn = itsm.snapshot(first).ticket.sn
    page = alice.get(f"/submit?related={first}").get_data(as_text=True)
    assert f"新单据将作为 {first_sn}（" in page and f"related={first}" in page
    page = alice.get(f"/submit/{itsm.service_id('account_apply')}?related={first}").get_data(as_text=True)
    assert f'name="related" value="{first}"' in page

    response = alice.post(f"/submit/{itsm.service_id('account_apply')}?related={first}",
                          data={**ACCOUNT, "title": "再申请 ERP 账号", "system": "erp"})
    assert response.status_code == 302
    second = int(re.search(r"/tickets/(\d+)", response.headers["Location"]).group(1))
    second_sn = itsm.snapshot(second).ticket.sn
    assert itsm.links() == [(first, second)]

    related = alice.get(f"/tickets/{first}").get_data(as_text=True).split('id="related"')[1]
    assert second_sn in related and "再申请 ERP 账号" in related
    related = alice.get(f"/tickets/{second}").get_data(as_text=True).split('id="related"')[1]
    assert first_sn in related and "暂无关联单" not in related


def test_related_to_a_ticket_one_cannot_see_is_refused(browser, itsm):
    alice, bob = browser("alice"), browser("bob")
    first = submit_account(itsm, alice)
    r = bob.post(f"/submit/{itsm.service_id('account_apply')}?related={first}", data=ACCOUNT)
    assert r.status_code == 403
    assert itsm.ticket_count() == 1 and itsm.links() == []


# --- workbench and global view ------------------------------------------------

def _sns(html: str) -> set[str]:
    return set(re.findall(r"\b(?:REQ|CRQ|INC|PBI)\d{14}\b", html))


def test_workbench_and_tabs_list_the_right_tickets(browser, itsm):
    alice, bob, leader, ops1, admin = (browser(u) for u in ("alice", "bob", "leader", "ops1", "admin"))
    a1 = submit_account(itsm, alice, title="alice 一号")
    a2 = submit_account(itsm, alice, title="alice 二号")
    b1 = submit_account(itsm, bob, title="bob 一号")
    approve(leader, a2)
    sn = {k: itsm.snapshot(v).ticket.sn for k, v in (("a1", a1), ("a2", a2), ("b1", b1))}

    assert _sns(leader.get("/tickets?tab=todo").get_data(as_text=True)) == {sn["a1"], sn["b1"]}
    assert _sns(leader.get("/tickets?tab=claim").get_data(as_text=True)) == set()
    assert _sns(leader.get("/tickets?tab=mine").get_data(as_text=True)) == set()
    assert _sns(leader.get("/tickets?tab=involved").get_data(as_text=True)) == set(sn.values())
    assert _sns(ops1.get("/tickets?tab=claim").get_data(as_text=True)) == {sn["a2"]}
    assert _sns(ops1.get("/tickets?tab=todo").get_data(as_text=True)) == set()
    assert _sns(alice.get("/tickets?tab=mine").get_data(as_text=True)) == {sn["a1"], sn["a2"]}
    assert _sns(alice.get("/tickets").get_data(as_text=True)) == {sn["a1"], sn["a2"]}
    assert _sns(bob.get("/tickets?tab=involved").get_data(as_text=True)) == {sn["b1"]}

    # "all" is for super admins only; others get 403 with a way back
    page = admin.get("/tickets?tab=all").get_data(as_text=True)
    assert "所有单据" in page and _sns(page) == set(sn.values())
    assert "所有单据" not in bob.get("/tickets").get_data(as_text=True)
    denied = bob.get("/tickets?tab=all")
    assert denied.status_code == 403 and "返回工作台" in denied.get_data(as_text=True)

    # the workbench: counts and the three lists
    page = leader.get("/").get_data(as_text=True)
    todo = page.split('id="todo"')[1].split('id="claim"')[0]
    assert _sns(todo) == {sn["a1"], sn["b1"]}
    page = ops1.get("/").get_data(as_text=True)
    claim = page.split('id="claim"')[1].split('id="mine"')[0]
    assert _sns(claim) == {sn["a2"]} and "待认领" in claim
    mine = alice.get("/").get_data(as_text=True).split('id="mine"')[1].split('id="activity"')[0]
    assert _sns(mine) == {sn["a1"], sn["a2"]}


# --- login ------------------------------------------------------------------------

def test_wrong_password_is_refused(browser, demo):
    anonymous = browser()
    r = anonymous.post("/login", data={"username": "alice", "password": "wrong"})
    assert r.status_code == 400
    assert "用户名或密码错误" in r.get_data(as_text=True)
    r = anonymous.post("/login", data={"username": "nobody", "password": "wrong"})
    assert r.status_code == 400 and "用户名或密码错误" in r.get_data(as_text=True)
    assert anonymous.get("/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com/x", "/\\evil.com", "\\\\evil.com",
                                    "/%2F%2Fevil.com", "http:/evil.com", " //evil.com"])
def test_login_never_redirects_off_site(browser, demo, target):
    anonymous = browser()
    r = anonymous.client.post("/login", query_string={"next": target},
                              data={"username": "alice", "password": DEMO_PASSWORD, "csrf_token": anonymous.csrf()})
    assert r.status_code == 302
    location = r.headers["Location"]
    assert re.match(r"^(https?://itsm\.test)?/(?![/\\])", location), location


def test_login_follows_a_local_next(browser, demo):
    anonymous = browser()
    r = anonymous.client.post("/login", query_string={"next": "/tickets?tab=mine"},
                              data={"username": "alice", "password": DEMO_PASSWORD, "csrf_token": anonymous.csrf()})
    assert r.status_code == 302 and r.headers["Location"].endswith("/tickets?tab=mine")
