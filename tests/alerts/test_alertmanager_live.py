"""A real Alertmanager (Debian's prometheus-alertmanager) notifying the app: fire, group, repeat, resolve,
and the same through a kill and restart of the app in the middle of a burst."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alert_kit import SECRET, rows
from live_kit import Alertmanager, AppProcess, free_port, prom_alert, require_alertmanager, wait_until

from app.models import Alert, AlertGroup, AlertPayload, Ticket


@pytest.fixture
def live(alert_env, tmp_path):
    """The app as a child process on the test's database, and Alertmanager pointing at its receiver."""
    require_alertmanager()
    env = {"ITSM_DATABASE_URL": alert_env.app.config["SQLALCHEMY_DATABASE_URI"], "ITSM_SECRET_KEY": "live-test",
           "ITSM_ALERTS_DIR": str(alert_env.rules_dir), "ITSM_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    app_process = AppProcess(free_port(), env, tmp_path / "app.log").start()
    am = Alertmanager(tmp_path, f"{app_process.url}/alerts/alertmanager/prod", SECRET)
    yield alert_env, app_process, am
    am.stop()
    app_process.kill()


def _now(offset: int = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _alerts(app):
    return rows(app, Alert)


def test_alertmanager_fires_groups_repeats_and_resolves_into_exactly_the_incidents_the_rules_say(live):
    env, _, am = live
    groups = {"NodeDown": ["h1", "h2"], "DiskFull": ["h1", "h3"], "HighLoad": ["h4", "h5"]}
    am.push([prom_alert(name, inst) for name, insts in groups.items() for inst in insts])
    wait_until(lambda: len(_alerts(env.app)) == 6, timeout=30, what="6 alerts attached")
    tickets = rows(env.app, Ticket)
    assert sorted(t.title for t in tickets) == ["[critical] DiskFull", "[critical] HighLoad", "[critical] NodeDown"]
    by_ticket = {}
    for a in _alerts(env.app):
        by_ticket.setdefault(a.ticket_id, set()).add((a.labels["alertname"], a.labels["instance"]))
    assert sorted(sorted(v) for v in by_ticket.values()) == sorted(
        sorted((name, i) for i in insts) for name, insts in groups.items())

    # repeat_interval: Alertmanager notifies the same groups again; no new ticket, the alerts count the repeats
    wait_until(lambda: all(a.received_count >= 2 for a in _alerts(env.app)), timeout=30, what="repeat notifications")
    assert len(rows(env.app, Ticket)) == 3

    # a new alert in an existing group joins that group's incident
    am.push([prom_alert("NodeDown", "h9")])
    wait_until(lambda: len(_alerts(env.app)) == 7, timeout=30, what="the 7th alert")
    assert len(rows(env.app, Ticket)) == 3

    # resolve: endsAt in the past; send_resolved makes Alertmanager tell the app
    ended = _now(-1)
    am.push([prom_alert(name, inst, ends_at=ended) for name, insts in groups.items() for inst in insts]
            + [prom_alert("NodeDown", "h9", ends_at=ended)])
    wait_until(lambda: all(a.status == "resolved" for a in _alerts(env.app)), timeout=30, what="every alert resolved")
    wait_until(lambda: all(g.status == "resolved" for g in rows(env.app, AlertGroup)), timeout=10,
               what="every group resolved")
    assert len(rows(env.app, Ticket)) == 3
    assert {p.status for p in rows(env.app, AlertPayload)} == {"DONE"}


def test_a_burst_through_a_kill_and_restart_of_the_app_ends_with_one_incident_per_group(live):
    env, app_process, am = live
    names = [f"Burst{i}" for i in range(12)]
    am.push([prom_alert(name, f"h{j}") for name in names[:6] for j in range(3)])
    wait_until(lambda: len(rows(env.app, AlertPayload)) >= 1, timeout=20, what="the first notification")
    app_process.kill()                                  # mid-burst: Alertmanager's sends now fail and are retried
    am.push([prom_alert(name, f"h{j}") for name in names[6:] for j in range(3)])
    app_process.start()
    wait_until(lambda: len(_alerts(env.app)) == 36, timeout=60, what="36 alerts attached after the restart")
    # anything the killed process had stored but not processed is finished by the scheduler's job
    env.app.config["ALERTS_LEASE_SECONDS"] = 0
    from app.jobs import process_alerts

    with env.app.app_context():
        process_alerts("after-restart")
    env.app.config["ALERTS_LEASE_SECONDS"] = 120
    tickets = rows(env.app, Ticket)
    assert sorted(t.title for t in tickets) == sorted(f"[critical] {n}" for n in names)
    alerts = _alerts(env.app)
    assert len({(a.ticket_id, a.fingerprint) for a in alerts}) == len(alerts) == 36
    per_ticket = {}
    for a in alerts:
        per_ticket.setdefault(a.ticket_id, set()).add(a.labels["alertname"])
    assert all(len(v) == 1 for v in per_ticket.values()) and len(per_ticket) == 12
