"""Data dictionaries (数据字典): coded option lists, flat or as a tree."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow


class Dictionary(db.Model):
    __tablename__ = "dictionaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    desc: Mapped[str] = mapped_column(Text, default="")
    is_enabled: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    items: Mapped[list["DictionaryItem"]] = relationship(back_populates="dictionary", cascade="all, delete-orphan",
                                                          order_by="DictionaryItem.order")

    def __repr__(self) -> str:
        return f"<Dictionary {self.key}>"


class DictionaryItem(db.Model):
    __tablename__ = "dictionary_items"
    __table_args__ = (UniqueConstraint("dictionary_id", "key", name="uq_dictionary_items_dictionary_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dictionary_id: Mapped[int] = mapped_column(ForeignKey("dictionaries.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("dictionary_items.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    order: Mapped[int] = mapped_column(default=0)
    is_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    dictionary: Mapped[Dictionary] = relationship(back_populates="items")

    def __repr__(self) -> str:
        return f"<DictionaryItem {self.key}>"
