"""Back-office use cases for flow templates and versions: edit, import, export, deploy, restore, delete."""
from __future__ import annotations

import json
from pathlib import PurePath

from sqlalchemy import func, select

from app.errors import NotFound, OperationRefused, ValidationFailed
from app.extensions import db
from app.flowdef import CompiledFlow, FlowIssue, FlowLoadError, dump_flow, dump_flow_yaml, parse_flow_text
from app.flowdef.model import NotifyPolicy
from app.models import Flow, FlowVersion, Service, Ticket
from app.services.flows.library import compiled_version, deploy_flow, reference_sets, save_flow_source
from app.services.system import audit as admin_audit

EDITOR_FILE = "<editor>"


def check_flow_text(text: str, filename: str = EDITOR_FILE) -> tuple[CompiledFlow | None, list[FlowIssue], list[FlowIssue]]:
    """(flow or None, errors that block saving, warnings that would block deploying: unknown roles/dictionaries)."""
    try:
        flow = parse_flow_text(text, filename)
    except FlowLoadError as exc:
        return None, exc.issues, []
    try:
        parse_flow_text(text, filename, **reference_sets())
    except FlowLoadError as exc:
        return flow, [], exc.issues
    return flow, [], []


def _parse_or_refuse(text: str, filename: str) -> CompiledFlow:
    try:
        return parse_flow_text(text, filename)
    except FlowLoadError as exc:
        raise ValidationFailed("流程定义有错误，未保存:\n" + str(exc), errors={"issues": exc.issues}) from None


def _flow(flow_id: int) -> Flow:
    row = db.session.get(Flow, int(flow_id))
    if row is None:
        raise NotFound("流程不存在")
    return row


def _by_key(key: str) -> Flow | None:
    return db.session.execute(select(Flow).where(Flow.key == key)).scalar_one_or_none()


def save_flow_from_editor(text: str, *, by: str, flow_id: int | None = None) -> Flow:
    """Create (flow_id None) or update a template from the editor's YAML; invalid text saves nothing."""
    compiled = _parse_or_refuse(text, EDITOR_FILE)
    key = compiled.definition.key
    if flow_id is None:
        if _by_key(key) is not None:
            raise ValidationFailed(f"流程标识 {key!r} 已被其他流程使用，请换一个 key")
        row = save_flow_source(text, by=by, compiled=compiled, status="DRAFT")
        admin_audit.record(by, "create", "Flow", row.id, after=admin_audit.snapshot(row), summary=row.name)
        return row
    row = _flow(flow_id)
    if key != row.key:
        raise ValidationFailed(f"不能修改流程标识 key（{row.key!r} → {key!r}）；如需新流程，请新建")
    before = admin_audit.snapshot(row)
    row = save_flow_source(text, by=by, compiled=compiled)
    admin_audit.record(by, "update", "Flow", row.id, before=before, after=admin_audit.snapshot(row), summary=row.name)
    return row


def import_flow_file(text: str, filename: str, *, by: str) -> tuple[list[Flow], list[str]]:
    """Import a flow file: one of ours (YAML/JSON) or a BlueKing workflow export (every workflow in it).

    Returns the new templates (they start 关闭) and the report of what a BlueKing export could not carry over.
    """
    from app.services.flows.bk_exchange import import_bk_flows, looks_like_bk_export

    if looks_like_bk_export(text):
        result = import_bk_flows(text, filename, by=by)
        return result.flows, result.notes
    return [import_flow(text, filename, by=by)], []


def import_flow(text: str, filename: str, *, by: str) -> Flow:
    """Import a JSON or YAML flow file as a new template; it starts 关闭 (the manual)."""
    from app.services.flows.bk_exchange import import_bk_flows, looks_like_bk_export

    if looks_like_bk_export(text):
        return import_bk_flows(text, filename, by=by).flows[0]
    compiled = _parse_or_refuse(text, PurePath(filename).name or "<import>")
    key = compiled.definition.key
    if _by_key(key) is not None:
        raise ValidationFailed(f"流程 {key!r} 已存在；请先删除它或修改文件中的 key 再导入")
    is_json = text.lstrip().startswith("{")
    source = dump_flow_yaml(compiled.definition) if is_json else text
    row = save_flow_source(source, by=by, compiled=compiled, status="CLOSED", source_path=f"{key}.yaml")
    admin_audit.record(by, "import", "Flow", row.id, after=admin_audit.snapshot(row), summary=f"{filename} → {row.name}")
    return row


def export_flow(flow_id: int, fmt: str = "yaml") -> tuple[str, str, str]:
    """(file name, text, mimetype) of a template: YAML as stored (lossless), the definition as JSON, or (`bk`)
    BlueKing ITSM's workflow export."""
    row = _flow(flow_id)
    if fmt == "bk":             # BlueKing ITSM's workflow export (a list of one workflow), for a move back
        from app.services.flows.bk_exchange import export_bk_flow

        data, _notes = export_bk_flow(row.key)
        return f"{row.key}.bk.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n", "application/json"
    if fmt == "json":
        definition = dump_flow(parse_flow_text(row.source, row.source_path or row.key).definition)
        return f"{row.key}.json", json.dumps(definition, ensure_ascii=False, indent=2) + "\n", "application/json"
    text = row.source if row.source.endswith("\n") else row.source + "\n"
    return f"{row.key}.yaml", text, "application/x-yaml"


def set_flow_status(flow_ids: list, status: str, *, by: str) -> int:
    """Open (ENABLED) or close (CLOSED) templates; returns how many changed."""
    if status not in ("ENABLED", "CLOSED"):
        raise ValidationFailed("未知的流程状态")
    count = 0
    for fid in flow_ids:
        row = _flow(int(fid))
        if row.status != status:
            admin_audit.record(by, "update", "Flow", row.id, before={"status": row.status}, after={"status": status},
                               summary=row.name)
            row.status, row.updated_by = status, by
            count += 1
    db.session.flush()
    return count


def delete_flow(flow_id: int, *, by: str) -> None:
    """Delete a template; its versions (and the tickets and services using them) are untouched."""
    row = _flow(flow_id)
    admin_audit.record(by, "delete", "Flow", row.id, before=admin_audit.snapshot(row), summary=row.name)
    db.session.delete(row)
    db.session.flush()


def notify_policy(*, enabled: bool, channels: list[str], frequency: str, supervise: bool,
                  supervisors: list[str] | None = None, starter: bool = True) -> dict:
    """The deploy form's answers as a NotifyPolicy dict (validated); supervisors: STARTER and/or persons."""
    specs = []
    if starter:
        specs.append({"type": "STARTER"})
    persons = [p.strip() for p in (supervisors or []) if p.strip()]
    if persons:
        specs.append({"type": "PERSON", "value": persons})
    if supervise and not specs:
        raise ValidationFailed("开启督办时请至少选择一个督办人")
    try:
        policy = NotifyPolicy.model_validate({"enabled": enabled, "channels": channels or ["log"],
                                             "frequency": frequency, "supervise": supervise,
                                             "supervisors": specs if supervise else []})
    except Exception as exc:  # pydantic ValidationError: show its first message
        raise ValidationFailed(f"通知策略有误：{exc}") from None
    return policy.model_dump(mode="json")


def deploy_form_answers(flow_id: int) -> dict:
    """The 部署流程 dialog's starting answers: the notify policy the template's YAML declares (set on the canvas or
    by hand), NotifyPolicy's defaults when the YAML has none or does not parse (the deploy itself reports why)."""
    row = _flow(flow_id)
    try:
        policy = parse_flow_text(row.source, row.source_path or f"{row.key}.yaml").definition.notify
    except FlowLoadError:
        policy = NotifyPolicy()
    persons = [name for spec in policy.supervisors if spec.type == "PERSON" for name in spec.value]
    return {"notify": "yes" if policy.enabled else "no", "channels": list(policy.channels),
            "frequency": policy.frequency, "supervise": "yes" if policy.supervise else "no",
            "supervise_starter": any(spec.type == "STARTER" for spec in policy.supervisors) or not policy.supervise,
            "supervisors": persons}


def deploy(flow_id: int, *, by: str, notify: dict | None = None, name: str = "") -> FlowVersion:
    """Deploy a template as a new version (validated against roles and dictionaries) and record it;
    `name` is the manual's 部署流程名 (the template's name when empty)."""
    row = _flow(flow_id)
    version = deploy_flow(row.key, by=by, notify=notify, name=name)
    admin_audit.record(by, "deploy", "FlowVersion", version.id,
                       after={"flow": row.key, "version": version.version_number, "notify": notify},
                       summary=f"{version.name} v{version.version_number}")
    return version


def _version(version_id: int) -> FlowVersion:
    row = db.session.get(FlowVersion, int(version_id))
    if row is None:
        raise NotFound("流程版本不存在")
    return row


def services_using(version_id: int) -> list[Service]:
    return list(db.session.execute(select(Service).where(Service.flow_version_id == int(version_id))
                                   .order_by(Service.name)).scalars())


def delete_version(version_id: int, *, by: str) -> None:
    """Delete a version unless a service points at it (lists them) or tickets were created on it."""
    version = _version(version_id)
    services = services_using(version.id)
    if services:
        names = "、".join(s.name for s in services)
        raise OperationRefused(f"流程版本「{version.label}」正被服务使用：{names}；请先为这些服务关联其他版本，再删除")
    tickets = db.session.execute(select(func.count(Ticket.id)).where(Ticket.flow_version_id == version.id)).scalar()
    if tickets:
        raise OperationRefused(f"流程版本「{version.label}」已有 {tickets} 张单据在使用，不能删除")
    admin_audit.record(by, "delete", "FlowVersion", version.id,
                       before={"flow": version.flow_key, "version": version.version_number}, summary=version.label)
    db.session.delete(version)
    db.session.flush()


def restore_version(version_id: int, *, by: str) -> Flow:
    """Put a version's flow back into the template library (creating the template if it was deleted)."""
    version = _version(version_id)
    text = version.source or dump_flow_yaml(parse_flow_text(json.dumps(version.definition)).definition)
    row = _by_key(version.flow_key)
    before = admin_audit.snapshot(row) if row is not None else None
    row = save_flow_source(text, by=by, status=None if row is not None else "DRAFT",
                           filename=f"{version.flow_key} v{version.version_number}")
    if version.flow_id is None:
        version.flow_id = row.id
    admin_audit.record(by, "restore", "Flow", row.id, before=before, after=admin_audit.snapshot(row),
                       summary=f"{version.label} → 流程模板")
    return row


def version_definition(version_id: int):
    """The frozen definition of a version, for previews."""

    return compiled_version(_version(version_id)).definition
