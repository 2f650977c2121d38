"""The life of a 故障处理 (incident) ticket: dispatch, handling, confirmation, attachments, transfer."""
import io
import re

import pytest

from app.extensions import db
from app.models import Attachment


def incident_data(**overrides):
    data = {
        "title": "订单服务 502",
        "event_type": "fault",
        "event_source": "monitor",
        "impact": "high",
        "urgency": "high",
        "occurred_at": "2030-01-05 09:30",
        "description": "下单接口持续返回 502",
    }
    data.update(overrides)
    return data


def submit_incident(itsm, alice, **overrides):
    return itsm.submit(alice, "incident_handle", incident_data(**overrides))


def dispatch(desk, ticket_id, target="PERSON:eng1", message="请尽快处理"):
    return desk.post(f"/tickets/{ticket_id}/steps/handle/distribute", data={"target": target, "message": message})


def handle(eng, ticket_id, cause="连接池耗尽", solution="扩容并重启"):
    return eng.post(f"/tickets/{ticket_id}/steps/handle/transition",
                    data={"handle-cause": cause, "handle-solution": solution})


def test_full_life_of_an_incident_with_an_unsolved_round(browser, itsm):
    alice, desk, eng1, eng2 = browser("alice"), browser("desk"), browser("eng1"), browser("eng2")
    ticket_id = submit_incident(itsm, alice)
    snap = itsm.snapshot(ticket_id)
    assert re.fullmatch(r"INC\d{14}", snap.ticket.sn)
    assert snap.current.node_key == "handle" and snap.current.status == "DISTRIBUTING"
    assert snap.current.users == ["desk"]

    # the service desk sees it in 我的待办 as 待分派 and gets the dispatch form
    workbench = desk.get("/").get_data(as_text=True)
    todo = workbench.split('id="todo"')[1].split('id="claim"')[0]
    assert snap.ticket.sn in todo and "待分派" in todo
    page = desk.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "派单" in page and 'value="GENERAL:engineers"' in page
    assert 'value="PERSON:' not in page          # people are searched on the server, not listed in the page
    assert "handle-cause" not in page
    # the engineer is not involved yet
    assert eng1.get(f"/tickets/{ticket_id}").status_code == 403

    page = itsm.follow(desk, dispatch(desk, ticket_id))
    assert "派单成功" in page
    snap = itsm.snapshot(ticket_id)
    assert snap.current.status == "RUNNING" and snap.current.users == ["eng1"]
    assert "desk 将节点【故障处理】派单给 eng1，备注：请尽快处理" in snap.logs
    assert snap.ticket.sn in eng1.get("/tickets?tab=todo").get_data(as_text=True)
    assert snap.ticket.sn not in eng2.get("/tickets?tab=todo").get_data(as_text=True)

    assert handle(eng1, ticket_id).status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.current.node_key == "confirm" and snap.current.users == ["alice"]

    # not solved: back to handling
    r = alice.post(f"/tickets/{ticket_id}/steps/confirm/transition",
                   data={"confirm-confirm_result": "unsolved", "confirm-confirm_note": "仍有 502"})
    assert r.status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.current.node_key == "handle"
    assert "alice 处理节点【提单人确认】(未解决)" in snap.logs

    # the step is dispatched again by the service desk, then handled and confirmed
    assert snap.current.status == "DISTRIBUTING"
    dispatch(desk, ticket_id)
    assert handle(eng1, ticket_id, cause="慢查询", solution="加索引").status_code == 302
    r = alice.post(f"/tickets/{ticket_id}/steps/confirm/transition",
                   data={"confirm-confirm_result": "solved", "confirm-satisfaction": "5"})
    assert r.status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "FINISHED" and not snap.open_steps
    assert snap.ticket.values["cause"] == "慢查询" and snap.ticket.values["satisfaction"] == "5"
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "已结束" in page and "加索引" in page and "非常满意" in page


def test_dispatch_to_a_general_role_lets_every_member_process(browser, itsm):
    alice, desk, eng2 = browser("alice"), browser("desk"), browser("eng2")
    ticket_id = submit_incident(itsm, alice)
    assert dispatch(desk, ticket_id, target="GENERAL:engineers").status_code == 302
    snap = itsm.snapshot(ticket_id)
    assert snap.current.status == "RUNNING" and sorted(snap.current.users) == ["eng1", "eng2"]
    assert handle(eng2, ticket_id).status_code == 302
    assert itsm.snapshot(ticket_id).current.node_key == "confirm"


def test_dispatch_without_a_target_is_refused(browser, itsm):
    alice, desk = browser("alice"), browser("desk")
    ticket_id = submit_incident(itsm, alice)
    page = itsm.follow(desk, dispatch(desk, ticket_id, target=""))
    assert "处理人类型只能是" in page
    assert itsm.snapshot(ticket_id).current.status == "DISTRIBUTING"


def test_only_the_service_desk_may_dispatch(browser, itsm):
    alice, eng1 = browser("alice"), browser("eng1")
    ticket_id = submit_incident(itsm, alice)
    assert dispatch(alice, ticket_id).status_code == 403
    assert itsm.snapshot(ticket_id).current.status == "DISTRIBUTING"
    assert "派单" not in alice.get(f"/tickets/{ticket_id}").get_data(as_text=True).split("处理日志")[0] \
        .split("流程进度")[1]


def test_uploaded_attachment_is_downloadable_by_people_on_the_ticket_only(browser, itsm, demo):
    alice, desk, eng1, bob = browser("alice"), browser("desk"), browser("eng1"), browser("bob")
    data = incident_data(attachments=(io.BytesIO(b"ERROR 502 upstream"), "err.log"))
    ticket_id = itsm.submit(alice, "incident_handle", data, content_type="multipart/form-data")
    snap = itsm.snapshot(ticket_id)
    (stored,) = snap.ticket.values["attachments"]
    assert stored["name"] == "err.log"
    with demo.app_context():
        row = db.session.get(Attachment, stored["id"])
        assert row.ticket_id == ticket_id and row.uploaded_by == "alice" and row.size == len(b"ERROR 502 upstream")

    url = f"/tickets/attachments/{stored['id']}"
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert url in page and "err.log" in page

    r = alice.get(url)
    assert r.status_code == 200 and r.data == b"ERROR 502 upstream"
    assert "err.log" in r.headers["Content-Disposition"]

    assert bob.get(url).status_code == 403           # not on the ticket
    assert eng1.get(url).status_code == 403          # not yet on the ticket
    dispatch(desk, ticket_id)
    r = eng1.get(url)
    assert r.status_code == 200 and r.data == b"ERROR 502 upstream"
    assert bob.get(url).status_code == 403
    assert alice.get("/tickets/attachments/999999").status_code == 404


def test_executable_upload_is_refused_and_no_ticket_is_created(browser, itsm, demo):
    alice = browser("alice")
    before = itsm.ticket_count()
    data = incident_data(attachments=(io.BytesIO(b"MZ\x90\x00"), "tool.exe"))
    r = itsm.submit(alice, "incident_handle", data, content_type="multipart/form-data", expect_ok=False)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "不允许上传该类型的文件：tool.exe" in page
    assert itsm.ticket_count() == before
    with demo.app_context():
        assert db.session.query(Attachment).count() == 0


def test_processor_transfers_the_step_with_a_message(browser, itsm):
    alice, desk, eng1, eng2 = browser("alice"), browser("desk"), browser("eng1"), browser("eng2")
    ticket_id = submit_incident(itsm, alice)
    dispatch(desk, ticket_id)
    page = eng1.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "转单" in page

    r = eng1.post(f"/tickets/{ticket_id}/steps/handle/deliver", data={"target": "PERSON:eng2", "message": "数据库方向"})
    assert "转单成功" in itsm.follow(eng1, r)
    snap = itsm.snapshot(ticket_id)
    assert snap.current.status == "RUNNING" and snap.current.users == ["eng2"]
    assert "eng1 将节点【故障处理】转单给 eng2，备注：数据库方向" in snap.logs
    assert any(n.kind == "deliver" and n.recipients == ["eng2"] and n.message == "数据库方向"
               for n in snap.notifications)

    # eng1 may still look at the ticket but no longer act
    assert eng1.get(f"/tickets/{ticket_id}").status_code == 200
    assert handle(eng1, ticket_id).status_code == 403
    assert handle(eng2, ticket_id).status_code == 302


def test_transfer_without_a_message_is_refused(browser, itsm):
    alice, desk, eng1 = browser("alice"), browser("desk"), browser("eng1")
    ticket_id = submit_incident(itsm, alice)
    dispatch(desk, ticket_id)
    r = eng1.post(f"/tickets/{ticket_id}/steps/handle/deliver", data={"target": "PERSON:eng2", "message": "  "})
    assert "请输入转单原因" in itsm.follow(eng1, r)
    snap = itsm.snapshot(ticket_id)
    assert snap.current.users == ["eng1"]
    assert not any("转单" in line for line in snap.logs)


def test_satisfaction_is_hidden_when_unsolved(browser, itsm):
    alice, desk, eng1 = browser("alice"), browser("desk"), browser("eng1")
    ticket_id = submit_incident(itsm, alice)
    dispatch(desk, ticket_id)
    handle(eng1, ticket_id)
    alice.post(f"/tickets/{ticket_id}/steps/confirm/transition",
               data={"confirm-confirm_result": "unsolved", "confirm-satisfaction": "1"})
    assert "satisfaction" not in itsm.snapshot(ticket_id).ticket.values


def test_dispatch_to_an_unknown_user_is_refused(browser, itsm):
    alice, desk = browser("alice"), browser("desk")
    ticket_id = submit_incident(itsm, alice)
    page = itsm.follow(desk, dispatch(desk, ticket_id, target="PERSON:nobody"))
    assert "派单成功" not in page
    snap = itsm.snapshot(ticket_id)
    assert snap.current.status == "DISTRIBUTING" and snap.current.users == ["desk"]


def test_a_file_sent_with_a_refused_form_is_kept_for_the_next_submit(browser, itsm, demo):
    alice, desk, eng1, bob = browser("alice"), browser("desk"), browser("eng1"), browser("bob")
    data = incident_data(title="", attachments=(io.BytesIO(b"trace"), "trace.log"))
    r = itsm.submit(alice, "incident_handle", data, content_type="multipart/form-data", expect_ok=False)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    kept = re.search(r'<input class="form-check-input" type="checkbox" name="attachments" value="(\d+)"[^>]*checked>', page)
    assert kept and "trace.log" in page
    assert itsm.ticket_count() == 0

    # someone else cannot use the kept file's id
    r = itsm.submit(bob, "incident_handle", incident_data(attachments=kept.group(1)), expect_ok=False)
    assert r.status_code == 400 and itsm.ticket_count() == 0

    ticket_id = itsm.submit(alice, "incident_handle", incident_data(attachments=kept.group(1)))
    (stored,) = itsm.snapshot(ticket_id).ticket.values["attachments"]
    assert stored == {"id": int(kept.group(1)), "name": "trace.log"}
    dispatch(desk, ticket_id)
    r = eng1.get(f"/tickets/attachments/{stored['id']}")   # on the ticket now, so its processor may read it
    assert r.status_code == 200 and r.data == b"trace"


def test_a_file_sent_without_a_valid_csrf_token_is_not_kept(browser, itsm, demo):
    alice = browser("alice")
    data = incident_data(title="", attachments=(io.BytesIO(b"trace"), "trace.log"), csrf_token="forged")
    r = itsm.submit(alice, "incident_handle", data, content_type="multipart/form-data", expect_ok=False)
    assert r.status_code == 400
    with demo.app_context():
        assert db.session.query(Attachment).count() == 0
