"""The race kit: the app over real HTTP, callers at its two doors, a barrier, and what the database holds.

- `serving(app)`: the app served by werkzeug (threaded) on 127.0.0.1, any database.
- `register_api_app(app, code, secret)`: an API app that may act for users, made by the CLI command.
- `ApiDoor` / `WebDoor`: the same ticket operations through `/api/c/compapi/v2/itsm/operate_*` and
  through the ticket page's forms; each operation is a `Call` to be run by `race`.
- `race(calls)`: runs the calls at once, each in its own thread with its own `requests.Session`,
  released together by a `threading.Barrier`; returns one `Outcome` per call, in order.
- `facts_of(app, ticket_id)` / `ended_tickets_with_open_steps(app)`: rows read with `app.models`.

Nothing here imports `app.services` except `clear_api_choices_cache`.
"""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from app.extensions import db
from app.models import StepProcessor, Ticket, TicketLog, TicketStep

API_PATH = "/api/c/compapi/v2/itsm/{name}/"
ENDED = ("FINISHED", "TERMINATED", "REVOKED")
TIMEOUT = 60                      # seconds for one HTTP call; a lock wait longer than this is a failure anyway
# what the ticket views flash on success (app/web/tickets.py): 已提交, or OPERATION_NAMES[action] + 成功
WEB_SUCCESS = {"TRANSITION": "已提交", "CLAIM": "认领成功", "DISTRIBUTE": "派单成功", "DELIVER": "转单成功",
               "SUSPEND": "挂起成功", "WITHDRAW": "撤单成功", "TERMINATE": "终止成功"}
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


# --- the app over HTTP ---------------------------------------------------------------------------

class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):      # thousands of requests: keep the captured output readable
        pass


@contextmanager
def serving(app):
    """Serve `app` on a free port of 127.0.0.1 in a background thread; yields the base URL.

    SERVER_NAME is cleared while serving (the tests' `itsm.test` would not match 127.0.0.1) and restored.
    """
    saved = app.config.get("SERVER_NAME")
    app.config["SERVER_NAME"] = None
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    # a short poll interval: shutdown() waits for the loop to look, once per test
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="races-itsm",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        app.config["SERVER_NAME"] = saved


def register_api_app(app, code: str, secret: str) -> str:
    """`flask itsm api-app create CODE --act-for-users`; returns the app's secret.

    The command takes ITSM_API_APP_SECRET from the configuration read when the app was built, so
    in-process the environment given here may come too late; then it prints the secret it made.
    """
    result = app.test_cli_runner().invoke(args=["itsm", "api-app", "create", code, "--act-for-users"],
                                          env={"ITSM_API_APP_SECRET": secret})
    assert result.exit_code == 0, result.output
    printed = re.search(r"bk_app_secret[^:\n]*:\s*(\S+)", result.output)
    return printed.group(1) if printed else secret


# --- outcomes and the barrier ----------------------------------------------------------------------

@dataclass
class Outcome:
    """One caller's answer: won (`ok`), refused cleanly (`refused`), or neither (a bug: 5xx, error page...)."""

    who: str
    action: str
    ok: bool = False
    refused: bool = False
    status: int | None = None
    detail: str = ""

    @property
    def broken(self) -> bool:
        return not (self.ok or self.refused)

    def __str__(self) -> str:
        verdict = "WON" if self.ok else "refused" if self.refused else "BROKEN"
        return f"{self.who} {self.action}: {verdict} [{self.status}] {self.detail}"


@dataclass
class Call:
    """A caller ready to go: `fn(session)` does the HTTP request and judges the answer."""

    who: str
    action: str
    fn: Callable[[requests.Session], Outcome]

    def __call__(self, session: requests.Session) -> Outcome:
        return self.fn(session)


def race(calls: list[Call]) -> list[Outcome]:
    """Run the calls at once: one thread and one `requests.Session` each, released by one barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Outcome | None] = [None] * len(calls)

    def run(i: int, call: Call) -> None:
        with requests.Session() as session:
            try:
                barrier.wait(TIMEOUT)
                outcomes[i] = call(session)
            except Exception as exc:  # noqa: BLE001 - a transport error is an outcome to report, not a crash
                outcomes[i] = Outcome(call.who, call.action, detail=f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(i, c), name=f"racer-{i}") for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    return [o or Outcome(c.who, c.action, detail="no answer (thread still running)") for o, c in zip(outcomes, calls)]


def describe(outcomes: list[Outcome]) -> str:
    return "\n  " + "\n  ".join(map(str, outcomes))


# --- tickets and the two doors ---------------------------------------------------------------------

@dataclass(frozen=True)
class RaceTicket:
    id: int
    sn: str


class ApiClient:
    """The BlueKing API as an app allowed to act for users (header credentials, as bkapi-component-open)."""

    def __init__(self, base_url: str, code: str, secret: str):
        self.base_url, self.code, self.secret = base_url, code, secret
        self.setup = requests.Session()              # the test thread's own calls (creating tickets)

    def post(self, session: requests.Session, name: str, username: str, **params) -> requests.Response:
        auth = {"bk_app_code": self.code, "bk_app_secret": self.secret, "bk_username": username}
        return session.post(self.base_url + API_PATH.format(name=name), json=params, timeout=TIMEOUT,
                            headers={"X-Bkapi-Authorization": json.dumps(auth)})

    def create_ticket(self, service_id: int, creator: str, **fields: Any) -> RaceTicket:
        response = self.post(self.setup, "create_ticket", creator, service_id=service_id,
                             fields=[{"key": k, "value": v} for k, v in fields.items()])
        body = response.json()
        assert response.status_code == 200 and body["result"], body
        return RaceTicket(body["data"]["id"], body["data"]["sn"])

    def operation(self, who: str, action: str, name: str, **params) -> Call:
        def fn(session: requests.Session) -> Outcome:
            response = self.post(session, name, who, operator=who, **params)
            try:
                body = response.json()
            except ValueError:
                return Outcome(who, action, status=response.status_code, detail=response.text[:200])
            won = response.status_code == 200 and body.get("result") is True and body.get("code") == 0
            # a refusal is an error envelope with a domain message; "接口异常" is the catch-all for a bug
            refused = (response.status_code == 200 and body.get("result") is False
                       and not str(body.get("message", "")).startswith("接口异常"))
            return Outcome(who, action, ok=won, refused=refused, status=body.get("code"),
                           detail=str(body.get("message", "")))

        return Call(who, action, fn)


class ApiDoor:
    """Ticket operations through `operate_node` / `operate_ticket`."""

    name = "api"

    def __init__(self, app, api: ApiClient):
        self.app, self.api = app, api
        self.state_ids: dict[tuple[int, str], int] = {}

    def state_id(self, ticket: RaceTicket, node: str) -> int:
        """The API's state_id of the ticket's open step at `node` (read once per ticket and node)."""
        if (ticket.id, node) not in self.state_ids:
            self.state_ids[ticket.id, node] = state_id_of(self.app, ticket.id, node)
        return self.state_ids[ticket.id, node]

    def create(self, service_id: int, creator: str, **fields: Any) -> RaceTicket:
        return self.api.create_ticket(service_id, creator, **fields)

    def _node(self, who: str, action: str, ticket: RaceTicket, node: str, label: str, **params) -> Call:
        return self.api.operation(who, label, "operate_node", sn=ticket.sn, action_type=action,
                                  state_id=self.state_id(ticket, node), **params)

    def transition(self, who: str, ticket: RaceTicket, node: str, values: dict) -> Call:
        return self._node(who, "TRANSITION", ticket, node, f"TRANSITION {values}",
                          fields=[{"key": k, "value": v} for k, v in values.items()])

    def claim(self, who: str, ticket: RaceTicket, node: str) -> Call:
        return self._node(who, "CLAIM", ticket, node, "CLAIM")

    def distribute(self, who: str, ticket: RaceTicket, node: str, person: str) -> Call:
        return self._node(who, "DISTRIBUTE", ticket, node, f"DISTRIBUTE to {person}",
                          processors_type="PERSON", processors=person)

    def deliver(self, who: str, ticket: RaceTicket, node: str, person: str, reason: str) -> Call:
        return self._node(who, "DELIVER", ticket, node, f"DELIVER to {person}",
                          processors_type="PERSON", processors=person, action_message=reason)

    def ticket_action(self, who: str, ticket: RaceTicket, action: str, reason: str) -> Call:
        return self.api.operation(who, action, "operate_ticket", sn=ticket.sn, action_type=action,
                                  action_message=reason)


class WebUser:
    """A browser's login state: the session cookie and CSRF token of a real login over HTTP.

    Each call sends exactly this post-login cookie from a fresh `requests.Session`, so the cookie a
    response sets holds only the flashes of that one request.
    """

    def __init__(self, app, base_url: str, username: str, password: str):
        self.app, self.base_url, self.username = app, base_url, username
        with requests.Session() as s:
            page = s.get(base_url + "/login", timeout=TIMEOUT)
            login = s.post(base_url + "/login", allow_redirects=False, timeout=TIMEOUT, data={
                "username": username, "password": password, "csrf_token": CSRF.search(page.text).group(1)})
            assert login.status_code == 302, f"login as {username} failed: {login.status_code}"
            home = s.get(base_url + "/", timeout=TIMEOUT)
            self.csrf_token = CSRF.search(home.text).group(1)
            self.cookies = s.cookies.copy()

    def post(self, session: requests.Session, path: str, data: dict, *, action: str, label: str,
             ticket: RaceTicket) -> Outcome:
        session.cookies.update(self.cookies)
        page = f"{self.base_url}/tickets/{ticket.id}"
        response = session.post(self.base_url + path, data={**data, "csrf_token": self.csrf_token},
                                headers={"Referer": page}, allow_redirects=False, timeout=TIMEOUT)
        flashes = self.flashes(response)
        where = urlsplit(response.headers.get("Location", "")).path
        won = (response.status_code == 302 and where == f"/tickets/{ticket.id}"
               and ("success", WEB_SUCCESS[action]) in flashes)
        # refusals: a domain error flashes "danger" and redirects back; PermissionDenied is a 403 page
        refused = (response.status_code == 302 and any(c == "danger" for c, _ in flashes)) \
            or response.status_code == 403
        detail = "; ".join(f"{c}: {m}" for c, m in flashes) or response.text[:200].replace("\n", " ")
        return Outcome(self.username, label, ok=won, refused=refused, status=response.status_code, detail=detail)

    def flashes(self, response: requests.Response) -> list[tuple[str, str]]:
        """The flashes this response put into the (signed, cookie-held) Flask session."""
        cookie = response.cookies.get(self.app.config.get("SESSION_COOKIE_NAME", "session"))
        if not cookie:
            return []
        data = self.app.session_interface.get_signing_serializer(self.app).loads(cookie)
        return [tuple(f) for f in data.get("_flashes", [])]


class WebDoor:
    """Ticket operations through the ticket page's forms, as logged-in users (one login per user)."""

    name = "web"

    def __init__(self, app, base_url: str, api: ApiClient, password_of: Callable[[str], str]):
        self.app, self.base_url, self.api, self.password_of = app, base_url, api, password_of
        self.users: dict[str, WebUser] = {}

    def create(self, service_id: int, creator: str, **fields: Any) -> RaceTicket:
        return self.api.create_ticket(service_id, creator, **fields)

    def user(self, username: str) -> WebUser:
        if username not in self.users:
            self.users[username] = WebUser(self.app, self.base_url, username, self.password_of(username))
        return self.users[username]

    def _post(self, who: str, ticket: RaceTicket, path: str, data: dict, action: str, label: str) -> Call:
        user = self.user(who)           # logged in now, before any race starts
        return Call(who, label, lambda s: user.post(s, path, data, action=action, label=label, ticket=ticket))

    def transition(self, who: str, ticket: RaceTicket, node: str, values: dict) -> Call:
        return self._post(who, ticket, f"/tickets/{ticket.id}/steps/{node}/transition",
                          {f"{node}-{k}": v for k, v in values.items()}, "TRANSITION", f"TRANSITION {values}")

    def claim(self, who: str, ticket: RaceTicket, node: str) -> Call:
        return self._post(who, ticket, f"/tickets/{ticket.id}/steps/{node}/claim", {}, "CLAIM", "CLAIM")

    def distribute(self, who: str, ticket: RaceTicket, node: str, person: str) -> Call:
        return self._post(who, ticket, f"/tickets/{ticket.id}/steps/{node}/distribute",
                          {"target": f"PERSON:{person}"}, "DISTRIBUTE", f"DISTRIBUTE to {person}")

    def deliver(self, who: str, ticket: RaceTicket, node: str, person: str, reason: str) -> Call:
        return self._post(who, ticket, f"/tickets/{ticket.id}/steps/{node}/deliver",
                          {"target": f"PERSON:{person}", "message": reason}, "DELIVER", f"DELIVER to {person}")

    def ticket_action(self, who: str, ticket: RaceTicket, action: str, reason: str) -> Call:
        return self._post(who, ticket, f"/tickets/{ticket.id}/actions/{action.lower()}", {"message": reason},
                          action, action)


# --- what the database holds -----------------------------------------------------------------------

@dataclass(frozen=True)
class StepRow:
    id: int
    node_key: str
    status: str
    pre_status: str | None
    is_open: bool
    processors_type: str
    processors: str
    users: tuple[str, ...]
    data: dict


@dataclass(frozen=True)
class LogRow:
    node_key: str | None
    action: str
    operator: str
    message: str


@dataclass(frozen=True)
class Facts:
    """One ticket as the database holds it after a round."""

    sn: str
    status: str
    approve_result: bool | None
    values: dict
    steps: tuple[StepRow, ...]
    logs: tuple[LogRow, ...]
    waiting: dict            # step id -> usernames in step_processors (the to-do / to-claim index)

    def steps_at(self, node: str) -> list[StepRow]:
        return [s for s in self.steps if s.node_key == node]

    def step_at(self, node: str) -> StepRow:
        rows = self.steps_at(node)
        assert len(rows) == 1, f"{self.sn}: expected one step at {node}, found {rows}"
        return rows[0]

    @property
    def open_steps(self) -> list[StepRow]:
        return [s for s in self.steps if s.is_open]

    def logs_of(self, action: str, node: str | None = None) -> list[LogRow]:
        return [lg for lg in self.logs if lg.action == action and (node is None or lg.node_key == node)]

    def __str__(self) -> str:
        steps = "\n    ".join(f"{s.node_key} {s.status} open={s.is_open} processors={s.processors} users={list(s.users)}"
                              for s in self.steps)
        logs = "\n    ".join(f"{lg.action} {lg.node_key} {lg.operator}: {lg.message}" for lg in self.logs)
        return f"ticket {self.sn} {self.status} values={self.values}\n  steps:\n    {steps}\n  logs:\n    {logs}"


def facts_of(app, ticket_id: int) -> Facts:
    with app.app_context():
        try:
            ticket = db.session.get(Ticket, ticket_id)
            steps = db.session.execute(select(TicketStep).where(TicketStep.ticket_id == ticket_id)
                                       .order_by(TicketStep.id)).scalars().all()
            logs = db.session.execute(select(TicketLog).where(TicketLog.ticket_id == ticket_id)
                                      .order_by(TicketLog.id)).scalars().all()
            waiting: dict[int, set[str]] = {}
            for step_id, username in db.session.execute(select(StepProcessor.step_id, StepProcessor.username)
                                                         .where(StepProcessor.ticket_id == ticket_id)):
                waiting.setdefault(step_id, set()).add(username)
            return Facts(
                sn=ticket.sn, status=ticket.status, approve_result=ticket.approve_result, values=dict(ticket.values),
                steps=tuple(StepRow(s.id, s.node_key, s.status, s.pre_status, bool(s.is_open), s.processors_type,
                                    s.processors, tuple(s.users or ()), dict(s.data or {})) for s in steps),
                logs=tuple(LogRow(lg.node_key, lg.action, lg.operator, lg.message) for lg in logs),
                waiting=waiting)
        finally:
            db.session.remove()          # never keep a transaction open (SQLite: it would hold the write lock)


def state_id_of(app, ticket_id: int, node: str) -> int:
    """The API's state_id of the ticket's open step at `node`, as the app stored it."""
    with app.app_context():
        try:
            return db.session.execute(select(TicketStep.state_id).where(
                TicketStep.ticket_id == ticket_id, TicketStep.node_key == node,
                TicketStep.is_open.is_(True))).scalar_one()
        finally:
            db.session.remove()


def ended_tickets_with_open_steps(app) -> list[str]:
    """`SN STATUS node` for every open step of a finished, terminated or revoked ticket (should be none)."""
    with app.app_context():
        try:
            rows = db.session.execute(select(Ticket.sn, Ticket.status, TicketStep.node_key)
                                      .join(TicketStep, TicketStep.ticket_id == Ticket.id)
                                      .where(Ticket.status.in_(ENDED), TicketStep.is_open.is_(True))).all()
            return [f"{sn} {status} {node}" for sn, status, node in rows]
        finally:
            db.session.remove()


def clear_api_choices_cache() -> None:
    """Empty the process's cache of API-sourced options (process memory: no HTTP or model handle for it)."""
    from app.services.fields.api_choices import clear_cache

    clear_cache()


# --- judging a round -------------------------------------------------------------------------------

def the_one_winner(outcomes: list[Outcome], round_no: int, facts: Facts | None = None) -> Outcome:
    """The single caller that won; every other one must have been refused cleanly (no error, no 5xx).

    `facts` (the ticket after the round) are shown with a failure: what the extra winners left behind.
    """
    after = f"\n{facts}" if facts else ""
    winners = [o for o in outcomes if o.ok]
    assert len(winners) == 1, (f"round {round_no}: {len(winners)} of {len(outcomes)} callers won, "
                               f"expected exactly one:{describe(outcomes)}{after}")
    broken = [o for o in outcomes if o.broken]
    assert not broken, f"round {round_no}: callers neither served nor cleanly refused:{describe(broken)}{after}"
    return winners[0]


def assert_no_ended_ticket_has_open_steps(app, round_no: int) -> None:
    leftovers = ended_tickets_with_open_steps(app)
    assert not leftovers, f"round {round_no}: tickets that are over still have open steps: {leftovers}"
