"""Statistics at scale: `python -m bench.stats [--tickets 100000] [--days 365] [--repeat 10] [--database-url URL]`.

Issue 20, target 3: every statistics page and CSV p95 <= 300 ms at one million tickets for a one-year
range. Seeds N tickets with `bench.seed` (COPY on PostgreSQL; a fresh database unless --database-url),
then, in-process and sequentially (c=1), as admin through the Flask test client:
- `GET /statistics/?from=…&to=…` (every chart) and `GET /statistics/<key>.csv` for every chart;
- each chart function alone (`app.services.stats.CHARTS`), to show where the page's time goes;
and EXPLAINs (ANALYZE) every statement each chart runs, flagging sequential scans of ticket tables.
Prints a table and writes `bench/results/stats-<timestamp>-<tickets>.json`.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from datetime import date, timedelta
from pathlib import Path

from bench.run import ADMIN_PASSWORD, app_config, drop_pg_database, fresh_pg_database
from bench.search import timed

TICKET_TABLES = ("tickets", "ticket_steps", "step_processors", "ticket_logs", "ticket_sla_clocks")


def login_admin(app):
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "login as admin failed"
    return client


def chart_plans(app, f) -> dict[str, list[str]]:
    """Per chart: the EXPLAIN ANALYZE of every SELECT it ran (PostgreSQL)."""
    from sqlalchemy import event

    from app.extensions import db
    from app.services import stats

    out = {}
    with app.app_context():
        for key, build in stats.CHARTS.items():
            captured = []

            def grab(conn, cursor, statement, parameters, context, executemany):
                if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    captured.append((statement, parameters))
            event.listen(db.engine, "before_cursor_execute", grab)
            try:
                build(f)
            finally:
                event.remove(db.engine, "before_cursor_execute", grab)
            cursor = db.session.connection().connection.driver_connection.cursor()
            plans = []
            for statement, parameters in captured:
                cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
            out[key] = plans
        db.session.remove()
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", help="an existing, already seeded PostgreSQL database (kept)")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    from app import create_app
    from app.extensions import db
    from app.services import stats
    from app.timeutil import parse_local

    fresh = not args.database_url
    url = args.database_url or fresh_pg_database()
    app = create_app(app_config(url))
    report = {"tickets": args.tickets, "days": args.days, "repeat": args.repeat}
    try:
        if fresh:
            runner = app.test_cli_runner()
            result = runner.invoke(args=["itsm", "init", "--demo"])
            if result.exit_code != 0:
                raise SystemExit(f"itsm init --demo failed: {result.output}")
            from bench.seed import seed

            t0 = time.perf_counter()
            seed(app, args.tickets, log=lambda m: None)
            report["seed_seconds"] = round(time.perf_counter() - t0, 1)
            print(f"seeded {args.tickets} tickets in {report['seed_seconds']} s", flush=True)
        today = date.today()
        start = today - timedelta(days=args.days - 1)
        query = f"from={start.isoformat()}&to={today.isoformat()}"
        client = login_admin(app)
        rows = []

        def get(path):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        rows.append({"what": "page /statistics/", **timed(lambda: get(f"/statistics/?{query}"), args.repeat)})
        for key in stats.CHARTS:
            rows.append({"what": f"csv {key}", **timed(lambda key=key: get(f"/statistics/{key}.csv?{query}"),
                                                      args.repeat)})
        with app.app_context():
            f = stats.StatsFilter(parse_local(start.isoformat()), parse_local((today + timedelta(days=1)).isoformat()),
                                  unit="week")
        for key, build in stats.CHARTS.items():
            def one(build=build):
                with app.app_context():
                    build(f)
                    db.session.remove()
            rows.append({"what": f"chart {key}", **timed(one, args.repeat)})
        for row in rows:
            print(f"  {row['what']:32} p50 {row['p50']:8.1f}  p95 {row['p95']:8.1f}  max {row['max']:8.1f}", flush=True)
        report["rows"] = rows
        plans = chart_plans(app, f)
        report["plans"] = plans
        report["seq_scans"] = {key: sorted({m for p in ps for m in re.findall(r"Seq Scan on (\w+)", p)
                                            if m in TICKET_TABLES}) for key, ps in plans.items()}
        print("sequential scans of ticket tables per chart:", report["seq_scans"], flush=True)
    finally:
        if fresh and not args.keep_db:
            with app.app_context():
                db.engine.dispose()
            drop_pg_database(url)
    out = Path(args.out) / f"stats-{time.strftime('%Y%m%d-%H%M%S')}-{args.tickets}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
