"""The built-in `http_webhook` automation plugin: what it sends (BlueKing WEBHOOK nodes import into it)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.integrations.plugins import http_webhook


@pytest.fixture
def server():
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
            seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
            data = json.dumps({"data": {"code": 0, "id": 7}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", seen
    httpd.shutdown()
    httpd.server_close()


def test_headers_query_body_and_the_success_rule_are_sent_and_checked(server):
    base, seen = server
    result = http_webhook({"url": f"{base}/hook?a=1", "query": {"sn": "REQ1", "n": 2},
                           "headers": {"X-Bkapi-Authorization": '{"bk_app_code": "bscp"}', "X-Bkapi-User-Name": "admin"},
                           "body": {"publish_status": "pending_publish"},
                           "success": {"field": "data.code", "op": "==", "value": 0},
                           "response": {"remote_id": "data.id"}}, {})
    assert result.ok and result.values == {"remote_id": 7}
    [call] = seen
    assert call["path"] == "/hook?a=1&sn=REQ1&n=2"
    assert call["headers"]["X-Bkapi-Authorization"] == '{"bk_app_code": "bscp"}'
    assert call["headers"]["X-Bkapi-User-Name"] == "admin" and call["headers"]["Content-Type"] == "application/json"
    assert call["body"] == {"publish_status": "pending_publish"}


def test_an_answer_failing_the_success_rule_is_a_failure(server):
    base, _ = server
    result = http_webhook({"url": f"{base}/hook", "success": {"field": "data.code", "op": "==", "value": 1}}, {})
    assert not result.ok and result.error == "响应不满足成功条件"


def test_headers_that_are_not_a_mapping_are_refused_before_sending(server):
    base, seen = server
    result = http_webhook({"url": f"{base}/hook", "headers": ["X-A: 1"]}, {})
    assert not result.ok and "headers" in result.error and seen == []
