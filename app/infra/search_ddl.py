"""The full-text search index objects of `knowledge_articles`: DDL per database, install, drop, probe.

Infrastructure for `app.services.knowledge.search` (which queries them), the models (which
create them with the table in tests) and the migrations. See that module for how search works.

Two indexes per database, so every term of two characters or more is an index lookup:
- trigrams for terms of three characters or more (any script): SQLite's FTS5 `trigram`
  tokenizer; PostgreSQL's pg_trgm GIN on `search_text`, a stored lower-cased copy of
  title, tags and text (plain `LIKE` on it is cheaper than `ILIKE`, which lower-cases
  every row again);
- CJK bigrams for two-character Chinese terms, which no trigram index can answer: every
  pair of adjacent CJK characters of the article, as words of a second FTS5 table
  (SQLite) or a stored tsvector (PostgreSQL). Both compute the pairs with the same rule
  (`cjk_bigrams`; a SQL function `itsm_cjk_bigrams` on each database), so they agree.
"""
from __future__ import annotations

import re
import sqlite3

from sqlalchemy import Connection, text

from app.extensions import db

FTS_TABLE = "knowledge_fts"
BIGRAM_TABLE = "knowledge_fts_bigrams"
PG_TSV_COLUMN = "search_tsv"
PG_TEXT_COLUMN = "search_text"
PG_BIGRAM_COLUMN = "search_bigrams"
BIGRAM_FUNCTION = "itsm_cjk_bigrams"
SEARCH_OBJECT_PREFIXES = (FTS_TABLE, "ix_knowledge_articles_trgm", "ix_knowledge_articles_tsv",
                          "ix_knowledge_articles_bigrams", PG_TSV_COLUMN, PG_TEXT_COLUMN, PG_BIGRAM_COLUMN)
PG_TSVECTOR = "to_tsvector('english'::regconfig, title || ' ' || plain)"
SEARCHED_TEXT = "coalesce(title, '') || ' ' || coalesce(tags, '') || ' ' || coalesce(plain, '')"
MIN_TRIGRAM = 3
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
CJK = "\u3400-\u9fff\uf900-\ufaff"          # CJK unified ideographs (with extension A) and compatibility ideographs
_CJK_RUN = re.compile(f"[{CJK}]{{2,}}")
_CJK_PAIR = re.compile(f"^[{CJK}]{{2}}$")


def cjk_bigrams(value: str | None) -> str:
    """Every pair of adjacent CJK characters in `value`, de-duplicated, space-separated (FTS5 words)."""
    pairs = {run[i:i + 2] for run in _CJK_RUN.findall(value or "") for i in range(len(run) - 1)}
    return " ".join(sorted(pairs))


def is_cjk_pair(term: str) -> bool:
    """True for a term of exactly two CJK characters: the bigram index answers it exactly."""
    return bool(_CJK_PAIR.match(term))


def register_sqlite_functions(dbapi_connection) -> None:
    """Give a SQLite connection the function the bigram triggers call (every connection that writes articles)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(BIGRAM_FUNCTION, 1, cjk_bigrams, deterministic=True)


_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, plain, tags, "
    "content='knowledge_articles', content_rowid='id', tokenize='trigram')",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {BIGRAM_TABLE} USING fts5(title, body, content='', tokenize='unicode61')",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ai",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ad",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_au",
    f"""CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON knowledge_articles BEGIN
      INSERT INTO {FTS_TABLE}(rowid, title, plain, tags) VALUES (new.id, new.title, new.plain, new.tags);
      INSERT INTO {BIGRAM_TABLE}(rowid, title, body) VALUES (new.id, {{new}});
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON knowledge_articles BEGIN
      INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, plain, tags)
        VALUES ('delete', old.id, old.title, old.plain, old.tags);
      INSERT INTO {BIGRAM_TABLE}({BIGRAM_TABLE}, rowid, title, body) VALUES ('delete', old.id, {{old}});
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE ON knowledge_articles BEGIN
      INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, plain, tags)
        VALUES ('delete', old.id, old.title, old.plain, old.tags);
      INSERT INTO {BIGRAM_TABLE}({BIGRAM_TABLE}, rowid, title, body) VALUES ('delete', old.id, {{old}});
      INSERT INTO {FTS_TABLE}(rowid, title, plain, tags) VALUES (new.id, new.title, new.plain, new.tags);
      INSERT INTO {BIGRAM_TABLE}(rowid, title, body) VALUES (new.id, {{new}});
    END""",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
    f"INSERT INTO {BIGRAM_TABLE}({BIGRAM_TABLE}) VALUES ('delete-all')",
    f"INSERT INTO {BIGRAM_TABLE}(rowid, title, body) SELECT id, {{row}} FROM knowledge_articles",
]
_BIGRAM_VALUES = f"{BIGRAM_FUNCTION}(coalesce(R.title, '')), {BIGRAM_FUNCTION}(coalesce(R.tags, '') || ' ' || coalesce(R.plain, ''))"
_SQLITE_DDL = [s.replace("{new}", _BIGRAM_VALUES.replace("R.", "new.")).replace("{old}", _BIGRAM_VALUES.replace("R.", "old."))
               .replace("{row}", _BIGRAM_VALUES.replace("R.", "")) for s in _SQLITE_DDL]

_POSTGRES_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # the same pairs as cjk_bigrams(): split into CJK runs, every adjacent pair of each run
    f"""CREATE OR REPLACE FUNCTION {BIGRAM_FUNCTION}(doc text) RETURNS tsvector
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(array_to_tsvector(array_agg(DISTINCT substr(run, i, 2))), ''::tsvector)
        FROM regexp_split_to_table(doc, '[^{CJK}]+') AS run, generate_series(1, length(run) - 1) AS i
      $$""",
    "DROP INDEX IF EXISTS ix_knowledge_articles_trgm_title",      # replaced by the one index on search_text
    "DROP INDEX IF EXISTS ix_knowledge_articles_trgm_plain",
    "DROP INDEX IF EXISTS ix_knowledge_articles_trgm_tags",
    f"ALTER TABLE knowledge_articles ADD COLUMN IF NOT EXISTS {PG_TSV_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({PG_TSVECTOR}) STORED",
    f"ALTER TABLE knowledge_articles ADD COLUMN IF NOT EXISTS {PG_TEXT_COLUMN} text "
    f"GENERATED ALWAYS AS (lower({SEARCHED_TEXT})) STORED",
    f"ALTER TABLE knowledge_articles ADD COLUMN IF NOT EXISTS {PG_BIGRAM_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({BIGRAM_FUNCTION}({SEARCHED_TEXT})) STORED",
    "DROP INDEX IF EXISTS ix_knowledge_articles_tsv",          # the expression index of migration 0004
    f"CREATE INDEX IF NOT EXISTS ix_knowledge_articles_tsv_stored ON knowledge_articles USING gin ({PG_TSV_COLUMN})",
    f"CREATE INDEX IF NOT EXISTS ix_knowledge_articles_trgm_text ON knowledge_articles "
    f"USING gin ({PG_TEXT_COLUMN} gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS ix_knowledge_articles_bigrams ON knowledge_articles USING gin ({PG_BIGRAM_COLUMN})",
]


# --- the index objects -------------------------------------------------------------

def search_ddl(dialect: str) -> list[str]:
    """The statements that build the search index on this database (idempotent; for migrations too)."""
    return {"sqlite": _SQLITE_DDL, "postgresql": _POSTGRES_DDL}.get(dialect, [])


def install_search_index(connection: Connection) -> None:
    """Create the full-text index objects for `knowledge_articles` (safe to run again)."""
    if connection.dialect.name == "sqlite":
        register_sqlite_functions(connection.connection.driver_connection)
    for statement in search_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


def drop_search_index(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {BIGRAM_TABLE}")


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
    probe = {"sqlite": f"SELECT 1 FROM sqlite_master WHERE name = '{BIGRAM_TABLE}'",
             "postgresql": "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_knowledge_articles_bigrams'"}.get(dialect)
    if probe and db.session.execute(text(probe)).first() is None:
        with db.engine.begin() as connection:
            install_search_index(connection)
    _checked.add(url)
