"""Full-text search over knowledge articles: one interface, one implementation per database.

SQLite: an FTS5 table with the trigram tokenizer (`knowledge_fts`, external content on
`knowledge_articles`, kept in sync by three triggers, so any writer keeps it right).
Terms of three characters or more go through MATCH, ranked by bm25 (title weighs most)
with FTS5's snippet(); shorter terms (打印, 网络: trigram cannot match them) fall back to
LIKE on the articles table, ranked by where and how often they occur.

PostgreSQL: pg_trgm GIN indexes on title, text and tags serve `ILIKE '%term%'` for any
length (two-character terms scan the whole index), plus a stored generated column
`search_tsv = to_tsvector('english', title || ' ' || plain)` with a GIN index, so English
words also match by stem (`printed` finds `printing`). Ranked by the same occurrence score
plus ts_rank. The vector is stored, not computed per query: to_tsvector costs about 0.1 ms
per Chinese article, so a planner that chose to scan 2,000 articles spent 250 ms on it
per term (issue 8's benchmark found this).

`install_search_index(connection)` creates the index objects (called after the articles
table is created, by a migration, or lazily by `ensure_search_index`).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import and_, case, column, func, literal, literal_column, or_, select, table, text
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.infra.search_ddl import FTS_TABLE, MARK_CLOSE, MARK_OPEN, MIN_TRIGRAM, PG_TSV_COLUMN, ensure_search_index
from app.models import Article

# --- searching -----------------------------------------------------------------------

@dataclass
class Hit:
    article: Article
    score: float
    title_html: Markup
    snippet_html: Markup


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    terms: list[str]
    engine: str          # "fts5", "like" or "postgresql": what answered, shown in the page footer


def query_terms(query: str) -> list[str]:
    """Whitespace-separated terms, de-duplicated, at most 8 (all must match)."""
    seen: list[str] = []
    for term in (query or "").split():
        term = term.strip()[:64]
        if term and term.lower() not in [s.lower() for s in seen]:
            seen.append(term)
    return seen[:8]


def search_articles(query: str, *, category_ids: list[int] | None = None, limit: int = 20,
                    offset: int = 0) -> SearchResult:
    """Articles matching every term of `query`, best first, with highlighted title and snippet."""
    terms = query_terms(query)
    if not terms:
        return SearchResult([], 0, [], "")
    ensure_search_index()
    backend = _PostgresSearch() if db.engine.dialect.name == "postgresql" else _SqliteSearch()
    stmt, engine_name = backend.statement(terms)
    if category_ids is not None:
        stmt = stmt.where(Article.category_id.in_(category_ids or [-1]))
    total = db.session.execute(select(func.count()).select_from(
        stmt.order_by(None).with_only_columns(Article.id).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(limit).offset(offset)).all()
    hits = [Hit(row[0], float(row[1] or 0), highlight(row[0].title, terms, whole=True),
                _snippet_markup(row[2]) if len(row) > 2 and row[2] and MARK_OPEN in row[2]
                else highlight(row[0].plain, terms)) for row in rows]
    return SearchResult(hits, total, terms, engine_name)


def _contains(col, term: str) -> ColumnElement:
    """Case-insensitive substring test; ILIKE on PostgreSQL (served by the trigram indexes)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return col.ilike(f"%{escaped}%", escape="\\")


def _occurrence_score(term: str) -> ColumnElement:
    """10 per title hit, 5 per tag hit, 1 per occurrence in the text: the same on both databases."""
    low = term.lower()
    occurrences = (func.length(func.lower(Article.plain)) -
                   func.length(func.replace(func.lower(Article.plain), low, ""))) * 1.0 / len(low)
    return (case((_contains(Article.title, term), 10.0), else_=0.0)
            + case((_contains(Article.tags, term), 5.0), else_=0.0) + occurrences)


def _like_match(term: str) -> ColumnElement:
    return or_(_contains(Article.title, term), _contains(Article.plain, term), _contains(Article.tags, term))


class _SqliteSearch:
    def statement(self, terms: list[str]):
        long_terms = [t for t in terms if len(t) >= MIN_TRIGRAM]
        short_terms = [t for t in terms if len(t) < MIN_TRIGRAM]
        if not long_terms:
            score = sum((_occurrence_score(t) for t in short_terms), literal(0.0))
            stmt = select(Article, score.label("score")).where(and_(*[_like_match(t) for t in short_terms]))
            return stmt.order_by(score.desc(), Article.updated_at.desc(), Article.id.desc()), "like"
        match = " ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        score = literal_column(f"-bm25({FTS_TABLE}, 10.0, 1.0, 5.0)")
        snippet = literal_column(f"snippet({FTS_TABLE}, 1, char(2), char(3), '…', 24)")
        fts = table(FTS_TABLE, column("rowid"))
        stmt = (select(Article, score.label("score"), snippet.label("snippet"))
                .select_from(fts.join(Article, fts.c.rowid == Article.id))
                .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=match)))
        for t in short_terms:
            stmt = stmt.where(_like_match(t))
        return stmt.order_by(literal_column("score").desc(), Article.updated_at.desc(), Article.id.desc()), "fts5"


class _PostgresSearch:
    def statement(self, terms: list[str]):
        tsv = literal_column(f"{Article.__tablename__}.{PG_TSV_COLUMN}")      # stored: see the module docstring
        conditions, score = [], literal(0.0)
        for t in terms:
            tsq = func.plainto_tsquery(literal_column("'english'::regconfig"), t)
            conditions.append(or_(_like_match(t), tsv.op("@@")(tsq)))
            score = score + _occurrence_score(t) + func.ts_rank(tsv, tsq) * 10.0
        stmt = select(Article, score.label("score")).where(and_(*conditions))
        return stmt.order_by(score.desc(), Article.updated_at.desc(), Article.id.desc()), "postgresql"


# --- highlighting --------------------------------------------------------------------

def _snippet_markup(raw: str) -> Markup:
    """FTS5 snippet text (marks as control characters) → escaped HTML with <mark>."""
    escaped = html.escape(raw)
    return Markup(escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))


def _stem_pattern(term: str) -> str:
    """A crude English stem for highlighting what PostgreSQL matched by stem (printed → print\\w*)."""
    if re.fullmatch(r"[A-Za-z]{5,}", term):
        stem = re.sub(r"(ing|ed|es|er|s)$", "", term, flags=re.I)
        return re.escape(stem) + r"\w*"
    return re.escape(term)


def highlight(textvalue: str, terms: list[str], *, whole: bool = False, width: int = 120) -> Markup:
    """Escape `textvalue` and wrap each term in <mark>; unless `whole`, cut a window around the first hit."""
    textvalue = textvalue or ""
    pattern = re.compile("|".join(sorted((re.escape(t) for t in terms), key=len, reverse=True)), re.I) if terms \
        else None
    first = pattern.search(textvalue) if pattern else None
    if pattern and first is None:
        pattern = re.compile("|".join(_stem_pattern(t) for t in terms), re.I)
        first = pattern.search(textvalue)
    if not whole:
        start = max(0, (first.start() if first else 0) - width // 4)
        end = min(len(textvalue), start + width)
        textvalue = ("…" if start else "") + textvalue[start:end] + ("…" if end < len(textvalue) else "")
    if pattern is None:
        return Markup(html.escape(textvalue))
    out, last = [], 0
    for m in pattern.finditer(textvalue):
        out.append(html.escape(textvalue[last:m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        last = m.end()
    out.append(html.escape(textvalue[last:]))
    return Markup("".join(out))
