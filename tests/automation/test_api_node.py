"""api and automation nodes run by the scheduler's job: success, failures, retries, retry/skip by people."""
from sqlalchemy import update

from app.extensions import db
from app.infra.uow import commit, unit_of_work
from app.jobs import run_automatic_steps as run_due_automatic_steps
from app.models import ApiCallLog, AutomaticRun, Ticket, TicketLog, TicketStep
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket, operate_step
from app.timeutil import utcnow


def _create(app, service_id, username="alice.crm"):
    with app.app_context():
        with unit_of_work():
            ticket = create_ticket(service_id=service_id, creator=find_user("alice"),
                                   fields={"title": "开通账号", "username": username})
            return ticket.id


def _tick(app, worker="w1"):
    with app.app_context():
        return run_due_automatic_steps(worker)


def _due_now(app):
    """Skip the backoff wait: make every pending run due now."""
    with app.app_context():
        db.session.execute(update(AutomaticRun).values(next_attempt_at=utcnow()))
        commit()


def _state(app, ticket_id):
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        steps = db.session.query(TicketStep).filter_by(ticket_id=ticket_id).order_by(TicketStep.id).all()
        logs = [l.message for l in db.session.query(TicketLog).filter_by(ticket_id=ticket_id).order_by(TicketLog.id)]
        runs = db.session.query(AutomaticRun).filter_by(ticket_id=ticket_id).order_by(AutomaticRun.id).all()
        calls = db.session.query(ApiCallLog).filter_by(ticket_id=ticket_id).all()
        db.session.expunge_all()
        return ticket, steps, logs, runs, calls


def test_api_node_success_maps_the_response_and_the_plugin_runs_next(app, auto_service, fake_api):
    ticket_id = _create(app, auto_service)
    ticket, steps, *_ = _state(app, ticket_id)
    assert steps[-1].node_key == "create" and steps[-1].status == "RUNNING"     # waits for the scheduler
    assert _tick(app) == 1                                                      # the api node
    assert fake_api.calls == [{"user": "alice.crm", "sn": ticket.sn}]
    assert _tick(app) == 1                                                      # the automation node
    ticket, steps, logs, runs, calls = _state(app, ticket_id)
    assert ticket.status == "FINISHED"
    assert ticket.values["account_id"] == "ID-alice.crm"
    assert ticket.values["result_note"] == "账号 ID-alice.crm 已为 alice 创建"
    assert "系统执行节点【创建账号】成功(完成)" in logs and "系统执行节点【记录结果】成功(完成)" in logs
    assert [r.status for r in runs] == ["DONE", "DONE"]
    (call,) = calls
    assert call.ok and call.status_code == 200 and "s3cr3t" not in str(call.request_headers) + call.request_body


def _fails_then_is_retried(app, auto_service, fake_api, mode, error_part):
    fake_api.mode = mode
    ticket_id = _create(app, auto_service)
    _tick(app)
    ticket, steps, logs, runs, calls = _state(app, ticket_id)
    assert steps[-1].status == "RUNNING" and runs[0].attempts == 1 and runs[0].status == "PENDING"
    assert "节点【创建账号】执行失败，30 秒后自动重试。" in logs, logs
    assert not any(error_part in m for m in logs), logs      # the detail is the run's and the admins', not the log's
    assert _tick(app) == 0                       # not due before its backoff
    _due_now(app)
    _tick(app)                                   # second failure: 60 s backoff
    _due_now(app)
    _tick(app)                                   # third failure: out of retries
    ticket, steps, logs, runs, calls = _state(app, ticket_id)
    assert steps[-1].status == "FAILED" and runs[0].status == "FAILED" and runs[0].attempts == 3
    assert error_part in runs[0].last_error and "节点【创建账号】执行失败，已通知处理人重试或跳过。" in logs
    assert ticket.status == "RUNNING"
    # three attempts, each logged; what the server saw and answered depends on the mode
    reached, http_ok, status_code = EXPECTED_ATTEMPTS[mode]
    assert [(c.ok, c.status_code) for c in calls] == [(http_ok, status_code)] * 3
    assert len(fake_api.calls) == (3 if reached else 0)
    return ticket_id


# mode -> (did the request reach the server, the call log's HTTP-level ok, its status) for each attempt
EXPECTED_ATTEMPTS = {
    "error": (True, True, 200),        # answered 200, but the business code says no
    "http500": (True, False, 500),
    "malformed": (True, False, 200),   # answered 200, but a body that is not JSON is no success
    "slow": (True, False, None),       # reached, cut off by the deadline before any status
    "refused": (False, False, None),   # nobody listening: no request ever arrived
}


def test_business_error_code_fails_with_retries(app, auto_service, fake_api):
    _fails_then_is_retried(app, auto_service, fake_api, "error", "响应不满足成功条件")


def test_http_500_fails_with_retries(app, auto_service, fake_api):
    _fails_then_is_retried(app, auto_service, fake_api, "http500", "HTTP 500")


def test_timeout_fails_with_retries(app, auto_service, fake_api):
    _fails_then_is_retried(app, auto_service, fake_api, "slow", "请求超时")


def test_malformed_json_fails_with_retries(app, auto_service, fake_api):
    _fails_then_is_retried(app, auto_service, fake_api, "malformed", "不是合法的 JSON")


def test_connection_refused_fails_with_retries(app, auto_service, fake_api):
    fake_api.close()                             # nobody listens on that port any more
    _fails_then_is_retried(app, auto_service, fake_api, "refused", "无法连接")


def test_processor_retries_a_failed_step_and_it_succeeds(app, auto_service, fake_api):
    ticket_id = _fails_then_is_retried(app, auto_service, fake_api, "error", "响应不满足成功条件")
    fake_api.mode = "ok"
    with app.app_context():
        with unit_of_work():
            operate_step(ticket_id, find_user("ops1"), "RETRY", "create")
    ticket, steps, logs, runs, _ = _state(app, ticket_id)
    assert steps[-1].status == "RUNNING" and runs[0].status == "PENDING" and runs[0].attempts == 0
    assert "ops1 重试了节点【创建账号】" in logs
    _tick(app)
    _tick(app)
    assert _state(app, ticket_id)[0].status == "FINISHED"


def test_admin_skips_a_failed_step(app, auto_service, fake_api):
    ticket_id = _fails_then_is_retried(app, auto_service, fake_api, "error", "响应不满足成功条件")
    with app.app_context():
        with unit_of_work():
            operate_step(ticket_id, find_user("admin"), "SKIP", "create", message="手工开通了")
    ticket, steps, logs, runs, _ = _state(app, ticket_id)
    assert steps[-1].node_key == "note" and "admin（超级管理员特殊处理） 跳过了执行失败的节点【创建账号】，备注：手工开通了" in logs
    assert runs[0].status == "SKIPPED"


def test_someone_else_cannot_retry_or_skip(app, auto_service, fake_api, browser):
    ticket_id = _fails_then_is_retried(app, auto_service, fake_api, "error", "响应不满足成功条件")
    bob = browser("bob")
    response = browser("ops1").get(f"/tickets/{ticket_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[page.find("<main"):][:800]
    assert "重试" in page and "跳过" in page and "响应不满足成功条件" in page
    assert bob.post(f"/tickets/{ticket_id}/steps/create/retry").status_code in (302, 403)
    assert _state(app, ticket_id)[1][-1].status == "FAILED"


def test_suspended_ticket_waits_and_resumed_ticket_runs(app, auto_service, fake_api):
    ticket_id = _create(app, auto_service)
    with app.app_context():
        with unit_of_work():
            from app.services.tickets.operations import operate_ticket

            operate_ticket(ticket_id, find_user("admin"), "SUSPEND", message="等待窗口")
    _tick(app)
    assert fake_api.calls == [] and _state(app, ticket_id)[0].status == "SUSPENDED"
    with app.app_context():
        with unit_of_work():
            from app.services.tickets.operations import operate_ticket

            operate_ticket(ticket_id, find_user("admin"), "UNSUSPEND")
    _due_now(app)
    _tick(app)
    _tick(app)
    assert _state(app, ticket_id)[0].status == "FINISHED"


def test_terminated_ticket_cancels_its_pending_run(app, auto_service, fake_api):
    ticket_id = _create(app, auto_service)
    with app.app_context():
        with unit_of_work():
            from app.services.tickets.operations import operate_ticket

            operate_ticket(ticket_id, find_user("admin"), "TERMINATE", message="不需要了")
    assert _tick(app) == 0 and fake_api.calls == []
    assert _state(app, ticket_id)[3][0].status == "CANCELLED"


def test_a_result_arriving_after_the_ticket_was_terminated_is_not_applied(app, auto_service, fake_api, monkeypatch):
    """The scheduler's refusal changes nothing: the call runs with no lock held, the ticket ends meanwhile."""
    from app.services import automation
    from app.services.tickets.operations import operate_ticket

    ticket_id = _create(app, auto_service)
    real = automation.execute_run

    def call_then_someone_terminates(plan):
        execution = real(plan)
        with unit_of_work():                     # a person acts while the result is on its way back
            operate_ticket(ticket_id, find_user("admin"), "TERMINATE", message="不需要了")
        return execution

    monkeypatch.setattr(automation, "execute_run", call_then_someone_terminates)
    assert _tick(app) == 1 and len(fake_api.calls) == 1
    ticket, steps, logs, runs, calls = _state(app, ticket_id)
    assert ticket.status == "TERMINATED" and ticket.values.get("account_id") is None
    assert not any("成功" in m for m in logs) and [s.status for s in steps if s.node_key == "note"] == []
    assert runs[0].status == "CANCELLED"                 # terminating cancelled it; the late result changes nothing
    assert len(calls) == 1                       # the call itself is still logged


def test_a_result_arriving_while_the_ticket_is_suspended_is_not_applied_and_the_step_runs_after_resume(
        app, auto_service, fake_api, monkeypatch):
    from app.services import automation
    from app.services.tickets.operations import operate_ticket

    ticket_id = _create(app, auto_service)
    real = automation.execute_run

    def call_then_someone_suspends(plan):
        execution = real(plan)
        with unit_of_work():
            operate_ticket(ticket_id, find_user("admin"), "SUSPEND", message="等待窗口")
        return execution

    monkeypatch.setattr(automation, "execute_run", call_then_someone_suspends)
    _tick(app)
    ticket, steps, logs, runs, _ = _state(app, ticket_id)
    assert ticket.status == "SUSPENDED" and ticket.values.get("account_id") is None
    assert not any("成功" in m for m in logs), logs
    monkeypatch.setattr(automation, "execute_run", real)
    with app.app_context():
        with unit_of_work():
            operate_ticket(ticket_id, find_user("admin"), "UNSUSPEND")
    _due_now(app)
    _tick(app)
    _tick(app)
    ticket, steps, logs, runs, _ = _state(app, ticket_id)
    assert ticket.status == "FINISHED", (logs, [(r.status, r.last_error) for r in runs])


# A failed API step tells the requester a sentence; the detail is for admins and processors (issue 17.7)
TECHNICAL = ("HTTP 500", "{", "result", "Traceback")


def test_requester_sees_a_sentence_and_admin_sees_the_detail(app, auto_service, fake_api, browser):
    ticket_id = _fails_then_is_retried(app, auto_service, fake_api, "http500", "HTTP 500")
    alice = browser("alice")
    workbench = alice.get("/").get_data(as_text=True)
    activity = workbench.split('id="activity"', 1)[1]
    assert "节点【创建账号】执行失败，已通知处理人重试或跳过。" in activity
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    error_box = page.split('id="step-error"', 1)[1].split("</div>", 1)[0]
    assert "自动执行失败，处理人会重试或跳过这一步。" in error_box
    assert not any(word in error_box for word in TECHNICAL), error_box
    assert "HTTP 500" not in page
    admin_page = browser("admin").get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "HTTP 500" in admin_page.split('id="step-error"', 1)[1].split("</div>", 1)[0]


def test_retry_from_the_page_says_it_was_queued_not_that_it_succeeded(app, auto_service, fake_api, browser):
    ticket_id = _fails_then_is_retried(app, auto_service, fake_api, "http500", "HTTP 500")
    admin = browser("admin")
    page = admin.get(admin.post(f"/tickets/{ticket_id}/steps/create/retry").headers["Location"]).get_data(as_text=True)
    assert "已重新排队，系统稍后会自动重新执行这一步" in page and "重试成功" not in page
