"""The unit of work: the one place that commits, and the guard that proves nothing else does.

Each web request, API call, CLI command and scheduler job runs in units of work opened by
its entry point (`unit_of_work()`); services only `flush()`. Work that must call the
network (callbacks, API nodes, notices, API-sourced options, CMDB sync) is split in
three: read what is needed in one unit of work, call with no transaction open, record the
outcome in a new short one (`outside_transaction`). With `GUARD_COMMITS` on (the test
suite turns it on), any commit that does not come through here raises, so a service that
commits, and so releases a row lock in the middle of an operation, fails the suite.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import event

from app.extensions import db

P = TypeVar("P")
R = TypeVar("R")
_COMMITTING = "itsm_committing"
_OPEN = "itsm_unit_of_work"


class CommitOutsideBoundary(RuntimeError):
    """A commit that did not come from an entry point's unit of work (a bug)."""


def commit() -> None:
    """Commit the session's transaction: entry points (and tests acting as one) end their work here."""
    session = db.session()
    session.info[_COMMITTING] = True
    try:
        session.commit()
    finally:
        session.info.pop(_COMMITTING, None)


@contextmanager
def framework_commits():
    """For an entry point whose framework commits itself (Flask-Admin's create, edit, delete): those commits
    are the request's unit of work."""
    session = db.session()
    session.info[_COMMITTING] = True
    try:
        yield
    finally:
        session.info.pop(_COMMITTING, None)


@contextmanager
def unit_of_work():
    """Commit once when the block succeeds; roll back (and re-raise) when it fails. Not re-entrant."""
    session = db.session()
    if session.info.get(_OPEN):
        raise CommitOutsideBoundary("unit_of_work() opened inside another unit of work")
    session.info[_OPEN] = True
    try:
        yield session
        commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_OPEN, None)


def end_read_transaction() -> None:
    """End a transaction that only read (before a slow call): on SQLite it holds the write lock."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise CommitOutsideBoundary("a transaction with unsaved changes cannot be ended as read-only")
    session.rollback()


def outside_transaction(prepare: Callable[[], P | None], call: Callable[[P], R],
                        record: Callable[[P, R], object]) -> object:
    """Read in one unit of work, call the network with none open, record in a new short one.

    `prepare` returns plain data (or None: nothing to do); `call` touches no database;
    `record` must be idempotent and check that what it records still applies.
    """
    end_read_transaction()
    with unit_of_work():
        plan = prepare()
    if plan is None:
        return None
    result = call(plan)
    with unit_of_work():
        return record(plan, result)


def install_commit_guard(app: Flask) -> None:
    """With GUARD_COMMITS, a commit not issued by `commit()` raises CommitOutsideBoundary."""
    if getattr(install_commit_guard, "_installed", False):
        return

    @event.listens_for(db.session, "before_commit")
    def _only_at_the_boundary(session):
        if session.info.get(_COMMITTING) or session.in_nested_transaction() or not has_app_context():
            return                         # (releasing a savepoint is not a commit)
        if current_app.config.get("GUARD_COMMITS"):
            raise CommitOutsideBoundary("commit outside an entry point's unit of work: services only flush "
                                        "(use app.infra.uow.unit_of_work at the entry point)")

    install_commit_guard._installed = True


class OutboundFirst(Exception):
    """A service needs a network result before it can go on, and a transaction is open.

    It carries the three phases of that call (see `outside_transaction`). The entry point
    rolls back what it did so far, runs them, and runs the request again (`run_again_after_outbound`).
    """

    def __init__(self, prepare: Callable[[], object], call: Callable[[object], object],
                 record: Callable[[object, object], object]):
        super().__init__("a network call must be made before this request can go on")
        self.phases = (prepare, call, record)


def run_again_after_outbound(run: Callable[[], R], *, attempts: int = 10) -> R:
    """Run `run()`; when it needs a network call first, roll back, make the call with no transaction open
    and run it again (a few times at most: each call fills a cache the next run reads)."""
    for attempt in range(attempts):
        try:
            return run()
        except OutboundFirst as need:
            if attempt == attempts - 1:
                raise
            db.session.rollback()
            outside_transaction(*need.phases)
    raise AssertionError("unreachable")
