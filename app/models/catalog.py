"""The service catalog: a tree of catalogs and the services bound to flow versions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow


class Catalog(db.Model):
    __tablename__ = "catalogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    desc: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("catalogs.id"), index=True)
    level: Mapped[int] = mapped_column(default=0)
    order: Mapped[int] = mapped_column(default=0)
    parent: Mapped["Catalog | None"] = relationship(remote_side="Catalog.id", back_populates="children")
    children: Mapped[list["Catalog"]] = relationship(back_populates="parent", order_by="Catalog.order")
    links: Mapped[list["CatalogService"]] = relationship(back_populates="catalog", cascade="all, delete-orphan",
                                                        order_by="CatalogService.order")

    def __repr__(self) -> str:
        return f"<Catalog {self.key}>"


class Service(db.Model):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    desc: Mapped[str] = mapped_column(Text, default="")
    service_type: Mapped[str] = mapped_column(String(16), index=True)
    flow_version_id: Mapped[int | None] = mapped_column(ForeignKey("flow_versions.id"), index=True)
    owners: Mapped[str] = mapped_column(String(255), default="")
    is_valid: Mapped[bool] = mapped_column(default=True)
    # upstream's 可见范围: OPEN, API (other systems' services), INVISIBLE, ...; display_role names who sees it
    # ("BK_IAM", "LOG_SEARCH", comma-separated); the API's get_services filters on both
    display_type: Mapped[str] = mapped_column(String(16), default="OPEN", server_default="OPEN")
    display_role: Mapped[str] = mapped_column(String(255), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")
    flow_version: Mapped["FlowVersion | None"] = relationship()  # noqa: F821
    links: Mapped[list["CatalogService"]] = relationship(back_populates="service", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Service {self.key}>"


class CatalogService(db.Model):
    __tablename__ = "catalog_services"

    catalog_id: Mapped[int] = mapped_column(ForeignKey("catalogs.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True)
    order: Mapped[int] = mapped_column(default=0)
    catalog: Mapped[Catalog] = relationship(back_populates="links")
    service: Mapped[Service] = relationship(back_populates="links")

    def __repr__(self) -> str:
        return f"<CatalogService {self.catalog_id}:{self.service_id}>"
