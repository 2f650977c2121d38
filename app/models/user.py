"""People and roles: users, general and CMDB business roles, role members."""
from __future__ import annotations

import secrets
from datetime import datetime
from functools import lru_cache

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
    # in every session and bk_token; raising it (logout, password change) ends them all
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    def set_password(self, password: str) -> None:
        """A new password hash; every session and bk_token issued before it stops working."""
        from flask import current_app

        self.password_hash = generate_password_hash(password, current_app.config["PASSWORD_HASH_METHOD"])
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return password_matches(self.password_hash, password)

    def get_id(self) -> str:  # flask-login: what the session keeps
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # flask-login
        return self.is_enabled

    @property
    def label(self) -> str:
        return f"{self.username}({self.display_name})" if self.display_name else self.username

    def __repr__(self) -> str:
        return f"<User {self.username}>"


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Check a password with the same hash work whether or not there is a hash to check it against.

    An unknown user or an account without a password is checked against a dummy hash of the
    configured method, so the answer's timing does not tell which usernames exist.
    """
    if not stored_hash:
        from flask import current_app

        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return check_password_hash(stored_hash, password)


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method)


class LoginFailure(db.Model):
    """A failed login, counted per account and per client address over a window; kept in the database so
    every worker and host sees the same counts."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_login_failures_username", "username", "failed_at"),
                      Index("ix_login_failures_address", "address", "failed_at"),
                      Index("ix_login_failures_failed_at", "failed_at"))

    def __repr__(self) -> str:
        return f"<LoginFailure {self.username}@{self.address} {self.failed_at}>"


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
