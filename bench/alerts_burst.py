"""Alert burst: `python -m bench.alerts_burst [--groups 100] [--per-group 50] [--threads 16] [--workers 4] [--queue-only]`.

1. A fresh PostgreSQL database `itsm_bench_alerts_<pid>` on 127.0.0.1:5432 (dropped afterwards), the
   schema, an incident service, the users, one Alertmanager receiver and one rule (storm limit above the
   burst, so every group opens its own incident).
2. The app under gunicorn (`wsgi:app`, --workers processes, 4 threads each) on a free loopback port.
3. The burst: groups x per-group Alertmanager webhook POSTs (one new alert each, the groups interleaved,
   as Alertmanager sends them when a group grows), from --threads client threads, one
   `requests.Session` per thread. The accept rate is accepted POSTs per second of wall time.
4. Then it waits for every payload to be processed (inline by default; with --queue-only the receiver
   only stores and the scheduler's `process_alerts` job, run here, empties the queue) and checks: exactly
   one incident per group, every alert attached once.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-0123456789abcdef"
FLOW = """
key: alert_incident
name: 告警故障
service_type: event
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: urgency, name: 紧急程度, type: STRING}
  - key: handle
    name: 处理
    kind: manual
    processors: {type: PERSON, value: [oncall]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: end}
"""
RULES = """
rules:
  - key: burst
    name: 压测告警
    source: alertmanager
    service: alert_incident
    creator: alertbot
    fields: {title: "{{ labels.alertname }}"}
    severity: {label: severity, map: {critical: {urgency: high}}}
    storm: {max_new_per_minute: 100000}
"""


def notification(group: int, alert: int) -> dict:
    """Alertmanager's webhook body (version 4) for group `group` carrying its alert number `alert`."""
    labels = {"alertname": f"Burst{group:03d}", "instance": f"host{alert:03d}", "severity": "critical",
              "team": "infra"}
    return {"version": "4", "groupKey": f'{{}}:{{alertname="Burst{group:03d}"}}', "status": "firing",
            "receiver": "itsm", "groupLabels": {"alertname": labels["alertname"]},
            "commonLabels": {"alertname": labels["alertname"], "severity": "critical", "team": "infra"}, "commonAnnotations": {},
            "externalURL": "http://alertmanager.local", "truncatedAlerts": 0,
            "alerts": [{"status": "firing", "labels": labels, "annotations": {"summary": "burst"},
                        "startsAt": "2026-12-01T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": "http://prometheus.local/graph", "fingerprint": f"{group:03d}-{alert:03d}"}]}


def fire_burst(url: str, secret: str, *, groups: int = 100, per_group: int = 50, threads: int = 16) -> dict:
    """POST groups x per_group notifications; returns counts, wall time, accept rate and latency percentiles."""
    bodies = [json.dumps(notification(g, a)) for a in range(per_group) for g in range(groups)]
    local = threading.local()
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    def send(body: str) -> tuple[int, float]:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        try:
            status = session.post(url, data=body, headers=headers, timeout=60).status_code
        except requests.RequestException:
            status = 0
        return status, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(send, bodies))
    wall = time.perf_counter() - started
    latencies = sorted(t for _, t in results)
    statuses: dict[int, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    return {"sent": len(bodies), "statuses": statuses, "seconds": round(wall, 2),
            "accepted_per_second": round(statuses.get(200, 0) / wall, 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1)}


def burst_outcome(app) -> dict:
    """Incidents, alerts and payload states in the database after a burst (read through the app's models)."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Alert, AlertGroup, AlertPayload, Ticket

    with app.app_context():
        out = {
            "incidents": db.session.execute(select(func.count()).select_from(Ticket)).scalar_one(),
            "alerts": db.session.execute(select(func.count()).select_from(Alert)).scalar_one(),
            "distinct_fingerprints": db.session.execute(select(func.count(func.distinct(Alert.fingerprint)))).scalar_one(),
            "groups": db.session.execute(select(func.count()).select_from(AlertGroup)).scalar_one(),
            "tickets_per_group_max": db.session.execute(select(func.count(func.distinct(Alert.ticket_id)))
                                                        .group_by(Alert.group_id)
                                                        .order_by(func.count(func.distinct(Alert.ticket_id)).desc())
                                                        .limit(1)).scalar() or 0,
            "payloads": dict(db.session.execute(select(AlertPayload.status, func.count())
                                                .group_by(AlertPayload.status)).all()),
        }
        db.session.remove()
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup(url: str, rules_dir: Path):
    from app import create_app
    from app.extensions import db
    from app.infra.uow import commit
    from app.services.alerts import create_receiver
    from app.services.catalog.browse import ensure_service
    from app.services.flows.library import deploy_flow, save_flow_source
    from app.services.people.users import create_user

    (rules_dir / "rules.yaml").write_text(RULES, encoding="utf-8")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ALERTS_DIR": str(rules_dir)})
    with app.app_context():
        db.create_all()
        for name in ("alertbot", "oncall"):
            create_user(name, password="bench-pass-123")
        flow = save_flow_source(FLOW, by="bench")
        version = deploy_flow(flow.key, by="bench")
        ensure_service(flow.key, flow.name, service_type=flow.service_type, flow_version_id=version.id)
        create_receiver("alertmanager", "bench", secret=SECRET)
        commit()
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--per-group", type=int, default=50)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--queue-only", action="store_true", help="receivers only store; the job processes after")
    args = parser.parse_args()
    from sqlalchemy import create_engine, text

    database = f"itsm_bench_alerts_{os.getpid()}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    rules_dir = Path(tempfile.mkdtemp(prefix="alerts-bench-"))
    server = None
    try:
        app = _setup(url, rules_dir)
        port = _free_port()
        env = {**os.environ, "ITSM_DATABASE_URL": url, "ITSM_SECRET_KEY": "bench", "ITSM_ALERTS_DIR": str(rules_dir),
               "ITSM_ALERTS_PROCESS_INLINE": "false" if args.queue_only else "true"}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen([str(gunicorn), "-w", str(args.workers), "--threads", "4", "-b", f"127.0.0.1:{port}",
                                   "--log-level", "warning", "wsgi:app"], cwd=PROJECT, env=env)
        for _ in range(100):
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        burst = fire_burst(f"http://127.0.0.1:{port}/alerts/alertmanager/bench", SECRET, groups=args.groups,
                           per_group=args.per_group, threads=args.threads)
        processing = None
        if args.queue_only:
            from app.jobs import process_alerts

            started = time.perf_counter()
            with app.app_context():
                while process_alerts("bench"):
                    pass
            seconds = time.perf_counter() - started
            processing = {"seconds": round(seconds, 2), "payloads_per_second": round(burst["sent"] / seconds, 1)}
        result = {"mode": "queue-only" if args.queue_only else "inline", "groups": args.groups,
                  "per_group": args.per_group, "threads": args.threads, "workers": args.workers,
                  "cpus": os.cpu_count(), "burst": burst, "processing": processing, "outcome": burst_outcome(app)}
        print(json.dumps(result, indent=2, ensure_ascii=False))
        out = PROJECT / "bench" / "results" / f"alerts-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    finally:
        if server:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
