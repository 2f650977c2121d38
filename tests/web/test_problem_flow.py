"""The life of a 问题管理 (problem) ticket: analysis by the single problem manager, dispatch-then-claim fix."""
import re

import pytest


def problem_data(**overrides):
    data = {
        "title": "订单服务反复 502",
        "related_incidents": "INC20300105000001, INC20300106000002",
        "impact": "high",
        "occurrences": "4",
        "first_seen": "2030-01-05",
        "affected_systems": ["crm", "portal"],
        "description": "近一周 4 次 502，均在高峰期",
    }
    data.update(overrides)
    return data


def analyse(pm, ticket_id, category="software,middleware,database"):
    return pm.post(f"/tickets/{ticket_id}/steps/analysis/transition",
                   data={"analysis-root_cause": "连接池上限过低", "analysis-category": category})


def test_full_life_of_a_problem(browser, itsm):
    alice, pm, eng1, eng2 = browser("alice"), browser("pm"), browser("eng1"), browser("eng2")
    ticket_id = itsm.submit(alice, "problem_manage", problem_data())
    snap = itsm.snapshot(ticket_id)
    assert re.fullmatch(r"PBI\d{14}", snap.ticket.sn)
    assert snap.ticket.values["affected_systems"] == ["crm", "portal"]

    # one problem manager: CLAIM_THEN_PROCESS skips the claim
    step = snap.current
    assert step.node_key == "analysis" and step.status == "RUNNING"
    assert step.processors_type == "PERSON" and step.users == ["pm"]
    page = pm.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "analysis-root_cause" in page and ">认领<" not in page
    assert "软件 / 中间件 / 数据库" in page              # the cascade offers whole paths
    assert snap.ticket.sn in pm.get("/tickets?tab=todo").get_data(as_text=True)
    assert snap.ticket.sn not in pm.get("/tickets?tab=claim").get_data(as_text=True)

    assert analyse(pm, ticket_id).status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.values["category"] == ["software", "middleware", "database"]
    assert snap.current.node_key == "fix" and snap.current.status == "DISTRIBUTING"
    assert snap.current.users == ["pm"]
    assert "软件/中间件/数据库" in pm.get(f"/tickets/{ticket_id}").get_data(as_text=True)

    # dispatched to a group: every member must claim first
    r = pm.post(f"/tickets/{ticket_id}/steps/fix/distribute", data={"target": "GENERAL:engineers", "message": "请排查"})
    assert r.status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.current.status == "RECEIVING" and sorted(snap.current.users) == ["eng1", "eng2"]
    for eng in (eng1, eng2):
        assert snap.ticket.sn in eng.get("/tickets?tab=claim").get_data(as_text=True)
        assert snap.ticket.sn not in eng.get("/tickets?tab=todo").get_data(as_text=True)
    r = eng2.post(f"/tickets/{ticket_id}/steps/fix/transition",
                  data={"fix-fix_plan": "调大连接池", "fix-fix_result": "fixed"})
    assert "该节点待认领，请先认领" in itsm.follow(eng2, r)

    assert eng2.post(f"/tickets/{ticket_id}/steps/fix/claim").status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.current.status == "RUNNING" and snap.current.users == ["eng2"]
    assert "eng2 认领了节点【根因修复】" in snap.logs
    assert snap.ticket.sn not in eng1.get("/tickets?tab=claim").get_data(as_text=True)
    # eng1 was offered the step, so still sees the ticket, but the claim is refused and changes nothing
    r = eng1.post(f"/tickets/{ticket_id}/steps/fix/claim")
    assert r.status_code == 302
    assert "该节点已在处理中" in itsm.follow(eng1, r)
    assert itsm.snapshot(ticket_id).current.users == ["eng2"]

    r = eng2.post(f"/tickets/{ticket_id}/steps/fix/transition",
                  data={"fix-fix_plan": "连接池 50 → 200，并加监控", "fix-fix_result": "fixed"})
    assert r.status_code == 302

    snap = itsm.snapshot(ticket_id)
    assert snap.current.node_key == "close" and snap.current.users == ["pm"]
    r = pm.post(f"/tickets/{ticket_id}/steps/close/transition",
                data={"close-close_code": "resolved", "close-kb_link": "https://kb.example.com/502",
                      "close-close_note": "已观察一周无复发"})
    assert r.status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "FINISHED" and not snap.open_steps
    assert [s.node_key for s in snap.steps] == ["submit", "analysis", "fix", "close"]
    assert snap.logs[-1] == "单据流程结束"


def test_dispatch_of_the_fix_to_one_person_skips_the_claim(browser, itsm):
    alice, pm, eng1 = browser("alice"), browser("pm"), browser("eng1")
    ticket_id = itsm.submit(alice, "problem_manage", problem_data())
    analyse(pm, ticket_id)
    pm.post(f"/tickets/{ticket_id}/steps/fix/distribute", data={"target": "PERSON:eng1"})
    snap = itsm.snapshot(ticket_id)
    assert snap.current.status == "RUNNING" and snap.current.users == ["eng1"]


@pytest.mark.parametrize("category", ["software,middleware", "software,network", "nothing", "hardware,server,dns"])
def test_category_must_be_a_path_of_the_tree(browser, itsm, category):
    alice, pm = browser("alice"), browser("pm")
    ticket_id = itsm.submit(alice, "problem_manage", problem_data())
    r = analyse(pm, ticket_id, category=category)
    if category == "software,middleware":       # any node of the tree is a valid path
        assert r.status_code == 302
        return
    assert r.status_code == 400
    assert "问题分类" in r.get_data(as_text=True)
    assert itsm.snapshot(ticket_id).current.node_key == "analysis"


def test_workaround_is_required_only_for_a_temporary_fix(browser, itsm):
    alice, pm, eng1 = browser("alice"), browser("pm"), browser("eng1")
    ticket_id = itsm.submit(alice, "problem_manage", problem_data())
    analyse(pm, ticket_id)
    pm.post(f"/tickets/{ticket_id}/steps/fix/distribute", data={"target": "PERSON:eng1"})
    r = eng1.post(f"/tickets/{ticket_id}/steps/fix/transition",
                  data={"fix-fix_plan": "重启", "fix-fix_result": "workaround"})
    assert r.status_code == 400 and "规避措施" in r.get_data(as_text=True)
    r = eng1.post(f"/tickets/{ticket_id}/steps/fix/transition",
                  data={"fix-fix_plan": "重启", "fix-fix_result": "workaround", "fix-workaround": "高峰前重启"})
    assert r.status_code == 302
    assert itsm.snapshot(ticket_id).ticket.values["workaround"] == "高峰前重启"


def test_related_incidents_must_be_incident_numbers(browser, itsm):
    alice = browser("alice")
    r = itsm.submit(alice, "problem_manage", problem_data(related_incidents="REQ123"), expect_ok=False)
    assert r.status_code == 400
    assert "填写事件单号" in r.get_data(as_text=True)
    assert itsm.ticket_count() == 0
