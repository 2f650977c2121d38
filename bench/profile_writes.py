"""Where a write's milliseconds go: `python -m bench.profile_writes [--calls 200] [--tickets 2000]`.

Fresh PostgreSQL database, `init --demo`, the bench API app and a small seed with pools (as `bench.run`
does), then `create_ticket`, `operate_node` CLAIM and TRANSITION through the Flask test client, in
process, under cProfile (wall clock). Each function's own time goes to one layer by its module; the
time of a built-in (a C function) goes to the layer of whoever called it. "SQL round trips" is the
driver (psycopg) and the socket: the time the worker waits for PostgreSQL. CPU per call is
`time.process_time()` of this process (the app server's CPU, PostgreSQL's own CPU excluded).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

from bench import run as bench

# (layer, path fragments), first match wins
LAYERS = [
    ("SQL round trips (driver, socket)", ("/psycopg/", "/psycopg_binary/", "/psycopg_pool/", "<socket>")),
    ("ORM (session, flush, loading)", ("/sqlalchemy/orm/",)),
    ("SQL build & execute (Core)", ("/sqlalchemy/",)),
    ("JSON", ("/json/", "/flask/json/")),
    ("authentication", ("/app/services/integration/", "/hashlib", "/hmac.py")),
    ("validation (fields, forms)", ("/app/services/fields/", "/app/forms/", "/wtforms/", "/app/limits.py",
                                    "/pydantic")),
    ("engine & flow", ("/app/engine/", "/app/flowdef/", "/app/services/flows/")),
    ("services (tickets, SLA, notify, people)", ("/app/services/", "/app/sla/", "/app/infra/", "/app/models/")),
    ("request handling (Flask, Werkzeug, API)", ("/flask/", "/werkzeug/", "/app/api/", "/app/__init__.py",
                                                 "/app/web/", "/app/i18n/", "/flask_", "/jinja2/",
                                                 "/itsdangerous/", "/blinker/", "/markupsafe/")),
]
OTHER = "other (stdlib, logging, datetime)"


def layer_of(filename: str) -> str | None:
    for name, parts in LAYERS:
        if any(p in filename for p in parts):
            return name
    return None if filename == "~" else OTHER


def split(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per layer; a built-in's time is shared among its callers' layers."""
    out: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, tt, _ct, callers) in stats.stats.items():
        layer = layer_of(filename)
        if layer is not None:
            out[layer] = out.get(layer, 0.0) + tt
            continue
        total = sum(c[2] for c in callers.values()) or 1.0
        for (cfile, _cl, _cf), c in callers.items():
            clayer = layer_of(cfile) or OTHER
            out[clayer] = out.get(clayer, 0.0) + tt * c[2] / total
    return out


def profile(app, reqs, op: str, who: str, calls: int, out_dir: Path | None) -> dict:
    from sqlalchemy import event

    from app.extensions import db

    do = bench._test_user(app, "api", who)
    for i in range(3):                                  # warm: compiled flows, statement caches
        assert reqs.call(op, do, i), f"{op} failed while warming"
    statements = [0]

    def count(*_a):
        statements[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    prof = cProfile.Profile()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    prof.enable()
    ok = sum(bool(reqs.call(op, do, i)) for i in range(calls))
    prof.disable()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    event.remove(engine, "before_cursor_execute", count)
    stats = pstats.Stats(prof)
    layers = split(stats)
    if out_dir:
        stats.dump_stats(out_dir / f"profile-{op.replace(' ', '_')}.pstats")
    total = sum(layers.values()) or 1.0
    return {"calls": calls, "ok": ok, "wall_ms_per_call": round(wall * 1000 / calls, 2),
            "cpu_ms_per_call": round(cpu * 1000 / calls, 2), "statements_per_call": statements[0] / calls,
            "layers_ms_per_call": {k: round(v * 1000 / calls, 2) for k, v in
                                   sorted(layers.items(), key=lambda kv: -kv[1])},
            "layers_share": {k: round(v / total, 3) for k, v in sorted(layers.items(), key=lambda kv: -kv[1])},
            "top": _top(stats, calls)}


def _top(stats: pstats.Stats, calls: int, n: int = 25) -> list[str]:
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][3])
    out = []
    for (filename, line, func), (_cc, nc, tt, ct, _c) in rows:
        if "/app/" not in filename:
            continue
        out.append(f"{ct * 1000 / calls:7.2f} ms cum {tt * 1000 / calls:6.2f} own {nc / calls:6.1f}x "
                   f"{filename.split('/app/', 1)[-1]}:{line} {func}")
        if len(out) >= n:
            break
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile_writes", description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--tickets", type=int, default=2000)
    p.add_argument("--database-url", default=None)
    p.add_argument("--out", default=str(bench.ROOT / "bench" / "results"))
    args = p.parse_args(argv)
    url = args.database_url or bench.fresh_pg_database()
    from app import create_app

    app = create_app(bench.app_config(url))
    try:
        report = bench.init_and_seed(app, args.tickets, {"claim": args.calls + 10, "transition": args.calls + 10},
                                     articles=0)
        sns, ids, services = bench.sample_tickets(app)
        reqs = bench.Requests(sns, ids, services, report.pools)
        out_dir = Path(args.out)
        out_dir.mkdir(parents=True, exist_ok=True)
        result = {op: profile(app, reqs, op, who, args.calls, None)
                  for op, who in (("create_ticket", "alice"), ("operate_node CLAIM", "ops1"),
                                  ("operate_node TRANSITION", "leader"))}
    finally:
        with app.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
        if not args.database_url:
            bench.drop_pg_database(url)
    for op, r in result.items():
        bench.log(f"\n{op}: {r['wall_ms_per_call']} ms wall, {r['cpu_ms_per_call']} ms CPU, "
                  f"{r['statements_per_call']:.1f} statements per call ({r['ok']}/{r['calls']} ok)")
        for layer, ms in r["layers_ms_per_call"].items():
            bench.log(f"  {layer:42} {ms:6.2f} ms  {r['layers_share'][layer] * 100:5.1f} %")
        bench.log("  top (cumulative, app code):")
        for line in r["top"][:15]:
            bench.log("    " + line)
    path = Path(args.out) / f"{time.strftime('%Y%m%d-%H%M%S')}-write-profile.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    bench.log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
