"""Eight approvals at once on a step whose SELECT field takes its options from a configured API, cache cold.

The options come from a small HTTP server in this test (the 主机 list of a pretend CMDB, answering
after a short delay like a real one). The choices cache is cleared before every round, so a round's
first callers fetch the options while they handle the step; that must not let a second caller win.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from race_kit import (
    assert_no_ended_ticket_has_open_steps,
    clear_api_choices_cache,
    facts_of,
    race,
    the_one_winner,
)

from app.extensions import db
from app.models import ApiDef, ApiSystem

ROUNDS = 20
ENTRY_POINTS = pytest.mark.parametrize("entry", ["api", "web"])

REQUESTER, IMPLEMENTER = "race_requester", "race_impl"
APPROVERS = [f"race_approver{i}" for i in range(8)]
HOSTS = [{"ip": f"10.0.0.{i + 1}", "hostname": f"web-{i + 1:02d}"} for i in range(8)]

PICK_HOST = """
key: race_pick_host
name: 并发选择主机
service_type: change
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true}]}
  - key: approve
    name: 选择主机
    kind: manual
    processors: {type: GENERAL, value: [race_approvers]}
    fields:
      - {key: host, name: 主机, type: SELECT, required: true,
         source: {api: race_cmdb.hosts, items: data.hosts, key_field: ip, name_field: hostname}}
  - {key: implement, name: 实施, kind: manual, processors: {type: PERSON, value: [race_impl]}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve, name: 提交}
  - {from: approve, to: implement, name: 确认}
  - {from: implement, to: end, name: 完成}
"""


class HostList:
    """GET /hosts → {"code": 0, "data": {"hosts": HOSTS}} after `delay` seconds; counts the calls."""

    def __init__(self, delay: float = 0.05):
        self.calls = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.calls += 1
                time.sleep(delay)
                body = json.dumps({"code": 0, "data": {"hosts": HOSTS}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="race-cmdb",
                         daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host_service(demo, make_service):
    """The flow above on a service, its `race_cmdb.hosts` API pointing at a HostList server."""
    hosts = HostList()
    with demo.app_context(), db.engine.begin() as conn:      # configuration rows, written as the back office would
        system_id = conn.execute(ApiSystem.__table__.insert().values(
            key="race_cmdb", name="并发测试 CMDB", base_url=hosts.url)).inserted_primary_key[0]
        conn.execute(ApiDef.__table__.insert().values(system_id=system_id, key="hosts", name="主机列表",
                                                      method="GET", path="/hosts"))
    service = make_service(PICK_HOST, roles={"race_approvers": APPROVERS}, users=(REQUESTER, IMPLEMENTER))
    yield service, hosts
    hosts.close()
    clear_api_choices_cache()


@ENTRY_POINTS
def test_eight_concurrent_transitions_with_api_choices_on_a_cold_cache_have_exactly_one_winner(door, demo,
                                                                                                  host_service):
    service, hosts = host_service
    pick_of = {a: h["ip"] for a, h in zip(APPROVERS, HOSTS)}     # each approver picks another host
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"pick a host {n}")
        clear_api_choices_cache()
        fetched_before = hosts.calls

        outcomes = race([door.transition(a, ticket, "approve", {"host": pick_of[a]}) for a in APPROVERS])

        assert hosts.calls > fetched_before, f"round {n}: the options were not fetched: the cache was not cold"
        facts = facts_of(demo, ticket.id)
        winner = the_one_winner(outcomes, n, facts)
        chosen = pick_of[winner.who]
        assert [lg.operator for lg in facts.logs_of("TRANSITION", "approve")] == [winner.who], \
            f"round {n}: expected one submit log line, by {winner.who}:\n{facts}"
        assert facts.values["host"] == chosen and facts.step_at("approve").data == {"host": chosen}, \
            f"round {n}: the ticket should hold the winner's host {chosen}:\n{facts}"
        assert len(facts.steps_at("implement")) == 1, f"round {n}: the next step was not opened exactly once:\n{facts}"
        assert [s.node_key for s in facts.open_steps] == ["implement"], f"round {n}:\n{facts}"
        assert_no_ended_ticket_has_open_steps(demo, n)
