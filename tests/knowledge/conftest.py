"""Knowledge-base fixtures: articles written through the service, finished incidents made through the ticket services."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.infra.uow import commit
from app.models import Service
from app.services.knowledge import articles as kb
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket, operate_step

INCIDENT_FIELDS = {"title": "打印机无法连接", "event_type": "fault", "event_source": "monitor", "impact": "high",
                   "urgency": "high", "occurred_at": "2030-01-05 09:30:00", "description": "三楼打印机脱机，无法打印"}


@pytest.fixture
def write(demo):
    """`write("alice", title, body, category=None, tags="")`: an article saved by the service; returns its id."""

    def make(username: str, title: str, body: str, *, category: int | None = None, tags: str = "") -> int:
        with demo.app_context():
            article = kb.save_article(find_user(username), title=title, body=body, category_id=category, tags=tags)
            commit()
            return article.id

    return make


@pytest.fixture
def category(demo):
    """`category("网络", parent=None)`: a knowledge category made by the admin; returns its id."""

    def make(name: str, parent: int | None = None) -> int:
        with demo.app_context():
            c = kb.create_category(find_user("admin"), name, parent)
            commit()
            return c.id

    return make


@pytest.fixture
def incident(demo):
    """`incident(finish=True)`: an incident by alice, dispatched to eng1, handled, and (if `finish`) confirmed."""

    def make(*, finish: bool = True, **fields) -> int:
        with demo.app_context():
            service_id = db.session.query(Service.id).filter_by(key="incident_handle").scalar()
            alice, desk, eng1 = find_user("alice"), find_user("desk"), find_user("eng1")
            ticket = create_ticket(service_id=service_id, creator=alice, fields={**INCIDENT_FIELDS, **fields})
            ticket_id = ticket.id
            operate_step(ticket_id, desk, "DISTRIBUTE", "handle", processors_type="PERSON", processors="eng1")
            operate_step(ticket_id, eng1, "TRANSITION", "handle",
                         fields={"cause": "打印机 IP 地址冲突", "solution": "为打印机保留固定 IP 并重启"})
            if finish:
                operate_step(ticket_id, alice, "TRANSITION", "confirm",
                             fields={"confirm_result": "solved", "satisfaction": "5"})
            commit()
            return ticket_id

    return make
