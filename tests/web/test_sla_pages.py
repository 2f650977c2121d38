"""Service levels in the front office: the ticket page's clocks, the time-to-breach column and sort, the
workbench's tickets about to breach, and list pages that cost the same statements with or without SLA."""
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import time_machine

from tests.statement_counter import statements_of_get


def incident_data(**overrides):
    """The incident form, P1 unless urgency/impact are given (high × high)."""
    return {"title": "订单服务 502", "event_type": "fault", "event_source": "monitor", "impact": "high",
            "urgency": "high", "occurred_at": "2030-01-05 09:30", "description": "下单接口持续返回 502", **overrides}


def _utc(text):
    """A Shanghai wall-clock time as a UTC instant (time_machine's destination)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)


def test_the_ticket_page_shows_each_clock_and_the_suspension(browser, itsm):
    # each step logs in at its own frozen instant (a session signed "later" is not valid earlier)
    with time_machine.travel(_utc("2026-03-09 09:00"), tick=False):
        ticket_id = itsm.submit(browser("alice"), "incident_handle", incident_data(urgency="high", impact="high"))
    with time_machine.travel(_utc("2026-03-09 09:10"), tick=False):
        browser("desk").post(f"/tickets/{ticket_id}/actions/suspend", data={"message": "等厂商"})
    with time_machine.travel(_utc("2026-03-09 10:00"), tick=False):
        browser("desk").post(f"/tickets/{ticket_id}/actions/unsuspend")
        page = browser("alice").get(f"/tickets/{ticket_id}").get_data(as_text=True)
    panel = page.split('id="sla"')[1].split('id="progress"')[0]
    assert "故障处理 7×24" in panel and 'id="sla-priority">P1<' in panel
    response = panel.split('id="sla-response"')[1].split("</tr>")[0]
    assert "已达成" in response                                  # the service desk acted (suspended) at 09:10
    resolution = panel.split('id="sla-resolution"')[1]
    assert "计时中" in resolution and "2026-03-09 13:50:00" in resolution   # 4h, 50 min of it suspended
    assert "2026-03-09 09:10:00 → 2026-03-09 10:00:00（单据挂起）" in resolution


def test_a_processor_changes_the_priority_with_a_reason_from_the_page(browser, itsm):
    alice, desk = browser("alice"), browser("desk")
    ticket_id = itsm.submit(alice, "incident_handle", incident_data(urgency="low", impact="low"))
    assert 'id="sla-priority">P4<' in alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "调整优先级" not in alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    refused = desk.post(f"/tickets/{ticket_id}/priority", data={"priority": "P1", "reason": ""},
                        follow_redirects=True)
    assert "调整优先级需要填写原因" in refused.get_data(as_text=True)
    desk.post(f"/tickets/{ticket_id}/priority", data={"priority": "P1", "reason": "全站不可用"})
    page = desk.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="sla-priority">P1<' in page and "desk 将优先级由 P4 调整为 P1，原因：全站不可用" in page


def test_lists_show_time_to_breach_sort_by_it_and_the_workbench_lists_tickets_about_to_breach(browser, itsm):
    with time_machine.travel(_utc("2026-03-09 09:00"), tick=False):
        alice, desk = browser("alice"), browser("desk")
        slow = itsm.submit(alice, "incident_handle", incident_data(title="慢", urgency="low", impact="low"))
        fast = itsm.submit(alice, "incident_handle", incident_data(title="急", urgency="high", impact="high"))
        listing = desk.get("/tickets?tab=todo&sort=sla").get_data(as_text=True)
        bench = desk.get("/").get_data(as_text=True)
    titles = re.findall(r"<td>(慢|急)</td>", listing)
    assert titles == ["急", "慢"]
    assert "15 分钟" in listing                      # P1 response: 15 minutes left
    assert "急" in bench.split('id="sla-soon"')[1].split('id="todo"')[0]
    assert "慢" not in bench.split('id="sla-soon"')[1].split('id="todo"')[0]   # 2 hours away: not soon
    assert slow and fast


def test_list_pages_cost_the_same_statements_with_and_without_agreements(browser, itsm, demo, tmp_path):
    alice, desk = browser("alice"), browser("desk")
    for i in range(3):
        itsm.submit(alice, "incident_handle", incident_data(title=f"t{i}"))
    urls = ["/tickets", "/tickets?tab=todo", "/tickets?tab=todo&sort=sla", "/modules/event?tab=mine"]
    with_sla = {u: statements_of_get(demo, (desk if "todo" in u else alice).client, u) for u in urls}
    old = demo.config["SLA_DIR"]
    demo.config["SLA_DIR"] = str(tmp_path)          # no files: no agreement
    try:
        for i in range(3):
            itsm.submit(alice, "incident_handle", incident_data(title=f"n{i}"))
        without = {u: statements_of_get(demo, (desk if "todo" in u else alice).client, u) for u in urls}
    finally:
        demo.config["SLA_DIR"] = old
    assert with_sla == without, (with_sla, without)
