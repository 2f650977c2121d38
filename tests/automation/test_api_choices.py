"""A SELECT field whose options come from a configured API: listed, cached, and a clear message when it is down."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.extensions import db
from app.infra.uow import commit
from app.models import ApiCallLog, ApiDef, ApiSystem
from app.services.fields.api_choices import clear_cache

FLOW = """
key: pick_host
name: 选择主机
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: host, name: 主机, type: SELECT, required: true,
         source: {api: cmdb.hosts, items: data.hosts, key_field: ip, name_field: hostname}}
  - key: check
    name: 确认
    kind: manual
    processors: {type: STARTER}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: check}
  - {from: check, to: end}
"""


class Hosts(BaseHTTPRequestHandler):
    calls = 0
    down = False

    def do_GET(self):  # noqa: N802
        Hosts.calls += 1
        if Hosts.down:
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps({"code": 0, "data": {"hosts": [{"ip": "10.0.0.1", "hostname": "web-01"},
                                                         {"ip": "10.0.0.2", "hostname": "db-01"}]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def host_service(app, demo, make_service):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hosts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hosts.calls, Hosts.down = 0, False
    clear_cache()
    with app.app_context():
        system = ApiSystem(key="cmdb", name="CMDB", base_url=f"http://127.0.0.1:{server.server_port}")
        db.session.add(system)
        db.session.flush()
        db.session.add(ApiDef(system_id=system.id, key="hosts", name="主机列表", method="GET", path="/hosts"))
        commit()
    yield make_service(FLOW)
    server.shutdown()
    server.server_close()
    clear_cache()


def test_options_come_from_the_api_and_are_cached(app, host_service, browser):
    alice = browser("alice")
    page = alice.get(f"/submit/{host_service}").get_data(as_text=True)
    assert "web-01" in page and 'value="10.0.0.2"' in page
    alice.get(f"/submit/{host_service}")
    assert Hosts.calls == 1                                      # cached
    response = alice.post(f"/submit/{host_service}", data={"title": "扩容", "host": "10.0.0.9"})
    assert response.status_code == 400 and "【主机】选项不匹配，请重新选择" in response.get_data(as_text=True)
    assert alice.post(f"/submit/{host_service}", data={"title": "扩容", "host": "10.0.0.1"}).status_code == 302
    with app.app_context():
        assert db.session.query(ApiCallLog).filter_by(ok=True).count() == 1


def test_api_down_shows_a_clear_message_in_the_form(app, host_service, browser):
    Hosts.down = True
    page = browser("alice").get(f"/submit/{host_service}").get_data(as_text=True)
    assert "【主机】的选项暂时无法从接口获取" in page and "HTTP 503" in page
    with app.app_context():
        assert db.session.query(ApiCallLog).filter_by(ok=False).count() == 1
