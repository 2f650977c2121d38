"""The full-text search index objects of `knowledge_articles`: DDL per database, install, drop, probe.

Infrastructure for `app.services.knowledge.search` (which queries them), the models (which
create them with the table in tests) and the migrations. See that module for how search works.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

from app.extensions import db

FTS_TABLE = "knowledge_fts"
PG_TSV_COLUMN = "search_tsv"
SEARCH_OBJECT_PREFIXES = (FTS_TABLE, "ix_knowledge_articles_trgm", "ix_knowledge_articles_tsv", PG_TSV_COLUMN)
PG_TSVECTOR = "to_tsvector('english'::regconfig, title || ' ' || plain)"
MIN_TRIGRAM = 3
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"

_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, plain, tags, "
    "content='knowledge_articles', content_rowid='id', tokenize='trigram')",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON knowledge_articles BEGIN
      INSERT INTO {FTS_TABLE}(rowid, title, plain, tags) VALUES (new.id, new.title, new.plain, new.tags);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON knowledge_articles BEGIN
      INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, plain, tags)
        VALUES ('delete', old.id, old.title, old.plain, old.tags);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE ON knowledge_articles BEGIN
      INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, plain, tags)
        VALUES ('delete', old.id, old.title, old.plain, old.tags);
      INSERT INTO {FTS_TABLE}(rowid, title, plain, tags) VALUES (new.id, new.title, new.plain, new.tags);
    END""",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]

_POSTGRES_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_knowledge_articles_trgm_title ON knowledge_articles USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_knowledge_articles_trgm_plain ON knowledge_articles USING gin (plain gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_knowledge_articles_trgm_tags ON knowledge_articles USING gin (tags gin_trgm_ops)",
    f"ALTER TABLE knowledge_articles ADD COLUMN IF NOT EXISTS {PG_TSV_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({PG_TSVECTOR}) STORED",
    "DROP INDEX IF EXISTS ix_knowledge_articles_tsv",          # the expression index of migration 0004
    f"CREATE INDEX IF NOT EXISTS ix_knowledge_articles_tsv_stored ON knowledge_articles USING gin ({PG_TSV_COLUMN})",
]


# --- the index objects -------------------------------------------------------------

def search_ddl(dialect: str) -> list[str]:
    """The statements that build the search index on this database (idempotent; for migrations too)."""
    return {"sqlite": _SQLITE_DDL, "postgresql": _POSTGRES_DDL}.get(dialect, [])


def install_search_index(connection: Connection) -> None:
    """Create the full-text index objects for `knowledge_articles` (safe to run again)."""
    for statement in search_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


def drop_search_index(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def is_search_object(name: str | None) -> bool:
    """True for the tables/indexes made here: schema comparisons (alembic include_object) should skip them."""
    return bool(name) and name.startswith(SEARCH_OBJECT_PREFIXES)


_checked: set[str] = set()


def ensure_search_index() -> None:
    """Build the index once per process if a database made without it lacks it (e.g. before the migration)."""
    url = str(db.engine.url)
    if url in _checked:
        return
    dialect = db.engine.dialect.name
    probe = {"sqlite": f"SELECT 1 FROM sqlite_master WHERE name = '{FTS_TABLE}'",
             "postgresql": "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_knowledge_articles_tsv_stored'"}.get(dialect)
    if probe and db.session.execute(text(probe)).first() is None:
        with db.engine.begin() as connection:
            install_search_index(connection)
    _checked.add(url)
