"""`flask itsm flows import-bk FILE` and `export-bk KEY` on the real BlueKing export files."""
from __future__ import annotations

import json
from pathlib import Path

from app.extensions import db
from app.infra.uow import commit
from app.models import Flow, FlowVersion

BK_EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "bk_exports"


def _flows(app):
    with app.app_context():
        return {f.name: (f.key, f.status) for f in db.session.query(Flow).all()}


def test_import_bk_saves_every_workflow_deploys_and_prints_the_report(itsm_cli, app, demo):   # demo: dictionaries
    result = itsm_cli("flows", "import-bk", BK_EXPORTS / "bk_itsm_builtin_workflow.json", "--deploy")
    assert result.exit_code == 0, result.output
    flows = _flows(app)
    assert {"一般审批流程", "变更发布"} <= set(flows)
    assert "imported" in result.output and "deployed" in result.output
    assert "not carried over:" in result.output and "can_deliver" in result.output
    with app.app_context():
        assert db.session.query(FlowVersion).filter(FlowVersion.name == "一般审批流程").count() == 1


def test_import_bk_twice_is_refused_unless_replace(itsm_cli, app):
    path = BK_EXPORTS / "itsm_dbm.json"
    assert itsm_cli("flows", "import-bk", path).exit_code == 0
    again = itsm_cli("flows", "import-bk", path)
    assert again.exit_code == 1 and "已存在" in again.output
    assert itsm_cli("flows", "import-bk", path, "--replace").exit_code == 0


def test_import_bk_of_a_broken_file_says_what_is_wrong_and_saves_nothing(itsm_cli, app, tmp_path):
    data = json.loads((BK_EXPORTS / "itsm_dbm.json").read_text(encoding="utf-8"))
    data["workflow"]["states"]["1908"]["processors_type"] = "NOBODY"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = itsm_cli("flows", "import-bk", broken)
    assert result.exit_code == 1
    assert "workflow.states.1908: processors_type NOBODY is not supported" in result.output
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    result = itsm_cli("flows", "import-bk", tmp_path / "bad.json")
    assert result.exit_code == 1 and "JSON" in result.output
    assert _flows(app) == {}


def test_export_bk_writes_an_export_that_imports_back(itsm_cli, app, tmp_path):
    assert itsm_cli("flows", "import-bk", BK_EXPORTS / "plugins_create_approval.json").exit_code == 0
    key, _ = _flows(app)["插件创建审批流程_work_flow"]
    out = tmp_path / "out.json"
    result = itsm_cli("flows", "export-bk", key, "-o", out)
    assert result.exit_code == 0, result.output
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(exported, list) and exported[0]["name"] == "插件创建审批流程_work_flow"
    assert {s["type"] for s in exported[0]["states"].values()} == {"START", "NORMAL", "APPROVAL", "END"}
    with app.app_context():
        db.session.query(Flow).delete()
        commit()
    assert itsm_cli("flows", "import-bk", out).exit_code == 0
    assert _flows(app)["插件创建审批流程_work_flow"][0] == key
    service = itsm_cli("flows", "export-bk", key, "--service", "插件创建审批")
    assert json.loads(service.output)["key"] == "request"
