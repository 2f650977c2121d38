"""Fixtures shared by the SLA tests: a one-step service under an 8-hour working-day agreement."""
from __future__ import annotations

import shutil

import pytest
from sla_kit import AGREEMENTS, FLOW, ROOT

from app.infra.uow import commit
from app.services.people.users import create_user


@pytest.fixture
def sla_service(app, make_service, tmp_path, monkeypatch):
    """A one-step flow processed by ops1 (leader: boss) under an 8-hour working-day agreement at P3."""
    from app.services.system.dictionaries import load_dictionary_files

    shutil.copy(ROOT / "sla_yaml/calendars.yaml", tmp_path / "calendars.yaml")
    (tmp_path / "agreements.yaml").write_text(AGREEMENTS, encoding="utf-8")
    monkeypatch.setitem(app.config, "SLA_DIR", str(tmp_path))
    with app.app_context():
        load_dictionary_files(app.config["DICTIONARIES_DIR"])
        create_user("boss", password="pw-123456")
        ops1, _ = create_user("ops1", password="pw-123456")
        ops1.leader = "boss"
        commit()
    return make_service(FLOW, users=("alice", "ops1"))
