"""Tickets created at the same moment through the API or the submit form get distinct numbers, with no gaps.

Eight requesters submit at once (released by one barrier), 10 rounds, on both databases: every
submission succeeds, the eight numbers are distinct, and the day's counter runs on without a gap.
"""
import re
from urllib.parse import urlsplit

import pytest
import requests
from race_kit import TIMEOUT, Call, Outcome, describe, race

from app.extensions import db
from app.models import Ticket

ROUNDS, CALLERS = 10, 8
REQUESTERS = [f"race_requester{i}" for i in range(CALLERS)]
FLOW = """
key: race_numbers
name: 并发提单
service_type: incident
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true}]}
  - {key: handle, name: 处理, kind: manual, processors: {type: PERSON, value: [race_requester0]}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: end}
"""


def _api_create(api_client, service_id: int, who: str, title: str) -> Call:
    def fn(session: requests.Session) -> Outcome:
        response = api_client.post(session, "create_ticket", who, creator=who, service_id=service_id,
                                   fields=[{"key": "title", "value": title}])
        body = response.json()
        return Outcome(who, "CREATE", ok=body.get("result") is True, status=body.get("code"),
                       detail=str((body.get("data") or {}).get("sn") or body.get("message")))
    return Call(who, "CREATE", fn)


def _web_create(door, service_id: int, who: str, title: str) -> Call:
    user = door.user(who)                   # logged in before the race

    def fn(session: requests.Session) -> Outcome:
        session.cookies.update(user.cookies)
        response = session.post(f"{door.base_url}/submit/{service_id}", allow_redirects=False, timeout=TIMEOUT,
                                data={"title": title, "csrf_token": user.csrf_token})
        where = urlsplit(response.headers.get("Location", "")).path
        return Outcome(who, "CREATE", ok=response.status_code == 302 and bool(re.fullmatch(r"/tickets/\d+", where)),
                       status=response.status_code, detail=where or response.text[:200])
    return Call(who, "CREATE", fn)


@pytest.mark.parametrize("entry", ["api", "web"])
def test_eight_tickets_submitted_at_once_get_eight_distinct_numbers_with_no_gap(door, demo, make_service, entry):
    service = make_service(FLOW, users=tuple(REQUESTERS))
    make = _api_create if entry == "api" else _web_create
    target = door.api if entry == "api" else door
    for n in range(ROUNDS):
        outcomes = race([make(target, service, who, f"round {n} by {who}") for who in REQUESTERS])
        assert all(o.ok for o in outcomes), f"round {n}: every submission should succeed:{describe(outcomes)}"
    with demo.app_context():
        numbers = [sn for (sn,) in db.session.query(Ticket.sn).filter(Ticket.service_id == service)]
        db.session.remove()
    assert len(numbers) == ROUNDS * CALLERS and len(set(numbers)) == len(numbers), sorted(numbers)
    counters = sorted(int(sn[-6:]) for sn in numbers)
    assert counters == list(range(counters[0], counters[0] + len(counters))), counters    # no gap, no repeat
