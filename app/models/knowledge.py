"""The knowledge base: categories (a tree), articles in Markdown, their versions, tags and ticket links.

The full-text index (SQLite FTS5 table or PostgreSQL trigram/tsvector indexes) is not a model:
`app.infra.search_ddl.install_search_index` creates it, after `knowledge_articles` is created.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow


class KnowledgeCategory(db.Model):
    __tablename__ = "knowledge_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_categories.id"), index=True)
    order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<KnowledgeCategory {self.name}>"


class Article(db.Model):
    """The current state of an article; every save also writes an `ArticleVersion`."""

    __tablename__ = "knowledge_articles"
    __table_args__ = (
        Index("ix_knowledge_articles_category_updated", "category_id", "updated_at"),
        Index("ix_knowledge_articles_author", "author", "updated_at"),
        Index("ix_knowledge_articles_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")          # Markdown as written
    plain: Mapped[str] = mapped_column(Text, default="")         # rendered text without markup: what search reads
    tags: Mapped[str] = mapped_column(String(500), default="")   # "tag1,tag2" (display and search)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_categories.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    category: Mapped[KnowledgeCategory | None] = relationship()

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]

    def __repr__(self) -> str:
        return f"<Article {self.id} v{self.version}>"


class ArticleVersion(db.Model):
    """An article as one save left it. Never changed; restoring writes a new version."""

    __tablename__ = "knowledge_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_knowledge_article_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(String(500), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_categories.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ArticleVersion {self.article_id}#{self.number}>"


class ArticleTag(db.Model):
    """One row per (article, tag): the index behind the tag filter."""

    __tablename__ = "knowledge_article_tags"

    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"),
                                            primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ArticleTicket(db.Model):
    """An article that helped with a ticket (attached from the ticket page or created from it)."""

    __tablename__ = "knowledge_article_tickets"
    __table_args__ = (UniqueConstraint("article_id", "ticket_id", name="uq_knowledge_article_tickets_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ArticleTicket {self.article_id}:{self.ticket_id}>"


@event.listens_for(Article.__table__, "after_create")
def _install_search_index(target, connection, **kw):
    """`create_all` (tests) builds the full-text index right after the articles table."""
    from app.infra.search_ddl import install_search_index

    install_search_index(connection)


@event.listens_for(Article.__table__, "before_drop")
def _drop_search_index(target, connection, **kw):
    from app.infra.search_ddl import drop_search_index

    drop_search_index(connection)
