"""A fake external API on 127.0.0.1 and a flow with an api node and an automation node."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.extensions import db
from app.infra.uow import commit
from app.models import ApiDef, ApiSystem

FLOW = """
key: auto_account
name: 自动开通账号
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: username, name: 账号, type: STRING, required: true}
  - key: create
    name: 创建账号
    kind: api
    api: idm.create_account
    processors: {type: GENERAL, value: [it_ops]}
    retry: {times: 2, backoff_seconds: 30}
    params:
      timeout: 0.5
      request: {user: "{{ fields.username }}", sn: "{{ ticket.sn }}"}
      response: {account_id: data.id}
      success: {field: code, op: "==", value: 0}
    fields:
      - {key: account_id, name: 账号 ID, type: STRING}
  - key: note
    name: 记录结果
    kind: automation
    plugin: set_fields
    params:
      fields: {result_note: "账号 {{ fields.account_id }} 已为 {{ ticket.creator }} 创建"}
    fields:
      - {key: result_note, name: 结果, type: TEXT}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: create}
  - {from: create, to: note}
  - {from: note, to: end}
"""


class FakeApi:
    """Answers per `mode`: ok, error, http500, slow, malformed, hang; records every request body."""

    def __init__(self):
        self.mode = "ok"
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with api.lock:
                    api.calls.append(body)
                mode = api.mode
                if mode in ("slow", "hang"):
                    time.sleep(2 if mode == "slow" else 30)
                if mode == "http500":
                    return self._send(500, b'{"code": 500}')
                if mode == "malformed":
                    return self._send(200, b"<html>oops</html>")
                if mode == "error":
                    return self._send(200, json.dumps({"code": 1, "message": "账号已存在"}).encode())
                return self._send(200, json.dumps({"code": 0, "data": {"id": f"ID-{body.get('user')}"}}).encode())

            def _send(self, status, payload):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_api():
    api = FakeApi()
    yield api
    api.close()


@pytest.fixture
def auto_service(app, demo, make_service, fake_api):
    """The auto_account service, its API pointing at the fake server; returns the service id."""
    with app.app_context():
        system = ApiSystem(key="idm", name="身份管理", base_url=fake_api.url, auth_headers={"Authorization": "Bearer s3cr3t-token"})
        db.session.add(system)
        db.session.flush()
        db.session.add(ApiDef(system_id=system.id, key="create_account", name="创建账号", method="POST",
                              path="/accounts"))
        commit()
    return make_service(FLOW)
