"""get_ticket_info and get_ticket_status carry the ticket's priority and service level (extra keys, docs/api.md)."""
from app.infra.uow import commit
from app.services.people.users import find_user
from app.services.tickets import create_ticket, get_ticket


def _incident(demo, **values):
    from app.models import Service

    with demo.app_context():
        service = Service.query.filter_by(key="incident_handle").one()
        ticket = create_ticket(service_id=service.id, creator=find_user("alice"), fields={
            "title": "订单服务 502", "event_type": "fault", "event_source": "monitor", "impact": "high",
            "urgency": "medium", "occurred_at": "2030-01-05 09:30", "description": "502", **values})
        commit()
        return get_ticket(ticket.id).sn


def test_ticket_info_and_status_carry_priority_and_clocks(api, demo):
    sn = _incident(demo)
    info = api("get_ticket_info", sn=sn)["data"]
    assert info["priority"] == "P2"
    assert info["sla"]["agreement"] == "incident_24x7" and info["sla"]["priority"] == "P2"
    clocks = {c["clock"]: c for c in info["sla"]["clocks"]}
    assert clocks["response"]["state"] == "running" and clocks["response"]["target_seconds"] == 1800
    assert clocks["resolution"]["target_seconds"] == 8 * 3600 and clocks["resolution"]["pauses"] == []
    status = api("get_ticket_status", sn=sn)["data"]
    assert status["priority"] == "P2"
    moving = {"elapsed_seconds", "left_seconds"}            # the clock runs between the two calls
    same = [{k: v for k, v in c.items() if k not in moving} for c in status["sla"]["clocks"]]
    assert same == [{k: v for k, v in c.items() if k not in moving} for c in info["sla"]["clocks"]]


def test_a_ticket_without_agreement_has_null_sla(api, demo):
    from app.models import Service

    with demo.app_context():
        service = Service.query.filter_by(key="problem_manage").one()
        sid = service.id
    result = api("create_ticket", service_id=sid, creator="alice", fields=[
        {"key": "title", "value": "偶发 502"}, {"key": "impact", "value": "low"},
        {"key": "description", "value": "x"}])
    assert result["result"], result
    info = api("get_ticket_info", sn=result["data"]["sn"])["data"]
    assert info["sla"] is None
