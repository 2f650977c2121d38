"""内置审批服务: created by `itsm init`, used by create_ticket with fast_approval, its result and callback."""
from sqlalchemy import select, update

from app.extensions import db
from app.infra.uow import commit
from app.models import ApiApp, Service, TicketCallback


def _fast(api, approvers="leader,cm", **extra):
    return api("create_ticket", creator="alice", fast_approval=True,
               fields=[{"key": "title", "value": "申请生产库只读权限"}, {"key": "APPROVER", "value": approvers},
                       {"key": "APPROVAL_CONTENT", "value": "库 orders，只读，30 天"}], **extra)


def test_init_creates_the_builtin_approval_service_on_its_shipped_flow(api, demo):
    with demo.app_context():
        service = db.session.execute(select(Service).where(Service.key == "builtin_approval")).scalar_one()
        assert service.name == "内置审批服务" and service.flow_version_id
    detail = api("get_service_detail", service_id=service.id)["data"]
    assert [f["key"] for f in detail["fields"]] == ["title", "APPROVER", "APPROVAL_CONTENT"]
    flow = api("get_workflow_detail", workflow_id=detail["workflow_id"])["data"]
    node = next(s for s in flow["states"] if s["type"] == "APPROVAL")
    assert node["name"] == "内置审批节点" and node["processors_type"] == "VARIABLE" and node["processors"] == "APPROVER"


def test_fast_approval_without_a_service_uses_the_builtin_service_and_reports_the_result(api, demo):
    with demo.app_context():      # what an admin sets for ops-portal: callbacks to 127.0.0.1 allowed
        db.session.execute(update(ApiApp).where(ApiApp.app_code == "ops-portal")
                           .values(callback_hosts="127.0.0.1", callback_private=True))
        commit()
    created = _fast(api, meta={"callback_url": "http://127.0.0.1:9/cb"})
    assert created["result"], created
    sn = created["data"]["sn"]
    step = api("get_ticket_info", sn=sn)["data"]["current_steps"][0]
    assert step["name"] == "内置审批节点" and step["processors"] == "leader,cm"
    running = api("ticket_approval_result", sn=[sn])["data"][0]
    assert running["current_status"] == "RUNNING" and running["approve_result"] is False
    assert api("operate_node", sn=sn, operator="cm", state_id=step["state_id"], action_type="TRANSITION",
               fields=[{"key": "approval_result", "value": "true"}, {"key": "approval_remark", "value": "同意"}]
               )["result"] is True
    done = api("ticket_approval_result", sn=[sn])["data"][0]
    assert done["current_status"] == "FINISHED" and done["approve_result"] is True
    with demo.app_context():
        payload = db.session.execute(select(TicketCallback.payload)).scalar_one()
    assert payload["approve_result"] is True and payload["last_approver"] == "cm"


def test_a_rejected_fast_approval_ends_not_approved(api, demo):
    sn = _fast(api, approvers="leader")["data"]["sn"]
    step = api("get_ticket_info", sn=sn)["data"]["current_steps"][0]
    api("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
        fields=[{"key": "approval_result", "value": "false"}, {"key": "approval_remark", "value": "权限过大"}])
    result = api("ticket_approval_result", sn=[sn])["data"][0]
    assert result["current_status"] == "FINISHED" and result["approve_result"] is False


def test_fast_approval_without_approvers_is_refused(api, demo):
    created = api("create_ticket", creator="alice", fast_approval=True, fields=[{"key": "title", "value": "x"}])
    assert created["code"] == 3900003 and "APPROVER" in created["message"], created


def test_without_service_id_and_fast_approval_the_service_is_still_required(api, demo):
    created = api("create_ticket", creator="alice", fields=[{"key": "title", "value": "x"}])
    assert created["code"] == 3900003 and created["message"].endswith("服务不存在，请联系管理员！"), created
