"""A burst of 5,000 alerts in 100 groups through the receiver on PostgreSQL: every POST accepted, exactly 100
incidents, every alert attached once, with two scheduler workers processing the queue at the same time."""
from __future__ import annotations

import threading

import pytest
from alert_kit import SECRET
from live_kit import AppProcess, free_port

from bench.alerts_burst import burst_outcome, fire_burst


def test_a_burst_of_5000_alerts_in_100_groups_opens_exactly_100_incidents(alert_env, tmp_path, capsys):
    app = alert_env.app
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the burst runs on PostgreSQL (row locks under concurrency)")
    env = {"ITSM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "ITSM_SECRET_KEY": "burst",
           "ITSM_ALERTS_DIR": str(alert_env.rules_dir), "ITSM_ALERTS_PROCESS_INLINE": "false"}
    server = AppProcess(free_port(), env, tmp_path / "app.log").start()
    try:
        burst = fire_burst(f"{server.url}/alerts/alertmanager/prod", SECRET, groups=100, per_group=50, threads=8)
    finally:
        server.kill()
    assert burst["statuses"] == {200: 5000}
    with capsys.disabled():
        print(f"\nalert burst accepted: {burst}")

    from app.jobs import process_alerts

    def worker(name: str) -> None:
        with app.app_context():
            while process_alerts(name):
                pass

    workers = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(600)
    outcome = burst_outcome(app)
    assert outcome["payloads"] == {"DONE": 5000}
    assert outcome["incidents"] == 100 and outcome["groups"] == 100
    assert outcome["alerts"] == outcome["distinct_fingerprints"] == 5000
    assert outcome["tickets_per_group_max"] == 1
