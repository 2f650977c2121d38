"""The outbound HTTP client against real misbehaving local servers: total deadline, size cap, redirects.

Pure module tests: no Flask app, no database.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest
import requests
from slow_servers import (
    MiB,
    big_body_server,
    hanging_server,
    json_server,
    redirect_server,
    self_signed_cert,
    trickling_body_server,
    trickling_headers_server,
)

from app.integrations import outbound
from app.integrations.http_api import send
from app.integrations.notify.base import post

DEADLINE = 1.0


@pytest.fixture(autouse=True)
def no_watchdog_left():
    """Whatever happens, a call leaves no watchdog thread behind."""
    yield
    left = [t for t in threading.enumerate() if t.name == "outbound-deadline" and t.is_alive()]
    assert not left


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    try:
        return self_signed_cert(tmp_path_factory.mktemp("tls"))
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"no openssl to make a test certificate: {exc}")


def timed(fn, *args, **kwargs):
    started = time.monotonic()
    try:
        return fn(*args, **kwargs), None, time.monotonic() - started
    except Exception as exc:  # noqa: BLE001 - the test looks at what was raised
        return None, exc, time.monotonic() - started


def assert_deadline(exc, elapsed):
    assert isinstance(exc, outbound.DeadlineExceeded), repr(exc)
    assert isinstance(exc, requests.Timeout)       # old `except requests.Timeout` still catches it
    assert str(exc) == "请求超时（总时限 1 秒）"
    assert DEADLINE - 0.05 <= elapsed < DEADLINE + 1, elapsed


# -- (a)-(c) the total deadline ------------------------------------------------------------------------------


def test_a_server_that_hangs_after_accepting_is_cut_at_the_deadline():
    with hanging_server() as url:
        _, exc, elapsed = timed(outbound.request, "GET", url, deadline=DEADLINE)
    assert_deadline(exc, elapsed)


def test_headers_trickled_one_byte_every_fifth_of_a_second_are_cut_at_the_deadline():
    with trickling_headers_server(0.2) as url:
        _, exc, elapsed = timed(outbound.request, "GET", url + "/status", deadline=DEADLINE)
    assert_deadline(exc, elapsed)


@pytest.mark.parametrize("content_length", [100_000, None], ids=["content-length", "read-until-close"])
def test_a_body_trickled_forever_is_cut_at_the_deadline(content_length):
    # without a Content-Length, the shut socket looks like a normal end: the short body must not pass as complete
    with trickling_body_server(0.2, content_length=content_length) as url:
        _, exc, elapsed = timed(outbound.request, "GET", url, deadline=DEADLINE)
    assert_deadline(exc, elapsed)


def test_sending_a_body_the_server_never_reads_is_cut_at_the_deadline():
    with hanging_server() as url:
        _, exc, elapsed = timed(outbound.request, "POST", url, data=bytes(64 * MiB), deadline=DEADLINE)
    assert_deadline(exc, elapsed)


def test_a_tls_handshake_that_never_completes_is_cut_at_the_deadline():
    with hanging_server() as url:
        _, exc, elapsed = timed(outbound.request, "GET", url.replace("http://", "https://"), deadline=DEADLINE)
    assert_deadline(exc, elapsed)


def test_an_https_body_trickled_forever_is_cut_at_the_deadline(tls):
    certfile, _ = tls
    with trickling_body_server(0.2, tls=tls) as url:
        _, exc, elapsed = timed(outbound.request, "GET", url, deadline=DEADLINE, verify=certfile)
    assert_deadline(exc, elapsed)


def test_https_works_and_the_certificate_is_checked(tls):
    certfile, _ = tls
    with json_server({"secure": True}, tls=tls) as url:
        assert outbound.request("GET", url, verify=certfile).json() == {"secure": True}
        with pytest.raises(requests.exceptions.SSLError):
            outbound.request("GET", url)                # not signed by a known CA


def test_the_deadline_also_covers_every_redirect_hop():
    with hanging_server() as slow, redirect_server(slow + "/stuck") as url:
        _, exc, elapsed = timed(outbound.request, "GET", url, deadline=DEADLINE, follow_redirects=True)
    assert_deadline(exc, elapsed)


# -- (d) the size cap ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [
    {"declare_length": True},
    {"declare_length": False},
    {"chunked": True},
    {"gzip": True},                 # ~50 KB on the wire that inflates to 50 MB
])
def test_a_50_mb_body_stops_at_the_cap_and_never_holds_more_than_one_extra_chunk(shape):
    with big_body_server(50 * MiB, **shape) as url:
        _, exc, elapsed = timed(outbound.request, "GET", url, max_bytes=MiB, deadline=20)
    assert isinstance(exc, outbound.ResponseTooLarge), repr(exc)
    assert str(exc) == "响应超过 1048576 字节，已中止"
    assert exc.bytes_read <= MiB + outbound.CHUNK
    assert exc.response is not None and exc.response.status_code == 200
    assert elapsed < 5


def test_a_body_within_the_cap_is_read_whole_and_decoded():
    with big_body_server(MiB - 1, declare_length=False) as url:
        assert len(outbound.request("GET", url, max_bytes=MiB).content) == MiB - 1
    with big_body_server(3 * MiB, gzip=True) as url:
        response = outbound.request("GET", url, max_bytes=3 * MiB)
        assert response.content == bytes(3 * MiB)


RSS_PROBE = textwrap.dedent("""
    import importlib.util, resource, sys
    import requests

    def peak_kib():
        # the peak of this process image; ru_maxrss can carry the parent's peak over fork + exec
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    spec = importlib.util.spec_from_file_location("outbound", sys.argv[3])     # without the app package: fast
    outbound = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(outbound)
    requests.Session().close()
    before = peak_kib()
    if sys.argv[2] == "capped":
        try:
            outbound.request("GET", sys.argv[1], max_bytes=1 << 20, deadline=30)
            sys.exit("the body was not capped")
        except outbound.ResponseTooLarge:
            pass
    else:
        requests.get(sys.argv[1], timeout=30).content
    print(peak_kib() - before)
""")


@pytest.mark.parametrize("shape", [{"declare_length": False}, {"gzip": True}], ids=["plain", "gzip"])
def test_the_process_memory_does_not_grow_by_the_50_mb_it_was_sent(shape):
    """Peak RSS of a fresh process around one call: the capped client against plain requests as the control."""

    def growth_mb(mode: str) -> float:
        with big_body_server(50 * MiB, **shape) as url:
            out = subprocess.run([sys.executable, "-c", RSS_PROBE, url, mode, outbound.__file__], capture_output=True,
                                 text=True, timeout=60, check=True)
        return int(out.stdout.strip()) / 1024

    capped, uncapped = growth_mb("capped"), growth_mb("uncapped")
    assert capped < 10, f"peak RSS grew by {capped:.1f} MB"
    assert uncapped > 40, f"the control read 50 MB but peak RSS grew by only {uncapped:.1f} MB"   # the probe works


# -- (e) redirects -------------------------------------------------------------------------------------------


def test_redirects_are_not_followed_unless_asked():
    landed: list = []
    with json_server({"landed": True}, record=landed) as target, redirect_server(target + "/landing") as url:
        response = outbound.request("GET", url)
        assert (response.status_code, response.headers["Location"]) == (302, target + "/landing")
        assert "不跟随重定向" in outbound.redirect_error(response)
        assert landed == []

        followed = outbound.request("GET", url, follow_redirects=True)
        assert followed.status_code == 200 and followed.json() == {"landed": True}
        assert [hit.path for hit in landed] == ["/landing"]
        assert outbound.redirect_error(followed) == ""


# -- (f) a normal answer -------------------------------------------------------------------------------------


def test_a_normal_answer_is_returned_with_its_json():
    hits: list = []
    with json_server({"code": 0, "data": {"id": "A-1"}}, record=hits) as url:
        started = time.monotonic()
        response = outbound.request("POST", url + "/accounts?x=1", json={"user": "bob"}, headers={"X-Trace": "t1"})
        assert time.monotonic() - started < 1
    assert response.status_code == 200 and response.json() == {"code": 0, "data": {"id": "A-1"}}
    assert response.text.startswith("{") and response.headers["Content-Type"] == "application/json"
    response.raise_for_status()
    (hit,) = hits
    assert (hit.method, hit.path, hit.json, hit.headers["x-trace"]) == ("POST", "/accounts?x=1", {"user": "bob"}, "t1")


def test_connection_refused_is_a_requests_connection_error_not_a_timeout():
    with hanging_server() as url:
        pass                                        # the port is free again
    _, exc, elapsed = timed(outbound.request, "GET", url, deadline=DEADLINE)
    assert isinstance(exc, requests.ConnectionError) and not isinstance(exc, outbound.OutboundError)
    assert elapsed < DEADLINE


def test_a_deadline_must_be_positive():
    with pytest.raises(ValueError):
        outbound.request("GET", "http://127.0.0.1:1", deadline=0)


# -- the callers: http_api.send and the notification channels' post -------------------------------------------


def test_http_api_send_keeps_timeout_as_the_total_deadline():
    with trickling_body_server(0.2) as url:
        result, _, elapsed = timed(send, "POST", url, payload={"a": 1}, timeout=DEADLINE)
    assert (result.status_code, result.ok, result.error) == (None, False, "请求超时（总时限 1 秒）")
    assert elapsed < DEADLINE + 1
    with hanging_server() as url:
        result, _, elapsed = timed(send, "GET", url, deadline=DEADLINE, timeout=30)     # deadline wins
    assert result.error == "请求超时（总时限 1 秒）" and elapsed < DEADLINE + 1


def test_http_api_send_reports_size_redirect_and_success():
    with big_body_server(50 * MiB) as url:
        result = send("GET", url, max_bytes=MiB)
    assert (result.status_code, result.ok, result.error) == (200, False, "响应超过 1048576 字节，已中止")

    landed: list = []
    with json_server({"code": 0}, record=landed) as target, redirect_server(target + "/x") as url:
        result = send("POST", url, payload={"a": 1})
        assert (result.status_code, result.ok, landed) == (302, False, [])
        assert "重定向" in result.error and target + "/x" in result.error
        result = send("POST", url, payload={"a": 1}, follow_redirects=True)
        assert (result.status_code, result.ok, result.json, len(landed)) == (200, True, {"code": 0}, 1)

    with json_server({"code": 0, "data": [1, 2]}) as url:
        result = send("GET", url, payload={"q": "x"})
    assert (result.ok, result.json, result.error) == (True, {"code": 0, "data": [1, 2]}, "")


def test_notification_post_uses_the_same_limits():
    body = b'{"msgtype":"markdown"}'
    with hanging_server() as url:
        (call, response), _, elapsed = timed(post, url + "/hook?key=SECRET-KEY", body,
                                             headers={"Content-Type": "application/json"}, timeout=DEADLINE,
                                             secrets=["SECRET-KEY"])
    assert (call.ok, call.status_code, call.error, response) == (False, None, "请求超时（总时限 1 秒）", None)
    assert "SECRET-KEY" not in call.url and elapsed < DEADLINE + 1

    landed: list = []
    with json_server(record=landed) as target, redirect_server(target + "/elsewhere") as url:
        call, response = post(url, body, headers={}, timeout=5)
    assert (call.ok, call.status_code, landed) == (False, 302, []) and "重定向" in call.error

    with big_body_server(50 * MiB) as url:
        call, response = post(url, body, headers={}, timeout=5, max_bytes=1000)
    assert (call.ok, call.error, response) == (False, "响应超过 1000 字节，已中止", None)

    with json_server({"errcode": 0, "errmsg": "ok"}) as url:
        call, response = post(url, body, headers={}, timeout=5)
    assert call.ok and response.json() == {"errcode": 0, "errmsg": "ok"} and call.response_body == response.text
