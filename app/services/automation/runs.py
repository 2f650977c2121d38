"""Automatic steps (api and automation nodes), executed by the scheduler.

When such a step opens, `tickets.persist` writes an `AutomaticRun`. The job
`run_automatic_steps` claims due runs (several schedulers never take the same
one), executes them with no transaction open (the HTTP call may be slow), then
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
from sqlalchemy import select

from app.engine import operations as ops
from app.engine.state import SYSTEM
from app.errors import ItsmError
from app.extensions import db
from app.flowdef import NodeDef
from app.flowdef.conditions import compile_condition
from app.flowdef.model import Condition
from app.infra.workqueue import claim
from app.integrations.http_api import HttpResult
from app.integrations.plugins import registry
from app.integrations.templating import TemplateProblem, flatten, lookup, render
from app.models import AutomaticRun, Ticket, TicketStep
from app.services.flows.library import compiled_version
from app.services.integration.apis import ApiRequest, api_request, find_api, log_api_call, send_api
from app.services.tickets.operations import apply_system_operation
from app.services.tickets.results import ticket_url
from app.timeutil import fmt, utcnow

log = logging.getLogger(__name__)
SUSPENDED_RECHECK = timedelta(seconds=60)


def last_errors(ticket_id: int) -> dict[int, str]:
    """{step id: last error} of the ticket's failed or retrying runs, for the ticket page."""
    rows = db.session.execute(select(AutomaticRun.step_id, AutomaticRun.last_error).where(
        AutomaticRun.ticket_id == ticket_id, AutomaticRun.last_error != "")).all()
    return dict(rows)


# --- one run, in three phases: prepare (read), execute (network, no transaction), record ---------------

@dataclass(frozen=True)
class RunPlan:
    """What executing one claimed run needs, as plain data read in the prepare phase."""

    run_id: int
    ticket_id: int
    node: NodeDef
    context: dict
    api: ApiRequest | None = None          # api nodes: the resolved call (payload rendered)
    response_mapping: dict = field(default_factory=dict)    # api nodes: the API's configured mapping
    problem: str = ""                      # a failure known before calling (bad template, unknown API)


@dataclass
class Execution:
    ok: bool
    values: dict = field(default_factory=dict)
    error: str = ""
    http: HttpResult | None = None         # api nodes: what the call returned, for the call log


def claim_due_runs(worker: str, limit: int = 20) -> list[int]:
    """Claim up to `limit` due runs for this worker (several schedulers never take the same one)."""
    lease = timedelta(seconds=current_app.config["AUTOMATION_LEASE_SECONDS"])
    return claim(AutomaticRun, worker, limit=limit, lease=lease)


def prepare_run(run_id: int, worker: str) -> RunPlan | None:
    """Read what the run needs; None when there is nothing to call (not ours, cancelled, waiting)."""
    run = db.session.get(AutomaticRun, run_id)
    if run is None or run.claimed_by != worker or run.status != "PENDING":
        return None
    ticket = db.session.get(Ticket, run.ticket_id)
    step = db.session.get(TicketStep, run.step_id)
    now = utcnow()
    if step is None or not step.is_open or ticket.is_over:
        run.status, run.claimed_by, run.claimed_at, run.updated_at = "CANCELLED", None, None, now
        return None
    if ticket.status == "SUSPENDED" or step.status != "RUNNING":
        run.next_attempt_at, run.claimed_by, run.claimed_at = now + SUSPENDED_RECHECK, None, None
        return None
    node = compiled_version(ticket.flow_version_id).node(run.node_key)
    context = _context(ticket)
    if node.kind != "api":
        return RunPlan(run_id, ticket.id, node, context)
    try:
        api = find_api(node.api)
        template = node.params.get("request")
        if template is None:
            template = json.loads(api.request_template) if api.request_template.strip() else {}
        deadline = float(node.params.get("timeout", current_app.config["AUTOMATION_TIMEOUT"]))
        request = api_request(api, render(template, context), deadline=deadline)
    except TemplateProblem as exc:
        return RunPlan(run_id, ticket.id, node, context, problem=str(exc))
    except ItsmError as exc:
        return RunPlan(run_id, ticket.id, node, context, problem=exc.message)
    return RunPlan(run_id, ticket.id, node, context, api=request, response_mapping=_mapping(api.response_mapping))


def execute_run(plan: RunPlan) -> Execution:
    """Run the node's API call or plugin (no database); never raises for a failure the user should see."""
    if plan.problem:
        return Execution(False, error=plan.problem)
    try:
        if plan.api is not None:
            return _execute_api(plan)
        return _execute_plugin(plan.node, plan.context)
    except TemplateProblem as exc:
        return Execution(False, error=str(exc))
    except ItsmError as exc:
        return Execution(False, error=exc.message)


def _context(ticket: Ticket) -> dict[str, Any]:
    return {"ticket": {"id": ticket.id, "sn": ticket.sn, "title": ticket.title, "creator": ticket.creator,
                       "service_type": ticket.service_type, "created_at": fmt(ticket.created_at),
                       "current_status": ticket.status, "url": ticket_url(ticket)},
            "fields": dict(ticket.values or {})}


def _execute_api(plan: RunPlan) -> Execution:
    node, result = plan.node, send_api(plan.api)
    if result.error:
        error = f"{result.error}（HTTP {result.status_code}）" if result.status_code else result.error
        return Execution(False, error=error, http=result)
    if not result.ok:
        return Execution(False, error=f"HTTP {result.status_code}：{result.text[:200]}", http=result)
    if not _succeeded(node, result.json):
        return Execution(False, error=f"响应不满足成功条件：{result.text[:200]}", http=result)
    mapping = node.params.get("response") or plan.response_mapping
    return Execution(True, {key: lookup(result.json, path) for key, path in mapping.items()}, http=result)


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


def record_run(plan: RunPlan, execution: Execution, worker: str) -> str:
    """Log the call, lock the ticket and apply the outcome through the engine (the step may have moved meanwhile)."""
    if execution.http is not None:
        log_api_call(plan.api, execution.http, called_by=SYSTEM, ticket_id=plan.ticket_id)
    run = db.session.get(AutomaticRun, plan.run_id)
    now = utcnow()
    if run is None or run.claimed_by != worker:
        return "LOST_CLAIM"
    node = plan.node
    run.claimed_by, run.claimed_at, run.updated_at = None, None, now
    run.attempts += 1
    try:
        with db.session.begin_nested():     # a refused outcome leaves the run and the call log to be recorded
            if not execution.ok:
                log.warning("automatic step %s of ticket %s failed (attempt %s): %s", run.node_key, run.ticket_id,
                            run.attempts, execution.error)
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
        run = db.session.get(AutomaticRun, plan.run_id)
        run.claimed_by, run.claimed_at, run.updated_at = None, None, now
        ticket, step = db.session.get(Ticket, run.ticket_id), db.session.get(TicketStep, run.step_id)
        if ticket.status == "SUSPENDED" and step is not None and step.is_open:
            # suspended meanwhile: the step runs again once the ticket is resumed (as prepare_run waits)
            run.attempts -= 1
            run.next_attempt_at = now + SUSPENDED_RECHECK
            run.last_error = f"结果未采用：{exc.message}（单据挂起中，恢复后重新执行）"
        else:
            run.status, run.last_error = "CANCELLED", f"结果未采用：{exc.message}"
    return run.status
