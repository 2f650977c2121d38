"""Misbehaving (and one well-behaved) HTTP servers on 127.0.0.1, for tests of outbound calls.

Each helper is a context manager that starts the server in daemon threads, yields its base URL
(`http://127.0.0.1:PORT`, or `https://` when given `tls=(certfile, keyfile)`) and stops it at exit:
open connections are closed and every trickling loop ends.

    with hanging_server() as url:                 # accepts, then never reads nor answers
    with trickling_headers_server() as url:       # status line and headers, one byte every 0.2 s, forever
    with trickling_body_server() as url:          # full headers, then the body one byte every 0.2 s, forever
    with big_body_server(50 * MiB) as url:        # a 50 MB body (streamed from a small buffer)
    with json_server({"ok": 1}, record=hits) as url:        # a normal JSON answer; appends a Hit per request
    with redirect_server(url + "/landing") as url:          # 302 to the given location

Plain sockets only (no framework), so a test can point a callback, an API node or a
notification channel at any of them.
"""
from __future__ import annotations

import json as jsonlib
import socket
import ssl
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
BLOCK = 64 * 1024


@dataclass
class Hit:
    """One request a server received."""

    method: str
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return jsonlib.loads(self.body)


Handler = Callable[[socket.socket, threading.Event], None]


class TcpServer:
    """Accepts connections on 127.0.0.1 and runs `handler(conn, stop)` for each one in a daemon thread."""

    def __init__(self, handler: Handler, tls: tuple[str, str] | None = None):
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.listener.settimeout(0.05)
        self.context = None
        if tls:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(*tls)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stop = threading.Event()
        self.conns: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.acceptor = threading.Thread(target=self._accept, name="slow-server-accept", daemon=True)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            thread = threading.Thread(target=self._serve, args=(conn,), name="slow-server-conn", daemon=True)
            with self.lock:
                self.conns.append(conn)
                self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.context is not None:
                conn.settimeout(10)
                conn = self.context.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
                with self.lock:
                    self.conns.append(conn)
            self.handler(conn, self.stop)
        except (OSError, ssl.SSLError, ValueError):
            pass                        # the client went away (that is what the tests provoke)
        finally:
            conn.close()

    def __enter__(self) -> str:
        self.acceptor.start()
        return self.url

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.acceptor.join(5)
        self.listener.close()
        with self.lock:
            conns, threads = list(self.conns), list(self.threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(5)
        for conn in conns:
            conn.close()


def read_request(conn: socket.socket) -> Hit:
    """Read one HTTP/1.1 request (headers, and a Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("client closed before sending a request")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Hit(method, path, headers, body)


def respond(conn: socket.socket, status: str, body: bytes = b"", headers: dict | None = None) -> None:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def _trickle(conn: socket.socket, stop: threading.Event, data: Iterator[int], interval: float) -> None:
    for byte in data:
        if stop.wait(interval):
            return
        conn.sendall(bytes([byte]))


def _forever(prefix: bytes, repeat: bytes) -> Iterator[int]:
    yield from prefix
    while True:
        yield from repeat


# -- the helpers ---------------------------------------------------------------------------------------------


@contextmanager
def hanging_server(*, tls: tuple[str, str] | None = None) -> Iterator[str]:
    """Accepts connections, then never reads nor answers (a request body fills the socket buffers and blocks).

    Without `tls`, an `https://` client using the yielded URL with `http` replaced hangs in the TLS handshake."""
    with TcpServer(lambda conn, stop: stop.wait(), tls=tls) as url:
        yield url


@contextmanager
def trickling_headers_server(interval: float = 0.2, *, tls: tuple[str, str] | None = None) -> Iterator[str]:
    """Reads the request, then sends the status line and headers one byte every `interval` seconds, never ending."""

    def handle(conn, stop):
        read_request(conn)
        _trickle(conn, stop, _forever(b"HTTP/1.1 200 OK\r\n", b"X-Slow: 1\r\n"), interval)

    with TcpServer(handle, tls=tls) as url:
        yield url


@contextmanager
def trickling_body_server(interval: float = 0.2, *, content_length: int | None = 100_000,
                          tls: tuple[str, str] | None = None) -> Iterator[str]:
    """Reads the request, sends complete headers (`Content-Length`, or none: read until close), then the body
    one byte every `interval` seconds, forever."""

    def handle(conn, stop):
        read_request(conn)
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        if content_length is not None:
            head += f"Content-Length: {content_length}\r\n"
        conn.sendall((head + "\r\n").encode())
        _trickle(conn, stop, _forever(b'{"pad": "', b"x"), interval)

    with TcpServer(handle, tls=tls) as url:
        yield url


def gzip_of_zeros(size: int) -> bytes:
    """A gzip member that inflates to `size` zero bytes (about 1/1000 of that), built without holding `size` bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block, parts, left = bytes(BLOCK), [], size
    while left > 0:
        parts.append(packer.compress(block[:min(BLOCK, left)]))
        left -= BLOCK
    parts.append(packer.flush())
    return b"".join(parts)


@contextmanager
def big_body_server(size: int = 50 * MiB, *, declare_length: bool = True, chunked: bool = False,
                    gzip: bool = False, tls: tuple[str, str] | None = None) -> Iterator[str]:
    """Answers every request with `size` bytes of zeros, streamed from one 64 KiB buffer (the server holds no
    `size` bytes). `declare_length=False`: no Content-Length (read until close); `chunked`: chunked encoding;
    `gzip`: `Content-Encoding: gzip` of `size` zeros (a small compression bomb)."""
    payload = gzip_of_zeros(size) if gzip else None

    def blocks() -> Iterator[bytes]:
        if payload is not None:
            for i in range(0, len(payload), BLOCK):
                yield payload[i:i + BLOCK]
            return
        block, left = bytes(BLOCK), size
        while left > 0:
            yield block[:min(BLOCK, left)]
            left -= BLOCK

    def handle(conn, stop):
        read_request(conn)
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n"
        if gzip:
            head += "Content-Encoding: gzip\r\n"
        if chunked:
            head += "Transfer-Encoding: chunked\r\n"
        elif declare_length:
            head += f"Content-Length: {len(payload) if payload is not None else size}\r\n"
        conn.sendall((head + "\r\n").encode())
        for block in blocks():
            if stop.is_set():
                return
            conn.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
        if chunked:
            conn.sendall(b"0\r\n\r\n")

    with TcpServer(handle, tls=tls) as url:
        yield url


@contextmanager
def json_server(payload=None, *, status: str = "200 OK", record: list[Hit] | None = None,
                tls: tuple[str, str] | None = None) -> Iterator[str]:
    """Answers every request with `payload` as JSON (default `{"ok": true}`); appends a `Hit` to `record`."""
    body = jsonlib.dumps({"ok": True} if payload is None else payload).encode()

    def handle(conn, stop):
        hit = read_request(conn)
        if record is not None:
            record.append(hit)
        respond(conn, status, body, {"Content-Type": "application/json"})

    with TcpServer(handle, tls=tls) as url:
        yield url


@contextmanager
def redirect_server(location: str, *, status: str = "302 Found", record: list[Hit] | None = None,
                    tls: tuple[str, str] | None = None) -> Iterator[str]:
    """Answers every request with a redirect to `location`; appends a `Hit` to `record`."""

    def handle(conn, stop):
        hit = read_request(conn)
        if record is not None:
            record.append(hit)
        respond(conn, status, b"moved", {"Location": location, "Content-Type": "text/plain"})

    with TcpServer(handle, tls=tls) as url:
        yield url


def self_signed_cert(folder: Path) -> tuple[str, str]:
    """(certfile, keyfile) for 127.0.0.1, made with the openssl command (FileNotFoundError without it).

    The certificate is its own CA: pass the certfile as `verify=` to trust it."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)
