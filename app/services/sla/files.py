"""The service level files (`SLA_DIR`: calendars.yaml, agreements.yaml): read, checked, cached, written.

Read once per change of the files (cached by modification time); a broken file keeps the last
good reading and is logged (an admin sees the problem in `itsm sla validate` or the back office,
which refuse to write a file that does not validate).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.flowdef.loader import FlowIssue
from app.models import Role, Service
from app.sla.definitions import (AGREEMENTS_FILE, CALENDARS_FILE, AgreementDef, AgreementsDoc, CalendarDef,
                                 SlaLoadError, parse_agreements, parse_calendars)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlaConfig:
    calendars: dict[str, CalendarDef] = field(default_factory=dict)
    doc: AgreementsDoc = AgreementsDoc()

    def agreement_for(self, service_key: str) -> AgreementDef | None:
        return next((a for a in self.doc.agreements if service_key in a.services), None)


_cache: dict[str, tuple[tuple, SlaConfig]] = {}


def sla_dir() -> Path:
    return Path(current_app.config["SLA_DIR"])


def _stamp(directory: Path) -> tuple:
    out = []
    for name in (CALENDARS_FILE, AGREEMENTS_FILE):
        try:
            out.append(os.stat(directory / name).st_mtime_ns)
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def read_texts(directory: Path | None = None) -> tuple[str, str]:
    directory = directory or sla_dir()
    texts = []
    for name in (CALENDARS_FILE, AGREEMENTS_FILE):
        path = directory / name
        texts.append(path.read_text(encoding="utf-8") if path.exists() else "")
    return texts[0], texts[1]


def parse_texts(calendars_text: str, agreements_text: str, directory: Path, *, strict: bool) -> SlaConfig:
    """Both files parsed; `strict` also checks dictionaries, roles, services and their nodes in the database."""
    if not calendars_text.strip() and not agreements_text.strip():
        return SlaConfig()
    calendars = parse_calendars(calendars_text, str(directory / CALENDARS_FILE))
    extra = _known(strict)
    doc = parse_agreements(agreements_text, str(directory / AGREEMENTS_FILE), calendars=set(calendars), **extra)
    return SlaConfig(calendars, doc)


def _known(strict: bool) -> dict:
    if not strict:
        return {}
    from app.services.flows.library import compiled_version
    from app.services.system.dictionaries import all_choices

    choices = all_choices()

    def keys(name: str) -> set[str] | None:
        return {c.key for c in choices[name]} if name in choices else None

    services = {}
    for key, version_id in db.session.execute(select(Service.key, Service.flow_version_id)):
        services[key] = set(compiled_version(version_id)._nodes) if version_id else set()
    return {"urgency": keys("URGENCY"), "impact": keys("IMPACT"), "priorities": keys("PRIORITY"),
            "roles": set(db.session.execute(select(Role.key)).scalars()), "service_nodes": services}


def sla_config() -> SlaConfig:
    """The agreements and calendars in force (re-read when a file changes)."""
    directory = sla_dir()
    stamp = _stamp(directory)
    cached = _cache.get(str(directory))
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        config = parse_texts(*read_texts(directory), directory, strict=False)
    except SlaLoadError as exc:
        log.error("service level files not used: %s", "; ".join(map(str, exc.issues)))
        return cached[1] if cached else SlaConfig()
    _cache[str(directory)] = (stamp, config)
    return config


def validate_sla_files(directory: Path | None = None) -> list[FlowIssue]:
    """Every problem of the files, checked against the database (empty: fine)."""
    directory = directory or sla_dir()
    try:
        parse_texts(*read_texts(directory), directory, strict=True)
    except SlaLoadError as exc:
        return list(exc.issues)
    return []


def save_sla_file(name: str, text: str, *, by: str) -> None:
    """Write one file after checking it with the other as it is (the back office); refuses a broken one."""
    from app.errors import ValidationFailed
    from app.services.system.audit import record

    if name not in (CALENDARS_FILE, AGREEMENTS_FILE):
        raise ValidationFailed("只能保存 calendars.yaml 或 agreements.yaml")
    directory = sla_dir()
    calendars, agreements = read_texts(directory)
    texts = (text, agreements) if name == CALENDARS_FILE else (calendars, text)
    try:
        parse_texts(*texts, directory, strict=True)
    except SlaLoadError as exc:
        raise ValidationFailed("文件有错误，未保存：" + "；".join(map(str, exc.issues))) from None
    record(by, "update", "sla_file", name, before={"text": calendars if name == CALENDARS_FILE else agreements},
           after={"text": text})
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(directory / name)
