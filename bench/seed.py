"""Bulk-load N realistic tickets fast: `python -m bench.seed --tickets N [--database-url URL]`.

How it stays consistent with what the services write: it first drives a handful of
*template* tickets through the real services (create_ticket, operate_step,
operate_ticket) for each of the four demo services, snapshotting the rows of
`tickets`, `ticket_steps`, `step_processors`, `ticket_logs` and `ticket_participants` after every
operation. It then clones those snapshots N times in Python (new ids, a unique
REQ/CRQ/INC/PBI+YYYYMMDD+6-digit number per local day, another creator, spread
creation times, a numbered title in `values`) and inserts them in batches with
PostgreSQL `COPY` (psycopg `cursor.copy`) or `executemany` on SQLite, bypassing the
services. Daily `sn_counters` and the id sequences are moved past what it wrote,
so tickets created afterwards through the services never collide, and `user_day_counters`
(the workbench's handled steps) are rebuilt from the steps.

The database must have been initialised with `flask --app wsgi itsm init --demo`.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import JSON, func, select, text

from app.infra.uow import commit

SERVICE_PREFIX = {"request": "REQ", "change": "CRQ", "event": "INC", "question": "PBI"}
EXTRA_USERS = 500
BENCH_PASSWORD = "bench-pass-123"

# For each demo service: (creator, start fields, [(operator, action, node_key, kwargs)]).
# TRANSITION fields not given here are filled from the node's required fields (first choice, "bench" text).
SCRIPTS = {
    "account_apply": ("alice", {"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent",
                                "permissions": ["read"], "reason": "bench"}, [
        ("leader", "TRANSITION", "leader_approve", {"leader_approve_result": "true", "leader_approve_remark": "同意"}),
        ("ops1", "CLAIM", "implement", {}),
        ("ops1", "TRANSITION", "implement", {"account_name": "alice.crm", "impl_note": "done"}),
        ("alice", "TRANSITION", "confirm", {"confirm_result": "confirmed"}),
    ]),
    "account_apply/reject": ("bob", {"title": "申请 ERP 账号", "system": "erp", "account_type": "permanent",
                                     "permissions": ["write"], "reason": "bench"}, [
        ("leader", "TRANSITION", "leader_approve", {"leader_approve_result": "false", "leader_approve_remark": "不需要"}),
    ]),
    "account_apply/terminate": ("alice", {"title": "申请 OA 账号", "system": "oa", "account_type": "permanent",
                                          "reason": "bench"}, [
        ("admin", "TERMINATE_TICKET", None, {"message": "重复提单"}),
    ]),
    "incident_handle": ("alice", {"title": "订单服务 502", "event_type": "fault", "event_source": "monitor",
                                  "impact": "high", "urgency": "high", "occurred_at": "2030-01-05 09:30",
                                  "description": "下单接口持续返回 502"}, [
        ("desk", "DISTRIBUTE", "handle", {"processors_type": "PERSON", "processors": "eng1"}),
        ("eng1", "TRANSITION", "handle", {"cause": "连接池满", "solution": "扩容"}),
        ("alice", "TRANSITION", "confirm", {"confirm_result": "solved"}),
    ]),
    "incident_handle/suspend": ("bob", {"title": "邮件延迟", "event_type": "fault", "event_source": "monitor",
                                        "impact": "low", "urgency": "low", "occurred_at": "2030-01-05 09:30",
                                        "description": "邮件延迟 10 分钟"}, [
        ("admin", "SUSPEND", None, {"message": "等待厂商"}),
    ]),
    "change_normal": ("bob", {"title": "升级 nginx 到 1.25", "change_type": "normal", "risk": "medium",
                              "window": "2030-01-05 22:00", "duration_minutes": "90", "plan": "<p>滚动升级</p>",
                              "affected_hosts": [{"ip": "10.0.0.11", "role": "web", "note": "主节点"}],
                              "rollback_plan": "回滚到 1.24", "security_impact": "yes", "db_change": "yes"}, [
        ("cm", "TRANSITION", "cm_approve", {"cm_result": "agree", "cm_comment": "同意"}),
        ("cab1", "TRANSITION", "cab_review", {"cab_review_result": "true", "cab_review_remark": "风险可控"}),
        ("cab2", "TRANSITION", "cab_review", {"cab_review_result": "true"}),
        ("eng2", "TRANSITION", "dba_review", {"dba_opinion": "已备份"}),
        ("eng1", "TRANSITION", "security_review", {"security_opinion": "端口收敛"}),
        ("ops2", "TRANSITION", "implement", {"impl_result": "success", "impl_log": "完成"}),
        ("bob", "TRANSITION", "verify", {"verify_result": "ok", "verify_note": "访问正常"}),
    ]),
    "problem_manage": ("alice", {"title": "连接池反复耗尽", "impact": "high", "description": "每周一次"}, [
        ("pm", "TRANSITION", "analysis", {"root_cause": "连接池上限过低", "category": "software,middleware,database"}),
        ("pm", "DISTRIBUTE", "fix", {"processors_type": "PERSON", "processors": "eng1,eng2"}),
        ("eng1", "CLAIM", "fix", {}),
        ("eng1", "TRANSITION", "fix", {"fix_plan": "调大上限", "fix_result": "fixed"}),
        ("pm", "TRANSITION", "close", {"close_code": "resolved", "close_note": "ok"}),
    ]),
}

# status -> share of the generated tickets (split evenly over the templates in that status)
STATUS_SHARE = {"FINISHED": 0.55, "RUNNING": 0.33, "TERMINATED": 0.06, "SUSPENDED": 0.06}

# pools of ready-to-operate tickets for the benchmark: name -> (template label, operator, action[, open step]).
# A label that several snapshots share names the first (countersign: before any vote).
POOLS = {
    "transition": ("account_apply@leader_approve:RUNNING", "leader", "TRANSITION"),
    "claim": ("account_apply@implement:RECEIVING", "ops1", "CLAIM"),
    "approve": ("account_apply@leader_approve:RUNNING", "leader", "APPROVE"),               # the approve API
    "countersign": ("change_normal@cab_review:RUNNING", "cab1", "TRANSITION"),             # 1 vote of 2
    "parallel": ("change_normal@security_review:RUNNING,dba_review:RUNNING", "eng2", "TRANSITION", "dba_review"),
    "sla": ("incident_handle@handle:RUNNING", "eng1", "TRANSITION"),    # running incidents for the SLA scan
}


@dataclass
class Template:
    label: str
    service_key: str
    creator: str
    ticket: dict
    steps: list[dict]
    procs: list[dict]
    logs: list[dict]
    participants: list[dict] = field(default_factory=list)
    open_node: str | None = None
    open_state_id: int | None = None


@dataclass
class SeedReport:
    tickets: int = 0
    rows: dict = field(default_factory=dict)
    users: int = 0
    seconds: float = 0.0
    templates: list = field(default_factory=list)
    pools: dict = field(default_factory=dict)     # name -> [{"sn", "state_id", "node_key", "operator"}]

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def as_dict(self) -> dict:
        return {"tickets": self.tickets, "rows": self.rows, "users": self.users, "seconds": round(self.seconds, 2),
                "rows_per_second": round(self.total_rows / self.seconds) if self.seconds else None,
                "tickets_per_second": round(self.tickets / self.seconds) if self.seconds else None,
                "templates": self.templates, "pools": {k: len(v) for k, v in self.pools.items()}}


# --- templates through the real services -------------------------------------------------------

def _fill(flow, node_key: str, given: dict) -> dict:
    """The given answers plus a plausible value for every other required field of the node."""
    values = dict(given)
    for f in flow.node(node_key).fields:
        if f.key in values or not getattr(f, "required", False):
            continue
        choices = getattr(f, "choices", None) or ()
        if choices:
            first = choices[0]
            values[f.key] = getattr(first, "key", first)
        elif f.type in ("INT",):
            values[f.key] = 1
        else:
            values[f.key] = "bench"
    return values


def _snapshot(ticket_id: int, label: str, service_key: str, creator: str) -> Template:
    from app.extensions import db
    from app.models import StepProcessor, Ticket, TicketLog, TicketParticipant, TicketStep

    def rows(model, where, order):
        table = model.__table__
        return [dict(r._mapping) for r in db.session.execute(select(table).where(where).order_by(*order))]

    ticket = rows(Ticket, Ticket.id == ticket_id, [Ticket.id])[0]
    steps = rows(TicketStep, TicketStep.ticket_id == ticket_id, [TicketStep.id])
    procs = rows(StepProcessor, StepProcessor.ticket_id == ticket_id, [StepProcessor.step_id, StepProcessor.username])
    logs = rows(TicketLog, TicketLog.ticket_id == ticket_id, [TicketLog.id])
    people = rows(TicketParticipant, TicketParticipant.ticket_id == ticket_id, [TicketParticipant.username])
    open_steps = [s for s in steps if s["is_open"]]
    return Template(label, service_key, creator, ticket, steps, procs, logs, people,
                    open_steps[0]["node_key"] if open_steps else None,
                    open_steps[0]["state_id"] if open_steps else None)


def build_templates(log=print) -> list[Template]:
    """Drive one ticket per script through the services, snapshotting after each operation."""
    from app.extensions import db
    from app.models import Service
    from app.services.flows.library import compiled_version
    from app.services.people.users import find_user
    from app.services.tickets.operations import create_ticket, operate_step, operate_ticket

    templates: list[Template] = []
    for name, (creator, fields, ops) in SCRIPTS.items():
        service_key = name.split("/")[0]
        service = db.session.execute(select(Service).where(Service.key == service_key)).scalar_one_or_none()
        if service is None:
            raise SystemExit(f"demo service {service_key} missing: run `flask --app wsgi itsm init --demo` first")
        flow = compiled_version(service.flow_version_id)
        ticket = create_ticket(service_id=service.id, creator=find_user(creator), fields=fields, source="WEB")
        commit()
        tid = ticket.id
        snap = _snapshot(tid, f"{name}@{_open_label(tid)}", service_key, creator)
        templates.append(snap)
        for operator, action, node_key, kwargs in ops:
            try:
                if action in ("TERMINATE_TICKET", "SUSPEND"):
                    operate_ticket(tid, find_user(operator), "TERMINATE" if action == "TERMINATE_TICKET" else action,
                                   message=kwargs.get("message", ""))
                elif action == "TRANSITION":
                    operate_step(tid, find_user(operator), action, node_key, fields=_fill(flow, node_key, kwargs))
                else:
                    operate_step(tid, find_user(operator), action, node_key, **kwargs)
                commit()
            except Exception as exc:  # noqa: BLE001 - a script drifting from its flow only shortens the walk
                db.session.rollback()
                log(f"  template {name}: {action} {node_key} refused ({exc}); walk stops here")
                break
            templates.append(_snapshot(tid, f"{name}@{_open_label(tid)}", service_key, creator))
    return templates


def _open_label(ticket_id: int) -> str:
    from app.extensions import db
    from app.models import Ticket, TicketStep

    status = db.session.get(Ticket, ticket_id).status
    steps = db.session.execute(select(TicketStep.node_key, TicketStep.status).where(
        TicketStep.ticket_id == ticket_id, TicketStep.is_open.is_(True)).order_by(TicketStep.id)).all()
    return ",".join(f"{k}:{s}" for k, s in steps) if status == "RUNNING" and steps else status


# --- cloning ----------------------------------------------------------------------------------

class Cloner:
    def __init__(self, templates: list[Template], creators: list[str], start_ids: dict, counters: dict,
                 rng: random.Random):
        self.templates, self.creators, self.rng = templates, creators, rng
        self.ids = dict(start_ids)
        self.counters = counters          # (prefix, day) -> last value used

    def clone(self, tmpl: Template, created: datetime, number: int, creator: str | None = None):
        rng = self.rng
        old_creator = tmpl.creator
        new_creator = creator or rng.choice(self.creators)
        base = tmpl.ticket["created_at"]
        stretch = rng.uniform(2_000, 40_000)        # ms between template operations become minutes to hours

        def when(dt):
            return None if dt is None else created + (dt - base) * stretch

        def who(name):
            return new_creator if name == old_creator else name

        tid = self.ids["tickets"] = self.ids["tickets"] + 1
        t = dict(tmpl.ticket)
        prefix = SERVICE_PREFIX[t["service_type"]]
        day = (created + timedelta(hours=8)).strftime("%Y%m%d")
        value = self.counters.get((prefix, day), 0) + 1
        self.counters[(prefix, day)] = value
        title = f"{t['title']} #{number}"
        values = dict(t["values"] or {})
        values["title"] = title
        t.update(id=tid, sn=f"{prefix}{day}{value:06d}", title=title, values=values, creator=new_creator,
                 created_at=created, updated_at=when(t["updated_at"]), end_at=when(t["end_at"]),
                 updated_by=who(t["updated_by"]))
        step_ids = {}
        steps = []
        for s in tmpl.steps:
            sid = self.ids["ticket_steps"] = self.ids["ticket_steps"] + 1
            step_ids[s["id"]] = sid
            row = dict(s)
            data = row["data"]
            if s["kind"] == "start" and isinstance(data, dict) and "title" in data:
                data = dict(data, title=title)
            row.update(id=sid, ticket_id=tid, opened_at=when(s["opened_at"]), closed_at=when(s["closed_at"]),
                       closed_by=who(s["closed_by"]), users=[who(u) for u in (s["users"] or [])], data=data,
                       processors=",".join(who(p) for p in s["processors"].split(",")) if s["processors"] else "")
            steps.append(row)
        procs = [dict(p, step_id=step_ids[p["step_id"]], ticket_id=tid, username=who(p["username"]),
                      ticket_created_at=created) for p in tmpl.procs]
        people = {}
        for person in tmpl.participants:
            name = who(person["username"])
            people[name] = {"username": name, "ticket_id": tid, "ticket_created_at": created,
                            "is_creator": name == new_creator}
        logs = []
        for lg in tmpl.logs:
            lid = self.ids["ticket_logs"] = self.ids["ticket_logs"] + 1
            logs.append(dict(lg, id=lid, ticket_id=tid, operator=who(lg["operator"]), created_at=when(lg["created_at"])))
        return t, steps, procs, logs, list(people.values())


def _weights(templates: list[Template]) -> list[float]:
    by_status: dict[str, int] = {}
    for t in templates:
        by_status[t.ticket["status"]] = by_status.get(t.ticket["status"], 0) + 1
    return [STATUS_SHARE.get(t.ticket["status"], 0.02) / by_status[t.ticket["status"]] for t in templates]


# --- writing ----------------------------------------------------------------------------------

TABLES = ("tickets", "ticket_steps", "step_processors", "ticket_logs", "ticket_participants")

class Writer:
    """Batches of rows into tables: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, engine):
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        from app.extensions import db

        self.tables = {name: db.metadata.tables[name] for name in TABLES}

    def write(self, name: str, rows: list[dict]) -> None:
        if not rows:
            return
        table = self.tables[name]
        if not self.pg:
            with self.engine.begin() as conn:
                conn.execute(table.insert(), rows)
            return
        cols = [c.name for c in table.columns]
        json_cols = {c.name for c in table.columns if isinstance(c.type, JSON)}
        raw = self.engine.raw_connection()
        try:
            cur = raw.driver_connection.cursor()
            quoted = ", ".join(f'"{c}"' for c in cols)
            with cur.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row([json.dumps(r[c], ensure_ascii=False) if c in json_cols and r[c] is not None
                                    else r[c] for c in cols])
            raw.driver_connection.commit()
        finally:
            raw.close()


def _ensure_users(engine, password_method: str) -> int:
    from werkzeug.security import generate_password_hash

    from app.extensions import db

    users = db.metadata.tables["users"]
    with engine.begin() as conn:
        have = set(conn.execute(select(users.c.username).where(users.c.username.like("bench_user_%"))).scalars())
        pw = generate_password_hash(BENCH_PASSWORD, password_method)
        rows = [{"username": f"bench_user_{i:03d}", "display_name": f"压测用户{i:03d}",
                 "email": f"bench_user_{i:03d}@example.com", "password_hash": pw, "is_superuser": False,
                 "is_stats_admin": False, "is_enabled": True, "language": "zh", "created_at": datetime.utcnow()}
                for i in range(EXTRA_USERS) if f"bench_user_{i:03d}" not in have]
        if rows:
            conn.execute(users.insert(), rows)
    return len(rows)


def seed(app, tickets: int, *, pools: dict[str, int] | None = None, batch: int = 20_000, rng_seed: int = 8,
         log=print) -> SeedReport:
    """Load `tickets` cloned tickets (plus `pools`: ready-to-operate tickets per POOLS name)."""
    from app.extensions import db

    report = SeedReport()
    rng = random.Random(rng_seed)
    with app.app_context():
        engine = db.engine
        templates = build_templates(log)
        commit()
        db.session.remove()          # no open transaction (SQLite: BEGIN IMMEDIATE holds the write lock)
        report.templates = [t.label for t in templates]
        started = time.perf_counter()
        report.users = _ensure_users(engine, app.config["PASSWORD_HASH_METHOD"])
        creators = [f"bench_user_{i:03d}" for i in range(EXTRA_USERS)]
        with engine.connect() as conn:
            start_ids = {name: conn.execute(select(func.coalesce(func.max(db.metadata.tables[name].c.id), 0))).scalar()
                         for name in ("tickets", "ticket_steps", "ticket_logs")}
            counters = {(p, d): v for p, d, v in conn.execute(text("SELECT prefix, day, value FROM sn_counters"))}
        db.session.remove()
        cloner = Cloner(templates, creators, start_ids, counters, rng)
        weights = _weights(templates)
        writer = Writer(engine)
        now = datetime.utcnow()
        span = timedelta(days=365)
        first = now - span - timedelta(hours=1)
        total_pool = sum((pools or {}).values())
        plan: list[tuple[Template, str | None, str | None]] = []   # (template, creator, pool name)
        # pool tickets count in N when N is at least twice their number (so "10k tickets" means 10k rows)
        spread = tickets - total_pool if tickets >= 2 * total_pool else tickets
        for tmpl in rng.choices(templates, weights=weights, k=spread):
            r = rng.random()
            plan.append((tmpl, "alice" if r < 0.02 else "bob" if r < 0.04 else None, None))
        by_label: dict[str, Template] = {}
        for t in templates:
            by_label.setdefault(t.label, t)
        for name, count in (pools or {}).items():
            label = POOLS[name][0]
            if label not in by_label:
                raise SystemExit(f"no template {label} for pool {name}: templates are {list(by_label)}")
            plan += [(by_label[label], None, name)] * count
        n = len(plan)
        rows = {name: 0 for name in TABLES}
        for lo in range(0, n, batch):
            chunk = {name: [] for name in TABLES}
            for i in range(lo, min(n, lo + batch)):
                tmpl, creator, pool = plan[i]
                if pool is None:
                    created = first + span * (i / max(1, spread)) + timedelta(seconds=rng.uniform(0, 60))
                else:     # pool tickets: the newest, still open
                    created = now - timedelta(minutes=30) + timedelta(milliseconds=i - spread)
                t, steps, procs, logs, people = cloner.clone(tmpl, created, i + 1, creator)
                chunk["tickets"].append(t)
                chunk["ticket_steps"] += steps
                chunk["step_processors"] += procs
                chunk["ticket_logs"] += logs
                chunk["ticket_participants"] += people
                if pool is not None:
                    node_key, state = _pool_step(tmpl, POOLS[pool])
                    report.pools.setdefault(pool, []).append(
                        {"sn": t["sn"], "id": t["id"], "state_id": state, "node_key": node_key,
                         "operator": POOLS[pool][1], "action": POOLS[pool][2]})
            for name in TABLES:
                writer.write(name, chunk[name])
                rows[name] += len(chunk[name])
            log(f"  {min(n, lo + batch)}/{n} tickets, {sum(rows.values())} rows, "
                f"{time.perf_counter() - started:.1f}s")
        from app.services.sla.outcomes import rebuild_outcomes

        rebuild_outcomes()           # the copied tickets' decided clocks, as the operations would have written them
        commit()
        db.session.remove()
        _finish(engine, cloner.counters)
        report.tickets, report.rows = n, rows
        report.seconds = time.perf_counter() - started
    return report


def _pool_step(tmpl: Template, pool: tuple) -> tuple[str | None, int | None]:
    """(node key, state id) of the open step a pool's operation acts on: the one named, else the first open."""
    if len(pool) < 4:
        return tmpl.open_node, tmpl.open_state_id
    [step] = [s for s in tmpl.steps if s["is_open"] and s["node_key"] == pool[3]]
    return step["node_key"], step["state_id"]


def _finish(engine, counters: dict) -> None:
    """Counters and sequences past what was written; fresh planner statistics."""
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        for (prefix, day), value in counters.items():
            if pg:
                conn.execute(text("INSERT INTO sn_counters (prefix, day, value) VALUES (:p, :d, :v) "
                                  "ON CONFLICT (prefix, day) DO UPDATE SET value = GREATEST(sn_counters.value, :v)"),
                             {"p": prefix, "d": day, "v": value})
            else:
                conn.execute(text("INSERT INTO sn_counters (prefix, day, value) VALUES (:p, :d, :v) "
                                  "ON CONFLICT (prefix, day) DO UPDATE SET value = MAX(sn_counters.value, :v)"),
                             {"p": prefix, "d": day, "v": value})
        if pg:
            for table in ("tickets", "ticket_steps", "ticket_logs"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
        from app.services.tickets.counters import rebuild

        rebuild(conn)
    if pg:      # VACUUM sets the visibility map, so counts over an index need not visit the table
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--database-url", default=None, help="default: ITSM_DATABASE_URL / the app's config")
    parser.add_argument("--batch", type=int, default=20_000)
    args = parser.parse_args(argv)
    from app import create_app

    app = create_app({"DATABASE_URL": args.database_url} if args.database_url else None)
    report = seed(app, args.tickets, batch=args.batch)
    d = report.as_dict()
    print(f"seeded {d['tickets']} tickets, {report.total_rows} rows ({d['rows']}), {d['users']} new users "
          f"in {d['seconds']}s: {d['rows_per_second']} rows/s, {d['tickets_per_second']} tickets/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
