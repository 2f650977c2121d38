"""knowledge search at 100,000 articles: a CJK bigram index beside the trigram one (issue 20)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30

Two-character Chinese terms (打印, 网络) had no index to use: trigram indexes need three characters.
- SQLite: a contentless FTS5 table `knowledge_fts_bigrams` of every adjacent pair of CJK characters,
  kept in sync by the article triggers (which call `itsm_cjk_bigrams`, registered on every connection).
- PostgreSQL: `itsm_cjk_bigrams()` and stored columns `search_bigrams` (tsvector, GIN) and `search_text`
  (lower-cased title, tags and text, pg_trgm GIN; it replaces the three ILIKE trigram indexes).
All of it is built by `app.infra.search_ddl.install_search_index` (idempotent).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_OLD_SQLITE_TRIGGERS = [
    """CREATE TRIGGER knowledge_fts_ai AFTER INSERT ON knowledge_articles BEGIN
      INSERT INTO knowledge_fts(rowid, title, plain, tags) VALUES (new.id, new.title, new.plain, new.tags);
    END""",
    """CREATE TRIGGER knowledge_fts_ad AFTER DELETE ON knowledge_articles BEGIN
      INSERT INTO knowledge_fts(knowledge_fts, rowid, title, plain, tags)
        VALUES ('delete', old.id, old.title, old.plain, old.tags);
    END""",
    """CREATE TRIGGER knowledge_fts_au AFTER UPDATE ON knowledge_articles BEGIN
      INSERT INTO knowledge_fts(knowledge_fts, rowid, title, plain, tags)
        VALUES ('delete', old.id, old.title, old.plain, old.tags);
      INSERT INTO knowledge_fts(rowid, title, plain, tags) VALUES (new.id, new.title, new.plain, new.tags);
    END""",
]


def upgrade():
    from app.infra.search_ddl import install_search_index

    install_search_index(op.get_bind())


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_knowledge_articles_bigrams")
        op.execute("DROP INDEX IF EXISTS ix_knowledge_articles_trgm_text")
        op.execute("ALTER TABLE knowledge_articles DROP COLUMN IF EXISTS search_bigrams")
        op.execute("ALTER TABLE knowledge_articles DROP COLUMN IF EXISTS search_text")
        op.execute("DROP FUNCTION IF EXISTS itsm_cjk_bigrams(text)")
        for column in ("title", "plain", "tags"):
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_knowledge_articles_trgm_{column} ON knowledge_articles "
                       f"USING gin ({column} gin_trgm_ops)")
        return
    for trigger in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS knowledge_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS knowledge_fts_bigrams")
    for statement in _OLD_SQLITE_TRIGGERS:
        op.execute(statement)
