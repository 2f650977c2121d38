"""Full-text search over knowledge articles: one interface, one implementation per database.

Every term of two characters or more is an index lookup (`app.infra.search_ddl` builds them):
- three characters or more: trigrams (SQLite FTS5 `trigram` table; PostgreSQL pg_trgm GIN on
  `search_text`, the stored lower-cased title, tags and text, searched with `LIKE`);
- two CJK characters (打印, 网络): the CJK bigram index (a second FTS5 table; a stored tsvector);
- English words on PostgreSQL also match by stem through the stored `search_tsv`
  (`printed` finds `printing`).
Shorter terms (one character, two Latin letters) fall back to a scan with LIKE.

The work per query is bounded however common the terms are: the index gives the first
RANK_WINDOW matching articles, those are ranked (title hits first, then relevance: 10 per
title hit, 5 per tag hit, 1 per occurrence in the text, plus ts_rank on PostgreSQL) and
paged, and the total is counted up to COUNT_CAP ("1000+"). When fewer articles match than
the window holds, which is what a specific query gives, the ranking is exact.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import and_, case, cast, column, func, literal, literal_column, or_, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.infra.search_ddl import (BIGRAM_TABLE, FTS_TABLE, MIN_TRIGRAM, PG_BIGRAM_COLUMN, PG_TEXT_COLUMN,
                                  PG_TSV_COLUMN, ensure_search_index, is_cjk_pair)
from app.models import Article
from app.services.tickets.queries import COUNT_CAP

RANK_WINDOW = 1000       # matching articles ranked per query (see the module docstring)

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
    total: int           # counted up to COUNT_CAP + 1, which means "more"
    terms: list[str]
    engine: str          # "fts5", "like" or "postgresql": what answered, shown in the page footer

    @property
    def total_text(self) -> str:
        """The total as shown: "1000+" once it passed the cap."""
        return f"{COUNT_CAP}+" if self.total > COUNT_CAP else str(self.total)


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
    conditions, engine_name = backend.conditions(terms)
    if category_ids is not None:
        conditions.append(Article.category_id.in_(category_ids or [-1]))
    matching = select(Article.id).where(*conditions)
    total = db.session.execute(select(func.count()).select_from(matching.limit(COUNT_CAP + 1).subquery())
                               ).scalar_one()
    window = matching.limit(RANK_WINDOW).subquery()
    title_hits = sum((case((_contains(Article.title, t), 1), else_=0) for t in terms), literal(0))
    score = backend.score(terms)
    rows = db.session.execute(
        select(Article, score.label("score")).join(window, window.c.id == Article.id)
        .order_by(title_hits.desc(), score.desc(), Article.updated_at.desc(), Article.id.desc())
        .limit(limit).offset(offset)).all()
    hits = [Hit(article, float(value or 0), highlight(article.title, terms, whole=True), highlight(article.plain, terms))
            for article, value in rows]
    return SearchResult(hits, total, terms, engine_name)


def _escaped(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(col, term: str) -> ColumnElement:
    """Case-insensitive substring test (ILIKE; on PostgreSQL only used on the ranked window)."""
    return col.ilike(f"%{_escaped(term)}%", escape="\\")


def _occurrence_score(term: str) -> ColumnElement:
    """10 per title hit, 5 per tag hit, 1 per occurrence in the text: the same on both databases."""
    low = term.lower()
    occurrences = (func.length(func.lower(Article.plain)) -
                   func.length(func.replace(func.lower(Article.plain), low, ""))) * 1.0 / len(low)
    return (case((_contains(Article.title, term), 10.0), else_=0.0)
            + case((_contains(Article.tags, term), 5.0), else_=0.0) + occurrences)


def _like_match(term: str) -> ColumnElement:
    return or_(_contains(Article.title, term), _contains(Article.plain, term), _contains(Article.tags, term))


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class _SqliteSearch:
    def conditions(self, terms: list[str]) -> tuple[list[ColumnElement], str]:
        """FTS5 MATCH on the trigram table (3+ characters) and the bigram table (two CJK characters); LIKE below."""
        long_terms = [t for t in terms if len(t) >= MIN_TRIGRAM]
        pairs = [t for t in terms if len(t) < MIN_TRIGRAM and is_cjk_pair(t)]
        short_terms = [t for t in terms if t not in long_terms and t not in pairs]
        conditions = []
        for name, group in ((FTS_TABLE, long_terms), (BIGRAM_TABLE, pairs)):
            if group:
                fts = table(name, column("rowid"))
                conditions.append(Article.id.in_(
                    select(fts.c.rowid).where(text(f"{name} MATCH :{name}_query")
                                              .bindparams(**{f"{name}_query": " ".join(map(_fts_phrase, group))}))))
        conditions += [_like_match(t) for t in short_terms]
        return conditions, "like" if short_terms and len(short_terms) == len(terms) else "fts5"

    def score(self, terms: list[str]) -> ColumnElement:
        return sum((_occurrence_score(t) for t in terms), literal(0.0))


class _PostgresSearch:
    def conditions(self, terms: list[str]) -> tuple[list[ColumnElement], str]:
        """Per term: the bigram tsvector (two CJK characters) or LIKE on the lower-cased copy (trigram GIN),
        or'ed with the English tsvector for stems."""
        searched = literal_column(f"{Article.__tablename__}.{PG_TEXT_COLUMN}")
        bigrams = literal_column(f"{Article.__tablename__}.{PG_BIGRAM_COLUMN}")
        conditions = []
        for t in terms:
            if is_cjk_pair(t):
                conditions.append(bigrams.op("@@")(cast(f"'{t}'", TSQUERY)))
                continue
            like = searched.like(f"%{_escaped(t.lower())}%")      # backslash is PostgreSQL's default escape
            conditions.append(or_(like, self._tsv().op("@@")(self._tsquery(t))) if t.isascii() else like)
        return conditions, "postgresql"

    def score(self, terms: list[str]) -> ColumnElement:
        return sum((_occurrence_score(t) + func.ts_rank(self._tsv(), self._tsquery(t)) * 10.0 for t in terms),
                   literal(0.0))

    @staticmethod
    def _tsv() -> ColumnElement:
        return literal_column(f"{Article.__tablename__}.{PG_TSV_COLUMN}")     # stored: computing it costs 0.1 ms

    @staticmethod
    def _tsquery(term: str) -> ColumnElement:
        return func.plainto_tsquery(literal_column("'english'::regconfig"), term)


# --- highlighting --------------------------------------------------------------------

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
