"""The benchmark harness keeps working: a small run on SQLite with a werkzeug server in a thread.

The full benchmark (PostgreSQL, gunicorn, 10k+ tickets) is `python -m bench.run`, not part of
the suite; see docs/performance.md. These tests do not use the `app` fixture: the harness builds
its own app on its own SQLite file.
"""
from __future__ import annotations

import json
import re

import pytest

from app.infra.uow import commit
from app.services.flows import library as flows


@pytest.fixture(autouse=True)
def _fresh_flow_cache():
    """Compiled flows are cached per version id process-wide: keep the harness's out of other tests."""
    flows._compiled_cache.clear()
    yield
    flows._compiled_cache.clear()


def test_smoke_run_of_the_harness(tmp_path):
    from bench import run

    out_dir = tmp_path / "results"
    assert run.main(["--sqlite", str(tmp_path / "bench.sqlite"), "--server", "werkzeug", "--tickets", "200",
                     "--concurrency", "1,4", "--requests", "15", "--runs", "1", "--seconds", "20",
                     "--articles", "400", "--sla-running", "150", "--out", str(out_dir)]) == 0
    [path] = list(out_dir.glob("*.json"))
    out = json.loads(path.read_text(encoding="utf-8"))
    assert out["seed"]["tickets"] >= 200 and out["seed"]["users"] == 500
    assert set(out["results"]) == {name for name, _, _ in run.OPERATIONS}
    for op, per_c in out["results"].items():
        for c in ("1", "4"):
            cell = per_c[c]
            assert cell["requests"] == 15 and cell["errors"] == 0, (op, c, cell)
            assert cell["throughput"] > 0 and cell["p50_ms"] <= cell["p95_ms"] <= cell["p99_ms"]
            assert cell["ratio_to_ceiling"] > 0
        assert out["statements"][op]["ok"], op
    assert out["statements"]["ceiling GET /healthz"]["statements"] == 0
    # the issue-20 paths: an approval decision, a countersign vote, a parallel branch, the SLA scan
    assert {"approve (approval decision)", "countersign vote", "parallel-branch transition"} <= set(out["results"])
    scan = out["sla_scan"]
    assert scan["running_with_sla"] >= 150 and scan["idle_recorded"] == 0 and scan["busy_recorded"] > 0, scan
    assert scan["explain"] and "sla_check_at" in scan["explain"][0]["sql"] and not scan["full_scans"], scan
    assert out["targets"]["sla_scan_pass_le_1s_without_full_scan"]["running_tickets"] == scan["running_with_sla"]
    assert out["settings"]["ceiling"].startswith("GET /healthz")
    for op in run.LIST_OPS:
        assert out["explain"][op], f"no EXPLAIN for {op}"
    assert any("knowledge_fts" in p["sql"] for p in out["explain"]["knowledge search"])
    # the targets name the ticket lists only; the search is measured and explained, not judged
    assert set(out["targets"]["lists_p95_le_50ms_c1"]["p95_ms"]) == set(run.TARGET_LIST_OPS)
    assert "knowledge search" not in out["targets"]["list_queries_without_full_scans"]["full_scans"]


def test_seeded_articles_are_found_by_the_search_query(tmp_path):
    """The generated knowledge base: stored like save_article does, indexed, a handful of hits for the query."""
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Article, ArticleTag, ArticleVersion
    from app.services.knowledge.search import search_articles
    from bench import run

    app = create_app(run.app_config(f"sqlite:///{tmp_path / 'kb.sqlite'}"))
    assert app.test_cli_runner().invoke(args=["itsm", "init", "--demo"]).exit_code == 0
    assert run.seed_articles(app, 800) == 800
    assert run.seed_articles(app, 800) == 0          # topped up, not doubled
    with app.test_request_context():
        assert db.session.execute(select(func.count()).select_from(ArticleVersion)).scalar() == 800
        assert db.session.execute(select(func.count()).select_from(ArticleTag)).scalar() == 3 * 800
        article = db.session.execute(select(Article).where(Article.id == 10)).scalar_one()
        assert article.plain and "##" not in article.plain and article.category_id is not None
        result = search_articles(run.SEARCH_QUERY)
        assert result.total == 2 and all("打印机脱机" in h.article.title for h in result.hits)
        db.session.remove()
        db.engine.dispose()


def test_seed_writes_what_the_services_would(tmp_path):
    """Numbers unique and well-formed, steps and processors consistent, counters past the seeded numbers."""
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import SnCounter, StepProcessor, Ticket, TicketLog, TicketStep
    from app.services.people.users import find_user
    from app.services.tickets.operations import create_ticket
    from bench import run
    from bench.seed import seed

    app = create_app(run.app_config(f"sqlite:///{tmp_path / 'seed.sqlite'}"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["itsm", "init", "--demo"]).exit_code == 0
    report = seed(app, 300, pools={"claim": 5, "transition": 5}, batch=70, log=lambda m: None)
    assert report.tickets == 300 and len(report.pools["claim"]) == 5
    with app.app_context():
        sns = db.session.execute(select(Ticket.sn)).scalars().all()
        assert len(sns) == len(set(sns)) >= 300
        assert all(re.fullmatch(r"(REQ|CRQ|INC|PBI)\d{8}\d{6}", sn) for sn in sns)
        assert {t for t in db.session.execute(select(Ticket.service_type).distinct()).scalars()} == \
            {"request", "change", "event", "question"}
        statuses = set(db.session.execute(select(Ticket.status).distinct()).scalars())
        assert {"RUNNING", "FINISHED"} <= statuses
        # every processor row points at an open step of its own ticket, with that step's status
        bad = db.session.execute(select(func.count()).select_from(StepProcessor).join(
            TicketStep, TicketStep.id == StepProcessor.step_id).where(
            (TicketStep.ticket_id != StepProcessor.ticket_id) | TicketStep.is_open.is_(False)
            | (TicketStep.status != StepProcessor.step_status))).scalar()
        assert bad == 0
        # running tickets have an open step; finished ones none
        running_without = db.session.execute(select(func.count()).select_from(Ticket).where(
            Ticket.status == "RUNNING", ~select(TicketStep.id).where(
                TicketStep.ticket_id == Ticket.id, TicketStep.is_open.is_(True)).exists())).scalar()
        assert running_without == 0
        assert db.session.execute(select(func.count()).select_from(TicketLog)).scalar() >= 300
        t = db.session.execute(select(Ticket).where(Ticket.id == max(db.session.execute(
            select(Ticket.id)).scalars()) - 20)).scalar_one()
        assert t.values["title"] == t.title
        # a ticket created afterwards through the services gets a fresh number
        before = db.session.execute(select(func.max(SnCounter.value))).scalar()
        ticket = create_ticket(service_id=_service_id("account_apply"), creator=find_user("alice"),
                               fields={"title": "t", "system": "crm", "account_type": "permanent", "reason": "r"})
        commit()
        assert ticket.sn not in sns and before >= 1
        db.session.remove()
        db.engine.dispose()


def _service_id(key: str) -> int:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Service

    return db.session.execute(select(Service.id).where(Service.key == key)).scalar_one()


def test_statement_counts_do_not_grow_with_the_number_of_tickets(tmp_path):
    """Every benchmarked operation costs the same statements at 100 and at 600 tickets."""
    from app import create_app
    from bench import run
    from bench.seed import seed

    app = create_app(run.app_config(f"sqlite:///{tmp_path / 'count.sqlite'}"))
    pools = {name: 4 for name in run.POOL_OF.values()}        # every write operation's pool
    report = run.init_and_seed(app, 100, pools, articles=100)
    sns, ids, services = run.sample_tickets(app)
    small, _ = run.count_statements(app, run.Requests(sns, ids, services, report.pools))
    more = seed(app, 500, pools=pools, log=lambda m: None)
    sns, ids, services = run.sample_tickets(app)
    large, _ = run.count_statements(app, run.Requests(sns, ids, services, more.pools))
    assert all(v["ok"] for v in small.values()) and all(v["ok"] for v in large.values())
    assert {k: v["statements"] for k, v in small.items()} == {k: v["statements"] for k, v in large.items()}
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
