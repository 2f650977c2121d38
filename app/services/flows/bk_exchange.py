"""BlueKing workflow exports in and out: translate (app.flowdef.bk_export), validate, save as templates.

Used by the CLI (`itsm flows import-bk` / `export-bk`), the back office's flow import, and the
catalog's `import_service` / `update_service`. Every import either saves everything or nothing, and
returns the report of what could not be carried over.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from sqlalchemy import select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.flowdef import CompiledFlow, FlowLoadError, dump_flow_yaml, parse_flow_text
from app.flowdef.bk_export import (BkExportError, Translation, from_bk_document, is_bk_export, parse_bk_text, to_bk,
                                   to_bk_service)
from app.flowdef.loader import check_document_limits
from app.models import Flow
from app.services.flows.library import save_flow_source
from app.services.system import audit as admin_audit


@dataclass
class BkImport:
    """What an import made: the templates (in file order) and the report."""

    flows: list[Flow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def looks_like_bk_export(text_or_data: Any) -> bool:
    """Whether a document (text or parsed JSON) is a BlueKing export rather than one of our flow files."""
    if isinstance(text_or_data, str):
        if not text_or_data.lstrip().startswith(("{", "[")):
            return False
        try:
            text_or_data = json.loads(text_or_data)
        except ValueError:
            return False
    return is_bk_export(text_or_data)


def _refuse(what: str, problems: list[str]) -> ValidationFailed:
    return ValidationFailed(f"{what}:\n" + "\n".join(problems), errors={"issues": problems})


def translate(data: Any, *, filename: str = "<bk-export>", key: str | None = None) -> list[tuple[Translation, CompiledFlow]]:
    """Translate and validate every workflow of an export (ValidationFailed naming each problem; nothing saved)."""
    if isinstance(data, (str, bytes)):
        text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
        try:
            check_document_limits(text, filename)
        except FlowLoadError as exc:
            raise _refuse("蓝鲸流程导出文件无法读取", [str(i) for i in exc.issues]) from None
        try:
            data = parse_bk_text(text)
        except BkExportError as exc:
            raise _refuse(f"{filename} 不是合法的 JSON", exc.problems) from None
    try:
        translations = from_bk_document(data, key=key)
    except BkExportError as exc:
        raise _refuse(f"{filename} 无法导入（蓝鲸流程导出）", exc.problems) from None
    out = []
    for t in translations:
        try:
            compiled = parse_flow_text(json.dumps(t.flow, ensure_ascii=False), filename)
        except FlowLoadError as exc:
            raise _refuse(f"{filename} 转换后的流程无效", [f"{i.path or '<root>'}: {i.message}" for i in exc.issues]) \
                from None
        out.append((t, compiled))
    return out


def _by_key(key: str) -> Flow | None:
    return db.session.execute(select(Flow).where(Flow.key == key)).scalar_one_or_none()


def save_translation(compiled: CompiledFlow, *, by: str, status: str | None, filename: str) -> Flow:
    """Save a translated flow as a template (YAML source, so the editor and `flows export` show our language)."""
    text = dump_flow_yaml(compiled.definition)
    return save_flow_source(text, by=by, compiled=compiled, status=status, filename=filename,
                            source_path=f"{compiled.key}.yaml")


def import_bk_flows(data: Any, filename: str = "<bk-export>", *, by: str, status: str = "CLOSED",
                    replace: bool = False) -> BkImport:
    """Import every workflow of a BlueKing export as a template (关闭 by default, like any import).

    A template with the same key is refused unless `replace` (the CLI's `--replace`); nothing is saved
    if any workflow cannot be imported.
    """
    name = PurePath(filename).name or "<bk-export>"
    pairs = translate(data, filename=name)
    clash = [c.key for _, c in pairs if _by_key(c.key) is not None]
    if clash and not replace:
        raise ValidationFailed(f"流程 {', '.join(clash)} 已存在；请先删除它再导入（命令行可加 --replace 覆盖）")
    keys = [c.key for _, c in pairs]
    if len(set(keys)) != len(keys):
        raise ValidationFailed(f"导出文件中有同名流程：{', '.join(keys)}")
    result = BkImport()
    for t, compiled in pairs:
        existing = _by_key(compiled.key)
        row = save_translation(compiled, by=by, status=status if existing is None else None, filename=name)
        admin_audit.record(by, "import", "Flow", row.id, after=admin_audit.snapshot(row),
                           summary=f"{name} → {row.name}（蓝鲸导出）")
        result.flows.append(row)
        result.notes += [f"{row.key}: {n}" for n in t.notes]
    return result


def export_bk_flow(key: str, *, service_name: str = "") -> tuple[dict | list, list[str]]:
    """A template as a BlueKing export: the workflow list upstream's 流程导出 writes, or with `service_name`
    the `import_service` body (`{key: <service type>, name, workflow}`)."""
    row = _by_key(key)
    if row is None:
        raise NotFound(f"流程 {key!r} 不存在")
    definition = parse_flow_text(row.source, row.source_path or key).definition
    if service_name:
        return to_bk_service(definition, name=service_name)
    workflow, notes = to_bk(definition)
    return [workflow], notes
