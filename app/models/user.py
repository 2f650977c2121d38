"""People and roles: users, general and CMDB business roles, role members."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.timeutil import utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    is_superuser: Mapped[bool] = mapped_column(default=False)
    is_stats_admin: Mapped[bool] = mapped_column(default=False)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    department: Mapped[str] = mapped_column(String(128), default="", index=True)   # ORGANIZATION processors
    leader: Mapped[str] = mapped_column(String(64), default="")      # username; STARTER_LEADER / ASSIGN_LEADER
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    def set_password(self, password: str) -> None:
        from flask import current_app

        self.password_hash = generate_password_hash(password, current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # flask-login
        return self.is_enabled

    @property
    def label(self) -> str:
        return f"{self.username}({self.display_name})" if self.display_name else self.username

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Role(db.Model):
    """A GENERAL role (managed here) or a CMDB business role (synced, read-only)."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(16), default="GENERAL", index=True)
    desc: Mapped[str] = mapped_column(Text, default="")
    bk_biz_id: Mapped[int | None]
    members: Mapped[list["RoleMember"]] = relationship(back_populates="role", cascade="all, delete-orphan",
                                                        order_by="RoleMember.username")

    @property
    def usernames(self) -> list[str]:
        return [m.username for m in self.members]

    def __repr__(self) -> str:
        return f"<Role {self.type}:{self.key}>"


class RoleMember(db.Model):
    __tablename__ = "role_members"

    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[Role] = relationship(back_populates="members")

    __table_args__ = (Index("ix_role_members_username", "username"),)

    def __repr__(self) -> str:
        return f"<RoleMember {self.role_id}:{self.username}>"
