"""Flow templates and versions: load YAML files, validate, deploy immutable versions, export."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.flowdef import CompiledFlow, FlowIssue, FlowLoadError, dump_flow, flow_from_json, parse_flow_text
from app.models import Dictionary, Flow, FlowVersion
from app.services.people.directory import role_keys

FLOW_SUFFIXES = (".yaml", ".yml", ".json")
_compiled_cache: dict[int, CompiledFlow] = {}


def flow_files(paths: list[str | Path]) -> list[Path]:
    """Expand directories into their flow files, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix in FLOW_SUFFIXES)
        else:
            out.append(p)
    return out


def validate_files(paths: list[str | Path], *, check_references: bool = False) -> tuple[list[CompiledFlow], list[FlowIssue]]:
    """Parse every file; return the good flows and every issue (file:line: path: message)."""
    kw = reference_sets() if check_references else {}
    flows, issues, seen = [], [], {}
    for path in flow_files(paths):
        try:
            flow = parse_flow_text(path.read_text(encoding="utf-8"), str(path), **kw)
        except FlowLoadError as exc:
            issues += exc.issues
            continue
        if flow.key in seen:
            issues.append(FlowIssue(str(path), 1, "key", f"flow key {flow.key!r} is also used by {seen[flow.key]}"))
            continue
        seen[flow.key] = str(path)
        flows.append((flow, path))
    return flows, issues


def reference_sets() -> dict:
    return {"known_roles": role_keys(),
            "known_dictionaries": set(db.session.execute(select(Dictionary.key)).scalars())}


def load_flow_files(directory: str | Path, by: str = "system") -> list[Flow]:
    """Create or update flow templates from the files; nothing changes if any file is broken."""
    flows, issues = validate_files([directory])
    if issues:
        raise ValidationFailed("流程文件有错误:\n" + "\n".join(map(str, issues)), errors={"issues": issues})
    base = Path(directory)
    rows = []
    for flow, path in flows:
        rows.append(save_flow_source(path.read_text(encoding="utf-8"), by=by, source_path=_relative(path, base),
                                     compiled=flow))
    return rows


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return path.name


def save_flow_source(text: str, *, by: str, source_path: str = "", compiled: CompiledFlow | None = None,
                     filename: str = "<editor>", status: str | None = None) -> Flow:
    """Create or update the template whose key the YAML names (validated first)."""
    if compiled is None:
        try:
            compiled = parse_flow_text(text, filename)
        except FlowLoadError as exc:
            raise ValidationFailed("流程定义有错误:\n" + str(exc), errors={"issues": exc.issues}) from None
    d = compiled.definition
    row = db.session.execute(select(Flow).where(Flow.key == d.key)).scalar_one_or_none()
    if row is None:
        row = Flow(key=d.key, source=text, status=status or "DRAFT")
        db.session.add(row)
    row.name, row.desc, row.service_type, row.biz_related = d.name, d.desc, d.service_type, d.biz_related
    row.source, row.updated_by = text, by
    row.source_path = source_path or row.source_path or f"{d.key}.yaml"
    if status:
        row.status = status
    db.session.flush()
    return row


def export_flow_files(directory: str | Path) -> list[Path]:
    """Write each template's YAML back to its file (the text as stored: a lossless round trip)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for row in db.session.execute(select(Flow).order_by(Flow.key)).scalars():
        path = directory / (row.source_path or f"{row.key}.yaml")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(row.source if row.source.endswith("\n") else row.source + "\n", encoding="utf-8")
        written.append(path)
    return written


def deploy_flow(key: str, *, by: str = "system", notify: dict | None = None, name: str = "") -> FlowVersion:
    """Validate the template against roles and dictionaries, then freeze it as a new version."""
    row = db.session.execute(select(Flow).where(Flow.key == key)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"流程 {key!r} 不存在")
    try:
        compiled = parse_flow_text(row.source, row.source_path or key, **reference_sets())
    except FlowLoadError as exc:
        raise ValidationFailed("流程无法部署:\n" + str(exc), errors={"issues": exc.issues}) from None
    definition = dump_flow(compiled.definition)
    if notify is not None:
        definition["notify"] = notify
        compiled = flow_from_json(definition)      # re-validate the merged policy
        definition = dump_flow(compiled.definition)
    number = (db.session.execute(
        select(func.max(FlowVersion.version_number)).where(FlowVersion.flow_key == key)).scalar() or 0) + 1
    version = FlowVersion(flow_id=row.id, flow_key=key, name=name or row.name, version_number=number,
                          service_type=row.service_type, definition=definition, source=row.source, created_by=by)
    row.status = "ENABLED"
    db.session.add(version)
    db.session.flush()
    return version


def compiled_version(version: FlowVersion | int) -> CompiledFlow:
    """The compiled flow of a version; versions are immutable, so it is cached by id."""
    version_id = version if isinstance(version, int) else version.id
    flow = _compiled_cache.get(version_id)
    if flow is None:
        if isinstance(version, int):
            version = db.session.get(FlowVersion, version_id)
        flow = flow_from_json(version.definition)
        _compiled_cache[version_id] = flow
    return flow


def state_id(flow: CompiledFlow, node_key: str) -> int:
    """The node's number inside its version: BlueKing's `state_id`."""
    return next(i for i, n in enumerate(flow.definition.nodes, start=1) if n.key == node_key)


def node_by_state_id(flow: CompiledFlow, number: int) -> str | None:
    nodes = flow.definition.nodes
    return nodes[number - 1].key if 1 <= number <= len(nodes) else None


def latest_version(key: str) -> FlowVersion | None:
    return db.session.execute(select(FlowVersion).where(FlowVersion.flow_key == key)
                              .order_by(FlowVersion.version_number.desc()).limit(1)).scalar_one_or_none()


def get_version(version_id: int) -> FlowVersion:
    """A deployed flow version (NotFound otherwise)."""
    version = db.session.get(FlowVersion, version_id)
    if version is None:
        raise NotFound("流程版本不存在")
    return version
