"""MEMBER / MEMBERS fields and the dispatch dialog list only the users they hold: the picker searches the others on
the server, so the pages neither grow nor run more statements as the directory grows (500 users here)."""
import re

import pytest

from app.extensions import db
from app.infra.uow import commit
from app.models import User
from tests.statement_counter import StatementCounter

FLOW = """
key: people_at_scale
name: 选人
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: owner, name: 负责人, type: MEMBER, required: true}
      - {key: watchers, name: 关注人, type: MEMBERS}
  - key: review
    name: 审核
    kind: manual
    processors: {type: PERSON, value: [alice]}
    fields:
      - {key: reviewer, name: 复核人, type: MEMBER}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: review}
  - {from: review, to: end}
"""


def add_users(app, count):
    with app.app_context():
        db.session.add_all([User(username=f"user{i:03d}", display_name=f"员工{i:03d}") for i in range(count)])
        commit()


def measure(app, client, url):
    """(statements run, page size in bytes) of one GET."""
    with app.app_context():
        engine = db.engine
    with StatementCounter(engine) as counter:
        response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    page = re.sub(r'name="csrf_token"[^>]*>', "", page)       # the token differs per page
    return counter.count, len(page.encode())


@pytest.fixture
def people_service(make_service, demo):
    return make_service(FLOW, users=("alice",))


def test_forms_and_dispatch_do_not_grow_with_the_directory(demo, browser, people_service):
    alice = browser("alice")
    response = alice.post(f"/submit/{people_service}", data={"title": "选人", "owner": "alice"})
    assert response.status_code == 302
    ticket_url = response.headers["Location"].split("?")[0]
    alice.get(ticket_url)                                      # shows (and clears) the flash
    submit_url = f"/submit/{people_service}"
    before = measure(demo, alice.client, submit_url), measure(demo, alice.client, ticket_url)
    add_users(demo, 500)
    after = measure(demo, alice.client, submit_url), measure(demo, alice.client, ticket_url)
    assert after == before
    page = alice.get(submit_url).get_data(as_text=True)
    assert 'value="user000"' not in page and 'value="user499"' not in page


def test_a_member_field_shows_the_users_it_holds_and_refuses_unknown_ones(demo, browser, people_service):
    add_users(demo, 500)
    alice = browser("alice")
    # a failed submit re-renders the chosen people, and only them
    response = alice.post(f"/submit/{people_service}", data={"title": "", "owner": "user042",
                                                              "watchers": ["user007", "user499"]})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    owner = page.split('name="owner"')[1].split("</select>")[0]
    watchers = page.split('name="watchers"')[1].split("</select>")[0]
    assert re.findall(r'<option[^>]*value="(\w*)"', owner) == ["", "user042"]
    assert 'selected value="user042"' in owner or 'value="user042" selected' in owner
    assert re.findall(r'<option[^>]*value="(\w+)"', watchers) == ["user007", "user499"]
    assert "user042(员工042)" in owner
    # a user who is not there is refused with the field's message, and nothing is created
    response = alice.post(f"/submit/{people_service}", data={"title": "x", "owner": "nobody"})
    assert response.status_code == 400
    assert "【负责人】" in response.get_data(as_text=True)
    response = alice.post(f"/submit/{people_service}", data={"title": "x", "owner": "user042",
                                                              "watchers": ["user007", "user499"]})
    assert response.status_code == 302
    page = alice.get(response.headers["Location"].split("?")[0]).get_data(as_text=True)
    assert "员工042" in page and "员工499" in page          # shown by display name on the ticket
