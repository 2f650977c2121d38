"""Knowledge search at scale: `python -m bench.search [--articles 10000,100000] [--sqlite PATH] [--repeat 60]`.

Issue 20, target 2: p95 <= 20 ms at concurrency 1 with 100,000 generated articles (Chinese and
English, `bench.run.seed_articles`), for two-, three- and four-character Chinese terms and English
words, on PostgreSQL and SQLite. For each article count (the knowledge base is topped up between
counts) and each query it times, in-process, sequentially (c=1):
- `service`: `search_articles(q)` alone (count + ranked page, the SQL and the highlighting);
- `page`: `GET /knowledge/?q=` through the Flask test client as alice (the whole request);
and, on PostgreSQL, EXPLAINs the search's statements and flags any `Seq Scan on knowledge_articles`.
Prints a table and writes `bench/results/search-<timestamp>.json`.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from bench.run import (DEMO_PASSWORD, KB_AUTHORS, KB_CATEGORIES, app_config, article_text, drop_pg_database,
                       fresh_pg_database)

# (label, query, what it exercises); match counts depend on the generator: topics 1 in 40, symptoms 1 in 10
QUERIES = [
    ("zh-2 symptom", "脱机", "two CJK characters: the bigram index, 1 article in 10"),
    ("zh-2 topic", "证书", "two CJK characters, 1 in 40"),
    ("zh-2 common", "检查", "two CJK characters in most articles: the window and the capped count"),
    ("zh-3 topic", "打印机", "three characters: trigrams, 1 in 40"),
    ("zh-3 common", "服务台", "three characters in many articles"),
    ("zh-4 topic", "无线网络", "four characters, 1 in 40"),
    ("zh-4 symptom", "速度很慢", "four characters, 1 in 10"),
    ("zh 3+2", "打印机 脱机", "the benchmark's query: 1 in 400"),
    ("en word", "printer", "an English word: trigrams or the English tsvector"),
    ("en common", "restart", "an English word in many articles"),
    ("en 2 words", "firewall offline", "two English words, 1 in 400"),
]


def fast_plain(body: str) -> str:
    """What `plain_text(render_markdown(body))` gives for a generated body, without Markdown (10 ms an article)."""
    text = re.sub(r"^(## |> |\d+\. )", "", body, flags=re.M).replace("`", "")
    return " ".join(text.split())


def seed_articles(app, n: int, rng_seed: int = 8, batch: int = 5000) -> int:
    """Top the knowledge base up to `n` articles: `bench.run.seed_articles`'s text and rows, in Core batches.

    The plain text is `fast_plain` (checked against the real renderer on the first articles); the search
    index follows by itself (triggers on SQLite, generated columns on PostgreSQL).
    """
    import random
    from datetime import timedelta

    from sqlalchemy import func, insert, select, text

    from app.extensions import db
    from app.infra.uow import commit
    from app.models import Article, ArticleTag, ArticleVersion, KnowledgeCategory
    from app.services.knowledge import articles as kb
    from app.services.people.users import find_user

    rng = random.Random(rng_seed)
    with app.app_context():
        have = db.session.execute(select(func.count()).select_from(Article)).scalar_one()
        if have >= n:
            return 0
        existing = dict(db.session.execute(select(KnowledgeCategory.name, KnowledgeCategory.id)).all())
        admin = find_user("admin")
        categories = [existing.get(name) or kb.create_category(admin, name).id for name in KB_CATEGORIES]
        now = datetime.utcnow()
        pending = []
        for i in range(n):
            title, body, tags, category = article_text(i, rng)   # drawn for every i: the same text per index
            created = now - timedelta(days=730) * rng.random()
            updated = min(now, created + timedelta(days=60) * rng.random())
            author = rng.choice(KB_AUTHORS)
            if i < have:
                continue
            plain = fast_plain(body)
            if i < 200:
                assert plain == kb.plain_text(kb.render_markdown(body)), (plain, body)
            pending.append({"title": title, "body": body, "plain": plain, "tags": ",".join(tags),
                            "category_id": categories[category], "author": author, "version": 1,
                            "created_at": created, "updated_at": updated, "updated_by": author})
            if len(pending) == batch or i == n - 1:
                ids = db.session.execute(insert(Article).returning(Article.id, sort_by_parameter_order=True), pending).scalars().all()
                db.session.execute(insert(ArticleVersion), [
                    {"article_id": a_id, "number": 1, "title": a["title"], "body": a["body"], "tags": a["tags"],
                     "category_id": a["category_id"], "note": "", "created_by": a["author"],
                     "created_at": a["created_at"]} for a_id, a in zip(ids, pending)])
                db.session.execute(insert(ArticleTag), [{"article_id": a_id, "tag": t} for a_id, a in zip(ids, pending)
                                                        for t in a["tags"].split(",")])
                commit()
                pending = []
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE knowledge_articles, knowledge_article_versions, "
                                  "knowledge_article_tags"))
        else:
            db.session.execute(text("ANALYZE"))
            commit()
        db.session.remove()
    return n - have


def timed(fn, repeat: int) -> dict:
    for _ in range(3):
        fn()                                   # warm: compiled statements, caches, buffers
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
    return {"p50": round(statistics.median(samples), 2), "p95": round(p95, 2), "max": round(samples[-1], 2)}


def login(app, username: str):
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"login as {username} failed"
    return client


def explain(app, query: str) -> list[str]:
    """EXPLAIN every SELECT the search runs on PostgreSQL; return the plans that scan knowledge_articles."""
    from sqlalchemy import event

    from app.extensions import db
    from app.services.knowledge import search_articles

    captured = []
    with app.app_context():
        def grab(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "knowledge_articles" in statement:
                captured.append((statement, parameters))
        event.listen(db.engine, "before_cursor_execute", grab)
        try:
            search_articles(query)
        finally:
            event.remove(db.engine, "before_cursor_execute", grab)
        plans = []
        for statement, parameters in captured:
            cursor = db.session.connection().connection.driver_connection.cursor()
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        db.session.remove()
    return plans


def measure(app, client, repeat: int, pg: bool) -> list[dict]:
    from app.extensions import db
    from app.services.knowledge import search_articles

    rows = []
    ceiling = timed(lambda: client.get("/healthz"), repeat)      # the same client, no session, no database
    print(f"  ceiling GET /healthz p50 {ceiling['p50']:.1f} p95 {ceiling['p95']:.1f}; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    rows.append({"label": "ceiling", "query": "/healthz", "page": ceiling, "load_average": os.getloadavg()[0]})
    for label, query, note in QUERIES:
        def service():
            with app.app_context():
                result = search_articles(query)
                db.session.remove()
            return result

        def page():
            response = client.get(f"/knowledge/?q={quote(query)}")
            assert response.status_code == 200

        result = service()
        row = {"label": label, "query": query, "note": note, "matches": result.total_text,
               "service": timed(service, repeat), "page": timed(page, repeat)}
        if pg:
            plans = explain(app, query)
            row["seq_scan"] = any("Seq Scan on knowledge_articles" in p for p in plans)
            row["sql_ms"] = [float(m) for p in plans for m in re.findall(r"Execution Time: ([\d.]+) ms", p)]
            row["plans"] = plans
        rows.append(row)
        print(f"  {label:13} {query:18} matches {row['matches']:>6}  service p50 {row['service']['p50']:6.1f} "
              f"p95 {row['service']['p95']:6.1f}  page p50 {row['page']['p50']:6.1f} p95 {row['page']['p95']:6.1f}"
              + (f"  seq scan: {row['seq_scan']}  SQL {'+'.join(f'{x:.1f}' for x in row['sql_ms'])} ms" if pg else ""),
              flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--sqlite", help="a SQLite file instead of a fresh PostgreSQL database")
    parser.add_argument("--database-url", help="an existing PostgreSQL database (kept)")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    from app import create_app

    fresh = not (args.sqlite or args.database_url)
    url = f"sqlite:///{Path(args.sqlite).resolve()}" if args.sqlite else args.database_url or fresh_pg_database()
    app = create_app(app_config(url))
    report = {"database": "sqlite" if args.sqlite else "postgresql", "repeat": args.repeat, "runs": []}
    try:
        result = app.test_cli_runner().invoke(args=["itsm", "init", "--demo"])
        if result.exit_code != 0 and "已存在" not in result.output:
            raise SystemExit(f"itsm init --demo failed: {result.output}")
        client = login(app, "alice")
        for n in [int(x) for x in args.articles.split(",")]:
            t0 = time.perf_counter()
            added = seed_articles(app, n)
            seconds = time.perf_counter() - t0
            print(f"{n} articles ({added} added in {seconds:.0f} s), {report['database']}, c=1, "
                  f"{args.repeat} timed calls per cell (ms):", flush=True)
            report["runs"].append({"articles": n, "seed_seconds": round(seconds, 1),
                                   "rows": measure(app, client, args.repeat, report["database"] == "postgresql")})
    finally:
        if fresh and not args.keep_db:
            from app.extensions import db

            with app.app_context():
                db.engine.dispose()
            drop_pg_database(url)
    out = Path(args.out) / f"search-{datetime.now():%Y%m%d-%H%M%S}-{report['database']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
