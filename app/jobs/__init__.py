"""Scheduled jobs, declared with stable ids (redash-style). Each job body: app context + one service.

The scheduler runs in its own process (`flask --app wsgi itsm scheduler`), never inside
web workers. Work items are claimed in the database, so a second scheduler is harmless.
"""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import Callable

from flask import Flask

log = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver_callbacks() -> int:
    from app.services.callbacks import deliver_due_callbacks

    return deliver_due_callbacks(worker_id())


def run_automatic_steps() -> int:
    from app.services.automation import run_due_automatic_steps

    return run_due_automatic_steps(worker_id())


def send_notifications() -> int:
    from app.services.notifications import deliver_due_notifications

    return deliver_due_notifications(worker_id())


def daily_reminders() -> int:
    from app.services.notifications import enqueue_daily_reminders

    return enqueue_daily_reminders()


def sync_cmdb_roles() -> str:
    from flask import current_app

    from app.services.admin_roles import scheduled_cmdb_sync

    return scheduled_cmdb_sync(min_interval_seconds=current_app.config["CMDB_SYNC_SECONDS"])


@dataclass(frozen=True)
class JobDef:
    id: str
    func: Callable[[], object]
    seconds: int
    doc: str


JOBS = [
    JobDef("run_automatic_steps", run_automatic_steps, 10, "execute due api/automation steps, with retries"),
    JobDef("deliver_callbacks", deliver_callbacks, 30, "POST ended tickets' results to their callback_url, with backoff"),
    JobDef("send_notifications", send_notifications, 30, "send due notices (email, webhook, WeCom, log), with backoff"),
    JobDef("daily_reminders", daily_reminders, 60, "after the configured time, queue today's reminders for daily flows"),
    JobDef("sync_cmdb_roles", sync_cmdb_roles, 300, "refresh CMDB business roles from CMDB_SOURCE every CMDB_SYNC_SECONDS"),
]


def run_job(app: Flask, job: JobDef) -> object:
    """One run of a job inside an app context; errors are logged, never kill the scheduler."""
    from app.extensions import db

    with app.app_context():
        try:
            return job.func()
        except Exception:  # noqa: BLE001 - a failing run is logged and retried at the next tick
            log.exception("job %s failed", job.id)
            db.session.rollback()
            return None
        finally:
            db.session.remove()


def run_scheduler(app: Flask) -> None:
    """Block forever running every job on its interval (APScheduler, in-memory job store)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    for job in JOBS:
        scheduler.add_job(run_job, "interval", seconds=job.seconds, id=job.id, args=[app, job],
                          max_instances=1, coalesce=True)
    log.info("scheduler %s started with jobs %s", worker_id(), [j.id for j in JOBS])
    scheduler.start()
