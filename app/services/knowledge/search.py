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
from app.infra.search_ddl import (BIGRAM_TABLE, CJK, FTS_TABLE, MIN_TRIGRAM, PG_BIGRAM_COLUMN, PG_TEXT_COLUMN,
                                  PG_TSV_COLUMN, cjk_bigrams, ensure_search_index, is_cjk_pair)
from app.models import Article
from app.services.tickets.queries import COUNT_CAP

RANK_WINDOW = 100        # matching articles ranked per query (see the module docstring)

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
    matching, engine_name = backend.matching(terms, category_ids)
    total = db.session.execute(select(func.count()).select_from(matching.limit(COUNT_CAP + 1).subquery())
                               ).scalar_one()
    window = backend.ranked(matching.limit(RANK_WINDOW), terms).subquery()
    rows = db.session.execute(
        select(Article, window.c.relevance).join(window, window.c.id == Article.id)
        .order_by(window.c.title_hits.desc(), window.c.relevance.desc(), Article.id.desc())
        .limit(limit).offset(offset)).all()
    hits = [Hit(article, float(value or 0), highlight(article.title, terms, whole=True), highlight(article.plain, terms))
            for article, value in rows]
    return SearchResult(hits, total, terms, engine_name)


def _escaped(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(col, term: str) -> ColumnElement:
    """Case-insensitive substring test (ILIKE; only on the ranked window, or where no index can help)."""
    return col.ilike(f"%{_escaped(term)}%", escape="\\")


def _title_hits(terms: list[str]) -> ColumnElement:
    return sum((case((_contains(Article.title, t), 1), else_=0) for t in terms), literal(0))


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _split(terms: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(terms for the trigram index, two-CJK-character terms for the bigram index, the rest)."""
    long_terms = [t for t in terms if len(t) >= MIN_TRIGRAM]
    pairs = [t for t in terms if len(t) < MIN_TRIGRAM and is_cjk_pair(t)]
    return long_terms, pairs, [t for t in terms if t not in long_terms and t not in pairs]


class _SqliteSearch:
    """Everything from the FTS5 indexes: the matching rowids (newest first), bm25 and the title hits
    (a `title :` column filter), so ranking never reads the articles' text."""

    def matching(self, terms: list[str], category_ids: list[int] | None):
        long_terms, pairs, short = _split(terms)
        self.driver = FTS_TABLE if long_terms else BIGRAM_TABLE if pairs else None
        conditions = [_like_match(t) for t in short]
        if category_ids is not None:
            conditions.append(Article.category_id.in_(category_ids or [-1]))
        if self.driver is None:             # one character or two Latin letters: no index can help
            self.source = Article.__table__
            stmt = select(Article.id.label("id")).where(*conditions).order_by(Article.id.desc())
            return stmt, "like"
        fts = table(self.driver, column("rowid"))
        self.source = fts
        stmt = select(fts.c.rowid.label("id")).where(self._match(self.driver, long_terms or pairs, "fts_terms"))
        if long_terms and pairs:
            stmt = stmt.where((fts.c.rowid + 0).in_(self._rowids(BIGRAM_TABLE, pairs, "fts_pairs")))  # a filter, not a lookup per row
        if conditions:
            stmt = stmt.where((fts.c.rowid + 0).in_(select(Article.id).where(*conditions)))
        return stmt.order_by(fts.c.rowid.desc()), "fts5"

    def ranked(self, matching, terms: list[str]):
        if self.driver is None:
            return matching.add_columns(_title_hits(terms).label("title_hits"),
                                        sum((case((_contains(Article.tags, t), 5.0), else_=0.0)
                                             + _occurrences(func.lower(Article.plain), t) for t in terms),
                                            literal(0.0)).label("relevance"))
        weights = "10.0, 1.0, 5.0" if self.driver == FTS_TABLE else "10.0, 1.0"
        rowid = self.source.c.rowid
        title_hits = sum((case((rowid.in_(self._rowids(self._table_of(t), [t], f"fts_title_{i}", "title : ")), 1),
                                else_=0) for i, t in enumerate(terms) if self._table_of(t)), literal(0))
        return matching.add_columns(title_hits.label("title_hits"),
                                    literal_column(f"-bm25({self.driver}, {weights})").label("relevance"))

    @staticmethod
    def _table_of(term: str) -> str | None:
        return FTS_TABLE if len(term) >= MIN_TRIGRAM else BIGRAM_TABLE if is_cjk_pair(term) else None

    @staticmethod
    def _match(name: str, group: list[str], key: str, prefix: str = ""):
        """`name MATCH :key`: all phrases of `group` (FTS5 ANDs them), optionally behind a column filter."""
        return text(f"{name} MATCH :{key}").bindparams(**{key: prefix + " ".join(map(_fts_phrase, group))})

    def _rowids(self, name: str, group: list[str], key: str, prefix: str = ""):
        fts = table(name, column("rowid"))
        return select(fts.c.rowid).where(self._match(name, group, key, prefix))


def _like_match(term: str) -> ColumnElement:
    return or_(_contains(Article.title, term), _contains(Article.plain, term), _contains(Article.tags, term))


def _occurrences(col, term: str) -> ColumnElement:
    low = term.lower()
    return (func.length(col) - func.length(func.replace(col, low, ""))) * 1.0 / len(low)


_WORD = re.compile(r"[A-Za-z]{3,}")
_CJK_ONLY = re.compile(f"[{CJK}]+")


class _PostgresSearch:
    """GIN indexes find the matches (a MATERIALIZED CTE, so the LIMIT does not talk the planner into a
    sequential scan); the window is ranked by title hits, tag hits, occurrences and ts_rank.

    Chinese terms go through the bigram tsvector: a term is a match when all its adjacent pairs occur,
    which GIN answers without reading the rows (LIKE on the trigram index re-reads every candidate's
    text, about 25 µs each). For terms of three or more characters the ranked window then keeps only
    the articles that contain the term itself, so a page never shows an article without it; the total
    may count the rare article that has the pairs apart. English words match as words, by stem
    (`printed` finds `printing`); other terms (digits, punctuation, mixed) as substrings."""

    def matching(self, terms: list[str], category_ids: list[int] | None):
        conditions = []
        for t in terms:
            pairs = cjk_bigrams(t).split()
            if pairs:           # exact from the index when the term is one pair; else near-exact (see _exact)
                conditions.append(self._column(PG_BIGRAM_COLUMN).op("@@")(cast(" & ".join(f"'{p}'" for p in pairs),
                                                                              TSQUERY)))
            if _WORD.fullmatch(t):
                conditions.append(self._column(PG_TSV_COLUMN).op("@@")(self._tsquery(t)))
            elif not pairs or not _CJK_ONLY.fullmatch(t):
                conditions.append(self._contains(t))
        if category_ids is not None:
            conditions.append(Article.category_id.in_(category_ids or [-1]))
        found = select(Article.id).where(*conditions).cte("matching").prefix_with("MATERIALIZED")
        return select(found.c.id), "postgresql"

    def ranked(self, matching, terms: list[str]):
        window = matching.subquery()
        searched = self._column(PG_TEXT_COLUMN)
        exact = [self._contains(t) for t in terms if _CJK_ONLY.fullmatch(t) and len(t) > 2]
        relevance = sum((case((_contains(Article.tags, t), 5.0), else_=0.0) + _occurrences(searched, t.lower())
                         + (func.ts_rank(self._column(PG_TSV_COLUMN), self._tsquery(t)) * 10.0 if _WORD.fullmatch(t)
                            else literal(0.0)) for t in terms), literal(0.0))
        return select(Article.id.label("id"), _title_hits(terms).label("title_hits"), relevance.label("relevance")) \
            .join(window, window.c.id == Article.id).where(*exact)

    def _contains(self, term: str) -> ColumnElement:
        """Substring of the lower-cased copy: the trigram index, with a recheck of every candidate."""
        return self._column(PG_TEXT_COLUMN).like(f"%{_escaped(term.lower())}%")  # backslash: the default escape

    @staticmethod
    def _column(name: str) -> ColumnElement:
        return literal_column(f"{Article.__tablename__}.{name}")      # stored generated columns, not mapped

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
