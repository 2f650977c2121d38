"""Knowledge search at scale (issue 20): the PostgreSQL plans use the search indexes, never a sequential scan
of the articles, and the work per query stays bounded (a capped total, a ranked window).

20,000 articles are generated in SQL (the generated search columns fill themselves), then ANALYZEd, so the
planner sees a realistic table: every topic word is in 1 article in 40, every symptom in 1 in 10. The plans
are the real ones (enable_seqscan stays on) for the statements `search_articles` ran, with their parameters.
"""
import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.infra.uow import commit
from app.services.knowledge.search import RANK_WINDOW, search_articles

ARTICLES = 20_000
TOPICS = ["打印机", "无线网络", "证书", "防火墙", "数据库", "虚拟机", "投影仪", "扫描仪"]
TOPICS_EN = ["printer", "wireless", "certificate", "firewall", "database", "hypervisor", "projector", "scanner"]
SYMPTOMS = ["脱机", "速度很慢", "无法连接", "登录失败", "报错", "无响应", "空间不足", "权限不足", "配置丢失", "频繁断开"]


@pytest.fixture
def many_articles(demo):
    with demo.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("EXPLAIN plans are checked on PostgreSQL (SQLite answers from its FTS5 tables)")
        fillers = [f"耳麦{n}" for n in range(40 - len(TOPICS))]   # 40 slots: each topic word in 1 article in 40
        topics, topics_en = TOPICS + fillers, TOPICS_EN + [f"headset{n}" for n in range(len(fillers))]
        db.session.execute(text("""
            INSERT INTO knowledge_articles (title, body, plain, tags, author, version, created_at, updated_at,
                                            updated_by)
            SELECT t || s || '怎么办 #' || i, b, b, t, 'desk', 1, now(), now(), 'desk'
            FROM (SELECT i, (CAST(:topics AS text[]))[1 + i % 40] AS t, (CAST(:symptoms AS text[]))[1 + (i / 40) % 10] AS s,
                         (CAST(:topics AS text[]))[1 + i % 40] || (CAST(:symptoms AS text[]))[1 + (i / 40) % 10] || '。The ' || (CAST(:topics_en AS text[]))[1 + i % 40]
                         || ' is offline. 请先检查本机设置，重启相关服务后等待三到五分钟再验证。Restart the service '
                         || 'and check again. 工单编号 ' || i AS b
                  FROM generate_series(1, :n) AS i) AS g
        """), {"topics": topics, "symptoms": SYMPTOMS, "topics_en": topics_en, "n": ARTICLES})
        commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE knowledge_articles"))
    return demo


def plans_of(app, query: str) -> tuple[list[str], object, list[str]]:
    """The EXPLAIN ANALYZE text of every statement on knowledge_articles that the search ran, its result,
    and the text of each hit (lower-cased title and plain text)."""
    captured = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if "knowledge_articles" in statement and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", grab)
        try:
            result = search_articles(query)
        finally:
            event.remove(db.engine, "before_cursor_execute", grab)
        texts = [(h.article.title + " " + h.article.plain).lower() for h in result.hits]
        cursor = db.session.connection().connection.driver_connection.cursor()
        plans = []
        for statement, parameters in captured:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        db.session.rollback()
    return [p for p in plans if "pg_class" not in p], result, texts


@pytest.mark.parametrize("query, index", [
    ("证书", "ix_knowledge_articles_bigrams"),                  # two Chinese characters
    ("打印机", "ix_knowledge_articles_bigrams"),                # three
    ("无线网络", "ix_knowledge_articles_bigrams"),              # four
    ("firewall", "ix_knowledge_articles_tsv_stored"),          # an English word
    ("打印机 脱机", "ix_knowledge_articles_bigrams"),           # two terms, 1 article in 400
    ("x12", "ix_knowledge_articles_trgm_text"),                # neither: a substring of the lower-cased copy
])
def test_search_statements_use_the_search_indexes_not_a_sequential_scan(many_articles, query, index):
    plans, result, texts = plans_of(many_articles, query)
    assert len(plans) == 2                                      # the capped count and the ranked page
    for plan in plans:
        assert "Seq Scan on knowledge_articles" not in plan, plan
        assert index in plan, plan
    if query != "x12":
        assert texts and all(term.lower() in t for term in query.split() for t in texts)


def test_a_term_in_most_articles_counts_up_to_the_cap_and_ranks_a_bounded_window(many_articles):
    plans, result, _ = plans_of(many_articles, "检查")             # in every article
    assert result.total_text == "1000+" and len(result.hits) == 20
    count_plan, page_plan = plans
    assert "rows=1001" in count_plan                            # the count stops at the cap
    assert f"rows={RANK_WINDOW}" in page_plan                   # only the window is ranked

