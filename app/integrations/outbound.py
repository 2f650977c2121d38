"""The one way out: every outbound HTTP request, with a total deadline, a response size cap and no silent redirects.

`request()` returns a `requests.Response` whose body is already read (`.content`, `.text`,
`.json()`, `.raise_for_status()` work as usual) or raises a `requests.RequestException`:

* `DeadlineExceeded` (also a `requests.Timeout`): the whole call (connect, TLS handshake,
  sending, headers, body, every redirect hop) took longer than `deadline` seconds. A
  per-read timeout is not enough (a server trickling one byte a second never trips it),
  so a watchdog timer shuts the connection's socket down at the deadline, which makes the
  blocked read or write return at once.
* `ResponseTooLarge`: the body (after gzip/deflate decoding) is over `max_bytes`; at most
  `max_bytes` plus one chunk is ever held in memory.
* anything else requests raises (`ConnectionError`, `SSLError`, `InvalidURL`, ...).

Redirects are not followed unless `follow_redirects=True`: a 3xx comes back as it is
(status and `Location`); `redirect_error(response)` says why that is a failure.

The watchdog is one `threading.Timer` per call (thread name `outbound-deadline`), cancelled
and joined before `request()` returns or raises: no thread is left behind.

Not covered by the deadline: the DNS lookup (getaddrinfo cannot be interrupted: a slow
lookup overruns the deadline by its own duration, then the socket is shut as soon as it is
connected) and connections through a SOCKS proxy (per-operation timeouts only).
"""
from __future__ import annotations

import socket
import threading
import time
import zlib
from typing import Any, Callable

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ProtocolError, ReadTimeoutError
from urllib3.exceptions import SSLError as Urllib3SSLError

DEFAULT_DEADLINE = 10.0             # seconds, the whole call
DEFAULT_MAX_BYTES = 1024 * 1024     # 1 MiB of (decoded) response body
CHUNK = 64 * 1024                   # bytes read from the socket at a time
ACCEPT_ENCODING = "gzip, deflate"   # what is decoded here within the cap (never br: it would be inflated unbounded)


class OutboundError(requests.RequestException):
    """A limit of this client stopped the call (the message is meant for people: logs, admin pages)."""


class DeadlineExceeded(OutboundError, requests.Timeout):
    def __init__(self, deadline: float, **kwargs):
        super().__init__(f"请求超时（总时限 {deadline:g} 秒）", **kwargs)
        self.deadline = deadline


class ResponseTooLarge(OutboundError):
    """`bytes_read`: body bytes held when the call stopped (at most `max_bytes` + one chunk)."""

    def __init__(self, max_bytes: int, bytes_read: int, **kwargs):
        super().__init__(f"响应超过 {max_bytes} 字节，已中止", **kwargs)
        self.max_bytes, self.bytes_read = max_bytes, bytes_read


def request(method: str, url: str, *, params: Any = None, data: Any = None, json: Any = None,
            headers: dict | None = None, deadline: float = DEFAULT_DEADLINE, max_bytes: int = DEFAULT_MAX_BYTES,
            follow_redirects: bool = False, verify: bool | str = True,
            peer_guard: Callable[[str], str] | None = None) -> requests.Response:
    """Send one request (and its redirects when asked); the returned response's body is already read.

    `peer_guard(address)`: a reason to refuse the connection once its peer address is known ("" to go on),
    so a host whose DNS answer changed after a check still cannot reach a refused address.
    """
    if not deadline or deadline <= 0:
        raise ValueError(f"deadline must be > 0 seconds, not {deadline!r}")
    if max_bytes is None or max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0, not {max_bytes!r}")
    watchdog = _Watchdog(deadline)
    watchdog.start()
    try:
        with requests.Session() as session:
            adapter = _LimitedAdapter(watchdog, max_bytes, peer_guard)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["Accept-Encoding"] = ACCEPT_ENCODING
            response = session.request(method, url, params=params, data=data, json=json, headers=headers,
                                       timeout=(deadline, deadline), allow_redirects=follow_redirects,
                                       stream=True, verify=verify)
    except OutboundError:
        raise
    except requests.RequestException as exc:
        watchdog.stop()
        # the watchdog shut the socket, or a socket timeout (never shorter than the time left) beat it to it
        if watchdog.fired or watchdog.remaining() <= 0 or isinstance(exc, requests.Timeout):
            raise DeadlineExceeded(deadline, request=exc.request) from exc
        raise
    finally:
        watchdog.stop()
    if watchdog.fired:      # the socket was shut: what was read may be cut short without any error
        raise DeadlineExceeded(deadline, request=response.request)
    return response


def get(url: str, **kwargs) -> requests.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs) -> requests.Response:
    return request("POST", url, **kwargs)


def redirect_error(response: requests.Response) -> str:
    """Why a redirect answer is a failure ("" for any other answer): redirects are followed only on request."""
    if not response.is_redirect:
        return ""
    return (f"服务器要求重定向（HTTP {response.status_code} → {response.headers.get('Location', '')}），"
            f"出站请求默认不跟随重定向")


# -- the deadline: a timer that shuts the call's sockets down ------------------------------------------------


class _Watchdog:
    """At the deadline, shut down every socket the call opened, so whatever read or write blocks returns.

    It keeps a duplicate (dup) of each socket: shutdown acts on the connection, not on the file
    descriptor, and the duplicate stays valid after an SSL wrap detaches the original socket (so the
    TLS handshake and HTTPS reads are covered too). The duplicates are closed when the call ends.
    """

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.started = time.monotonic()
        self.fired = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._timer = threading.Timer(deadline, self._fire)
        self._timer.name = "outbound-deadline"
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def remaining(self) -> float:
        return self.deadline - (time.monotonic() - self.started)

    def watch(self, sock: socket.socket) -> None:
        try:
            dup = sock.dup()
        except OSError:
            return
        with self._lock:
            self._socks.append(dup)
            fired = self.fired
        if fired:                       # connected after the deadline (a slow DNS lookup): end it now
            _shutdown(dup)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            socks = list(self._socks)
        for sock in socks:
            _shutdown(sock)

    def stop(self) -> None:
        """Cancel the timer, wait for its thread to end (it never blocks), close the duplicates."""
        self._timer.cancel()
        self._timer.join()
        with self._lock:
            socks, self._socks = self._socks, []
        for sock in socks:
            sock.close()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass                            # already closed by the peer or by urllib3


class _WatchedConnection:
    """Mixed into urllib3's connection classes: connect within the time left, then hand the socket to the watchdog."""

    watchdog: _Watchdog                 # set on the per-call subclass
    peer_guard = None                   # (a staticmethod there when the call has one)

    def _new_conn(self):
        remaining = self.watchdog.remaining()
        if remaining <= 0:
            raise ConnectTimeoutError(self, f"Connection to {self.host} not attempted: deadline reached")
        if not isinstance(self.timeout, (int, float)) or self.timeout > remaining:
            self.timeout = remaining
        sock = super()._new_conn()
        self.watchdog.watch(sock)
        if self.peer_guard is not None:
            reason = self.peer_guard(sock.getpeername()[0])
            if reason:
                sock.close()
                raise NewConnectionError(self, reason)
        return sock


def _pool_classes(watchdog: _Watchdog, peer_guard: Callable[[str], str] | None = None) -> dict[str, type]:
    """Connection pool classes whose connections report to this call's watchdog (and ask its peer guard)."""
    attrs = {"watchdog": watchdog, "peer_guard": staticmethod(peer_guard) if peer_guard else None}
    http = type("WatchedHTTPConnection", (_WatchedConnection, HTTPConnection), attrs)
    https = type("WatchedHTTPSConnection", (_WatchedConnection, HTTPSConnection), attrs)
    return {"http": type("WatchedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("WatchedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https})}


class _LimitedAdapter(HTTPAdapter):
    """A per-call adapter: watched connections, and every response (redirect hops too) read within the cap."""

    def __init__(self, watchdog: _Watchdog, max_bytes: int, peer_guard: Callable[[str], str] | None = None):
        self._watchdog, self._max_bytes = watchdog, max_bytes
        self._pool_classes = _pool_classes(watchdog, peer_guard)
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = self._pool_classes
        return manager

    def send(self, request, stream=False, **kwargs):
        response = super().send(request, stream=True, **kwargs)
        try:
            response._content = _read_body(response, self._max_bytes)
        except BaseException:
            response.close()
            raise
        response._content_consumed = True
        return response


# -- the body: streamed, decoded and counted against the cap -----------------------------------------------


def _read_body(response: requests.Response, max_bytes: int) -> bytes:
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    inflater = _Inflater(encoding) if encoding in ("gzip", "x-gzip", "deflate") else None
    declared = response.headers.get("Content-Length", "")
    if inflater is None and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(max_bytes, 0, request=response.request, response=response)
    body = bytearray()
    try:
        for chunk in response.raw.stream(CHUNK, decode_content=False):
            data = inflater.feed(chunk, max_bytes - len(body)) if inflater else chunk
            if len(body) + len(data) > max_bytes:
                raise ResponseTooLarge(max_bytes, len(body) + len(data), request=response.request, response=response)
            body += data
    except ReadTimeoutError as exc:
        raise requests.ReadTimeout(exc, request=response.request) from exc
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc, request=response.request) from exc
    except Urllib3SSLError as exc:
        raise requests.exceptions.SSLError(exc, request=response.request) from exc
    except OSError as exc:
        if isinstance(exc, requests.RequestException):
            raise
        raise requests.ConnectionError(exc, request=response.request) from exc
    except zlib.error as exc:
        raise requests.exceptions.ContentDecodingError(f"无法解码 {encoding} 响应：{exc}",
                                                       request=response.request) from exc
    return bytes(body)


class _Inflater:
    """gzip / deflate decoding that never produces more than asked for (a small bomb cannot fill memory)."""

    def __init__(self, encoding: str):
        self.deflate = encoding == "deflate"
        self.wbits = zlib.MAX_WBITS if self.deflate else 16 + zlib.MAX_WBITS
        self.decoder = zlib.decompressobj(self.wbits)
        self.started = False            # deflate: zlib-wrapped or raw is known after the first bytes
        self.members = 0                # gzip: complete members seen (what follows the last one may be junk)

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode `data`; returns at most `room` + 1 bytes (more than `room` means over the cap)."""
        out = bytearray()
        while data and len(out) <= room:
            try:
                piece = self.decoder.decompress(data, room - len(out) + 1)
            except zlib.error:
                if self.deflate and not self.started:
                    self.wbits, self.decoder, self.started = -zlib.MAX_WBITS, zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                if self.members:
                    return bytes(out)   # junk after a complete gzip member: ignored, as urllib3 does
                raise
            self.started = True
            out += piece
            if self.decoder.eof:
                self.members += 1
                data = self.decoder.unused_data
                if data and not self.deflate:
                    self.decoder = zlib.decompressobj(self.wbits)
                else:
                    data = b""
            else:
                tail = self.decoder.unconsumed_tail
                if tail == data and not piece:
                    break
                data = tail
        return bytes(out)
