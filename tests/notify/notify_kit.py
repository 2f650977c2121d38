"""Fakes for the notification tests: a real SMTP server (aiosmtpd), an HTTP receiver, a scheduler worker."""
from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def notification_id(self) -> int:
        return int(self.message["X-ITSM-Notification"])

    def part(self, subtype: str) -> str:
        return self.message.get_body(preferencelist=(subtype,)).get_content()


@dataclass
class SmtpSink:
    """aiosmtpd handler: keeps every message; `refuse` makes it answer DATA with that SMTP error."""

    mails: list[Mail] = field(default_factory=list)
    refuse: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self.sink = SmtpSink()
        self.port = free_port()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def mails(self) -> list[Mail]:
        return list(self.sink.mails)


@dataclass
class Hit:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class HttpReceiver:
    """A local HTTP server on 127.0.0.1 that records POSTs and answers `status` with `reply` (JSON)."""

    def __init__(self):
        self.hits: list[Hit] = []
        self.status, self.reply, self.delay = 200, {"errcode": 0, "errmsg": "ok"}, 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.hits.append(Hit(self.path, dict(self.headers), body))
                if receiver.delay:
                    time.sleep(receiver.delay)
                data = json.dumps(receiver.reply).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class BlackHole:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (an SMTP server that hangs)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        for conn in self.held:
            conn.close()


def scheduler_worker(database_url: str, start, rounds: int, results) -> None:
    """A scheduler process (spawned): its own app on the test database, the send job run up to `rounds` times."""
    from app import create_app
    from app.jobs import JOBS, run_job, worker_id

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "SERVER_NAME": "itsm.test"})
    job = next(j for j in JOBS if j.id == "send_notifications")
    start.wait(60)
    attempted, idle = 0, 0
    for _ in range(rounds):
        count = run_job(app, job) or 0
        attempted += count
        idle = 0 if count else idle + 1
        if idle >= 3:
            break
        if not count:
            time.sleep(0.2)
    results.put((worker_id(), attempted))
