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

from flask import Flask, current_app

from app.extensions import db
from app.infra.uow import CommitOutsideBoundary, outside_transaction, unit_of_work
from app.services import alerts, automation, fields, integration, notify, people, sla

log = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _each_claimed(claim_due: Callable[[str], list[int]], prepare, send, record, worker: str,
                  on_crash: Callable[[int, str], object] | None = None) -> int:
    """Claim due work rows in one unit of work, then for each: read, call with no transaction, record.

    One item's failure is logged and does not stop the others (`on_crash` records it in a
    unit of work of its own); a claim left unsettled is taken over after its lease.
    """
    with unit_of_work():
        ids = claim_due(worker)
    for item_id in ids:
        try:
            outside_transaction(lambda: prepare(item_id, worker), send,
                                lambda plan, outcome: record(plan, outcome, worker))
        except CommitOutsideBoundary:
            raise                          # a bug in the code, not in the item: fail loudly
        except Exception:  # noqa: BLE001 - one broken item must not stop the others; it is retried after the lease
            log.exception("work item %s of %s failed unexpectedly", item_id, claim_due.__module__)
            db.session.rollback()
            if on_crash is not None:
                with unit_of_work():
                    on_crash(item_id, worker)
    return len(ids)


def deliver_callbacks(worker: str | None = None) -> int:
    return _each_claimed(integration.claim_due_callbacks, integration.prepare_callback, integration.send_callback,
                         integration.record_callback,
                         worker or worker_id())


def run_automatic_steps(worker: str | None = None) -> int:
    return _each_claimed(automation.claim_due_runs, automation.prepare_run, automation.execute_run,
                         automation.record_run,
                         worker or worker_id())


def send_notifications(worker: str | None = None) -> int:
    return _each_claimed(notify.claim_due_notices, notify.prepare_notice, notify.send_notice, notify.record_notice,
                         worker or worker_id(), on_crash=notify.record_notice_crash)


def daily_reminders(now=None) -> int:
    with unit_of_work():
        return notify.enqueue_daily_reminders(now)


def check_service_levels(now=None) -> int:
    """Record each ticket's crossed SLA thresholds once (a unit of work per ticket); returns how many were recorded."""
    with unit_of_work():
        ids = sla.due_tickets(now)
    recorded = 0
    for ticket_id in ids:
        try:
            with unit_of_work():
                recorded += len(sla.check_ticket(ticket_id, now))
        except CommitOutsideBoundary:
            raise
        except Exception:  # noqa: BLE001 - one broken ticket must not stop the others; it is tried at the next tick
            log.exception("service level check of ticket %s failed", ticket_id)
            db.session.rollback()
    return recorded


def clean_abandoned_uploads(now=None) -> int:
    """Remove uploads no ticket took within ABANDONED_UPLOAD_HOURS: the rows in a unit of work, then their files."""
    removed = 0
    while True:
        with unit_of_work():
            paths = fields.purge_abandoned_uploads(now)
        if not paths:
            return removed
        fields.remove_files(paths)
        removed += len(paths)


def sync_cmdb_roles() -> str:
    """Refresh CMDB business roles from CMDB_SOURCE, at most once per CMDB_SYNC_SECONDS across schedulers."""
    interval = current_app.config["CMDB_SYNC_SECONDS"]
    with unit_of_work():
        source, why_not = people.cmdb_sync_due(min_interval_seconds=interval)
    if source is None:
        return why_not
    fetched = people.fetch_cmdb_roles(source, current_app.instance_path)
    with unit_of_work():
        return people.record_scheduled_cmdb_sync(fetched, min_interval_seconds=interval)


def process_alerts(worker: str | None = None) -> int:
    """Turn stored alert payloads into incidents: each claimed payload in a short unit of work of its own."""
    worker = worker or worker_id()
    with unit_of_work():
        ids = alerts.claim_due_payloads(worker)
    for payload_id in ids:
        try:
            with unit_of_work():
                alerts.process_payload(payload_id, worker)
        except CommitOutsideBoundary:
            raise
        except Exception as exc:  # noqa: BLE001 - one bad payload must not stop the others; it is retried
            log.warning("alert payload %s failed: %s", payload_id, exc)
            db.session.rollback()
            with unit_of_work():
                alerts.record_payload_failure(payload_id, worker, getattr(exc, "message", None) or str(exc))
    return len(ids)


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
    JobDef("process_alerts", process_alerts, 5, "turn stored alert payloads into incidents (dedupe, resolve, storms)"),
    JobDef("check_service_levels", check_service_levels, 30, "record SLA warnings and breaches once, notify, escalate"),
    JobDef("clean_abandoned_uploads", clean_abandoned_uploads, 3600,
           "remove uploads kept across a failed submit that no ticket took within ABANDONED_UPLOAD_HOURS"),
    JobDef("sync_cmdb_roles", sync_cmdb_roles, 300, "refresh CMDB business roles from CMDB_SOURCE every CMDB_SYNC_SECONDS"),
]


def run_job(app: Flask, job: JobDef) -> object:
    """One run of a job inside an app context; errors are logged, never kill the scheduler."""
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
