"""Helpers for the browser-level flow tests: submit a ticket, read back its rows."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from app.extensions import db
from app.models import Notification, Service, Ticket, TicketLink, TicketLog, TicketStep


@dataclass
class Snapshot:
    """A ticket as the database holds it, detached from any session."""

    ticket: Ticket
    steps: list[TicketStep]
    logs: list[str]
    notifications: list[Notification] = field(default_factory=list)

    @property
    def open_steps(self) -> list[TicketStep]:
        return [s for s in self.steps if s.is_open]

    @property
    def current(self) -> TicketStep:
        (step,) = self.open_steps
        return step


class Itsm:
    def __init__(self, app):
        self.app = app

    def service_id(self, key: str) -> int:
        with self.app.app_context():
            return db.session.query(Service.id).filter_by(key=key).scalar()

    def submit(self, user, service_key: str, data: dict, *, expect_ok: bool = True, **kw) -> int | object:
        """POST the submit form; return the new ticket id (or the response when `expect_ok` is False)."""
        response = user.post(f"/submit/{self.service_id(service_key)}", data=data, **kw)
        if not expect_ok:
            return response
        assert response.status_code == 302, response.get_data(as_text=True)
        return int(re.search(r"/tickets/(\d+)", response.headers["Location"]).group(1))

    def snapshot(self, ticket_id: int) -> Snapshot:
        with self.app.app_context():
            t = db.session.get(Ticket, ticket_id)
            steps = db.session.query(TicketStep).filter_by(ticket_id=ticket_id).order_by(TicketStep.id).all()
            logs = [l.message for l in
                    db.session.query(TicketLog).filter_by(ticket_id=ticket_id).order_by(TicketLog.id)]
            notes = db.session.query(Notification).filter_by(ticket_id=ticket_id).order_by(Notification.id).all()
            db.session.expunge_all()
            return Snapshot(t, steps, logs, notes)

    def ticket_count(self) -> int:
        with self.app.app_context():
            return db.session.query(Ticket).count()

    def links(self) -> list[tuple[int, int]]:
        with self.app.app_context():
            return [(l.from_ticket_id, l.to_ticket_id) for l in db.session.query(TicketLink)]

    @staticmethod
    def follow(user, response) -> str:
        """The page a POST redirected to, with its flash messages."""
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
        return user.get(response.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def itsm(demo):
    return Itsm(demo)
