"""Counts for the back office's home page."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Catalog, Dictionary, Flow, FlowVersion, Role, Service
from app.services.flows.usage import steps_without_processors


def overview() -> dict:
    """How many of each configured thing there are, and the latest audit rows."""
    def count(model, *where):
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()

    return {
        "services": count(Service), "catalogs": count(Catalog), "flows": count(Flow),
        "versions": count(FlowVersion), "roles": count(Role, Role.type == "GENERAL"),
        "cmdb_roles": count(Role, Role.type == "CMDB"), "dictionaries": count(Dictionary),
        "stuck_steps": steps_without_processors(),
        "recent": list(db.session.execute(select(AuditLog).order_by(AuditLog.id.desc()).limit(8)).scalars()),
    }
