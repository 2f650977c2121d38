"""Automatic steps (api and automation nodes), executed by the scheduler.

When such a step opens, `_persist` writes an `AutomaticRun`. The job
`run_automatic_steps` claims due runs (several schedulers never take the same
one), executes them outside any ticket lock (the HTTP call may be slow), then
locks the ticket and applies the result through the engine: success moves the
ticket on with the values the call produced; a failure is retried with backoff
per the node's `retry` policy, then marks the step FAILED for an admin or the
node's processors to retry or skip.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from pydantic import TypeAdapter
from sqlalchemy import select, update

from app import engine
from app.engine import operations as ops
from app.engine.state import SYSTEM
from app.errors import ItsmError
from app.extensions import db
from app.flowdef import NodeDef
from app.flowdef.conditions import compile_condition
from app.flowdef.model import Condition
from app.integrations.plugins import registry
from app.integrations.templating import TemplateProblem, flatten, lookup, render
from app.models import AutomaticRun, Ticket, TicketStep
from app.timeutil import fmt, utcnow

from .workqueue import claim

log = logging.getLogger(__name__)
SUSPENDED_RECHECK = timedelta(seconds=60)


@dataclass
class Execution:
    ok: bool
    values: dict = field(default_factory=dict)
    error: str = ""


# --- hooks called by the ticket services ---------------------------------------------

def enqueue(ticket_id: int, steps: list[TicketStep], now) -> None:
    """A run for each automatic step that just opened (due now)."""
    db.session.add_all([AutomaticRun(ticket_id=ticket_id, step_id=s.id, node_key=s.node_key, next_attempt_at=now,
                                     created_at=now, updated_at=now) for s in steps])


def rearm(step_ids: list[int], now) -> None:
    """A FAILED step retried by a person: its run becomes due again with a fresh attempt count."""
    db.session.execute(update(AutomaticRun).where(AutomaticRun.step_id.in_(step_ids))
                       .values(status="PENDING", attempts=0, next_attempt_at=now, claimed_by=None, claimed_at=None,
                               last_error="", updated_at=now), execution_options={"synchronize_session": False})


def close_runs(step_ids: list[int], status: str, now) -> None:
    """Runs of steps closed by someone else (skipped, terminated, withdrawn) stop."""
    db.session.execute(update(AutomaticRun).where(AutomaticRun.step_id.in_(step_ids),
                                                  AutomaticRun.status.in_(("PENDING", "FAILED")))
                       .values(status=status, claimed_by=None, claimed_at=None, updated_at=now),
                       execution_options={"synchronize_session": False})


def last_errors(ticket_id: int) -> dict[int, str]:
    """{step id: last error} of the ticket's failed or retrying runs, for the ticket page."""
    rows = db.session.execute(select(AutomaticRun.step_id, AutomaticRun.last_error).where(
        AutomaticRun.ticket_id == ticket_id, AutomaticRun.last_error != "")).all()
    return dict(rows)


# --- the job ---------------------------------------------------------------------------

def run_due_automatic_steps(worker: str, limit: int = 20) -> int:
    """One tick: claim due runs and execute each; returns how many were claimed."""
    lease = timedelta(seconds=current_app.config["AUTOMATION_LEASE_SECONDS"])
    ids = claim(AutomaticRun, worker, limit=limit, lease=lease)
    for run_id in ids:
        try:
            run_one(run_id, worker)
        except Exception:  # noqa: BLE001 - one broken run must not stop the others; it is retried after the lease
            db.session.rollback()
            log.exception("automatic run %s failed unexpectedly", run_id)
    return len(ids)


def run_one(run_id: int, worker: str) -> str:
    """Execute one claimed run and record the outcome; returns the run's new status."""
    run = db.session.get(AutomaticRun, run_id)
    if run is None or run.claimed_by != worker or run.status != "PENDING":
        return "SKIPPED_CLAIM"
    ticket = db.session.get(Ticket, run.ticket_id)
    step = db.session.get(TicketStep, run.step_id)
    now = utcnow()
    if step is None or not step.is_open or ticket.is_over:
        run.status, run.claimed_by, run.claimed_at, run.updated_at = "CANCELLED", None, None, now
        db.session.commit()
        return run.status
    if ticket.status == "SUSPENDED" or step.status != "RUNNING":
        run.next_attempt_at, run.claimed_by, run.claimed_at = now + SUSPENDED_RECHECK, None, None
        db.session.commit()
        return "WAITING"
    from .tickets import flow_of

    flow = flow_of(ticket)
    node = flow.node(run.node_key)
    context = _context(ticket)
    db.session.commit()            # end the read transaction: the call below may take a while
    execution = execute(node, context, ticket.id)
    return _record(run_id, node, execution, worker)


def _context(ticket: Ticket) -> dict[str, Any]:
    return {"ticket": {"id": ticket.id, "sn": ticket.sn, "title": ticket.title, "creator": ticket.creator,
                       "service_type": ticket.service_type, "created_at": fmt(ticket.created_at)},
            "fields": dict(ticket.values or {})}


def execute(node: NodeDef, context: dict[str, Any], ticket_id: int) -> Execution:
    """Run the node's API call or plugin; never raises for a failure the user should see."""
    try:
        if node.kind == "api":
            return _execute_api(node, context, ticket_id)
        return _execute_plugin(node, context)
    except TemplateProblem as exc:
        return Execution(False, error=str(exc))
    except ItsmError as exc:
        return Execution(False, error=exc.message)


def _execute_api(node: NodeDef, context: dict[str, Any], ticket_id: int) -> Execution:
    from .admin_integration import call_api, find_api

    api = find_api(node.api)
    template = node.params.get("request")
    if template is None:
        template = json.loads(api.request_template) if api.request_template.strip() else {}
    payload = render(template, context)
    call, result = call_api(api, payload, called_by=SYSTEM, ticket_id=ticket_id,
                            timeout=float(node.params.get("timeout", current_app.config["AUTOMATION_TIMEOUT"])))
    db.session.commit()            # the call log stays, whatever happens next
    if result.error:
        return Execution(False, error=f"{result.error}（HTTP {result.status_code}）" if result.status_code else result.error)
    if not result.ok:
        return Execution(False, error=f"HTTP {result.status_code}：{result.text[:200]}")
    if not _succeeded(node, result.json):
        return Execution(False, error=f"响应不满足成功条件：{result.text[:200]}")
    mapping = node.params.get("response") or _mapping(api.response_mapping)
    return Execution(True, {key: lookup(result.json, path) for key, path in mapping.items()})


def _mapping(text: str) -> dict:
    try:
        value = json.loads(text) if text and text.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _succeeded(node: NodeDef, body: Any) -> bool:
    """The node's `success` condition on the flattened response; else BlueKing's `result`/`code` habit."""
    if "success" in node.params:
        condition = TypeAdapter(Condition).validate_python(node.params["success"])
        return compile_condition(condition)(flatten(body))
    if isinstance(body, dict) and "result" in body:
        return body["result"] is True
    if isinstance(body, dict) and "code" in body:
        return str(body["code"]) == "0"
    return True


def _execute_plugin(node: NodeDef, context: dict[str, Any]) -> Execution:
    plugins = registry(current_app.config.get("AUTOMATION_PLUGINS") or {})
    plugin = plugins.get(node.plugin)
    if plugin is None:
        return Execution(False, error=f"未知的自动化插件 {node.plugin}（可用：{', '.join(sorted(plugins))}）")
    params = render({k: v for k, v in node.params.items() if k not in ("success",)}, context)
    if "success" in node.params:
        params["success"] = node.params["success"]
    try:
        result = plugin(params, context)
    except Exception as exc:  # noqa: BLE001 - a plugin's bug is the step's failure, shown to the user
        log.exception("plugin %s raised", node.plugin)
        return Execution(False, error=f"插件 {node.plugin} 出错：{type(exc).__name__}: {exc}")
    return Execution(result.ok, dict(result.values), result.error if not result.ok else "")


def _record(run_id: int, node: NodeDef, execution: Execution, worker: str) -> str:
    """Lock the ticket and apply the outcome through the engine (the step may have moved meanwhile)."""
    from .tickets import apply_system_operation

    run = db.session.get(AutomaticRun, run_id)
    now = utcnow()
    if run is None or run.claimed_by != worker:
        db.session.rollback()
        return "LOST_CLAIM"
    run.claimed_by, run.claimed_at, run.updated_at = None, None, now
    run.attempts += 1
    try:
        if execution.ok:
            apply_system_operation(run.ticket_id, ops.CompleteAutomatic(run.node_key, execution.values))
            run.status, run.last_error = "DONE", ""
        elif run.attempts <= node.retry.times:
            delay = node.retry.backoff_seconds * 2 ** (run.attempts - 1)
            run.next_attempt_at, run.last_error = now + timedelta(seconds=delay), execution.error
            apply_system_operation(run.ticket_id, ops.FailAutomatic(run.node_key, execution.error, final=False,
                                                                    retry_in=delay))
        else:
            run.status, run.last_error = "FAILED", execution.error
            apply_system_operation(run.ticket_id, ops.FailAutomatic(run.node_key, execution.error, final=True))
    except ItsmError as exc:        # the step was closed, suspended or terminated while the call ran
        db.session.rollback()
        run = db.session.get(AutomaticRun, run_id)
        run.claimed_by, run.claimed_at, run.updated_at = None, None, now
        run.status, run.last_error = "CANCELLED", f"结果未采用：{exc.message}"
    db.session.commit()
    return run.status


def automatic_state(ticket_id: int) -> list[AutomaticRun]:
    return list(db.session.execute(select(AutomaticRun).where(AutomaticRun.ticket_id == ticket_id)).scalars())

