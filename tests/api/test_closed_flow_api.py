"""create_ticket on a service whose flow template is closed (关闭) is refused with the reason; nothing is created."""
from __future__ import annotations

import json

from app.extensions import db
from app.infra.uow import commit
from app.models import Flow, Service, Ticket

CLOSED_MESSAGE = "使用的流程「账号开通」已被管理员关闭，暂时不能提单"


def test_a_closed_flow_refuses_create_ticket_through_the_api(api, demo):
    with demo.app_context():
        service_id = db.session.query(Service.id).filter_by(key="account_apply").scalar()
        db.session.query(Flow).filter_by(key="account_apply").update({"status": "CLOSED"})
        commit()
    body = api("create_ticket", service_id=service_id, creator="alice",
               fields=[{"key": "title", "value": "开通账号"}])
    assert body["result"] is False and CLOSED_MESSAGE in body["message"], json.dumps(body, ensure_ascii=False)
    with demo.app_context():
        assert db.session.query(Ticket).count() == 0
