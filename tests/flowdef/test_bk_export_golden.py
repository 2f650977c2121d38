"""BlueKing import and export compared whole with recorded results, on the real export files (mutation testing).

The other bk_export tests check the structure a BlueKing user sees; these pin down every value and every
note of both directions, so any change to the translation shows up here. After a deliberate change,
review the diff and record the new results with `ITSM_UPDATE_GOLDEN=1 pytest tests/flowdef/test_bk_export_golden.py`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.flowdef import parse_flow_text
from app.flowdef.bk_export import BkExportError, from_bk_document, to_bk, to_bk_service
from app.flowdef.loader import FlowLoadError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bk_exports"
GOLDEN = FIXTURES / "golden"
FILES = ["itsm_dbm.json", "plugins_create_approval.json", "bk_itsm_builtin_workflow.json", "bk_itsm_parallel_flow1.json"]


def translate_both_ways(name: str) -> list[dict]:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    out = []
    for t in from_bk_document(data, key="imported"):
        entry: dict = {"flow": t.flow, "notes": t.notes, "service": t.service}
        try:
            flow = parse_flow_text(json.dumps(t.flow, ensure_ascii=False), "<bk>").definition
        except FlowLoadError as exc:
            entry["refused"] = [str(i) for i in exc.issues]
        else:
            exported, notes = to_bk(flow)
            service, service_notes = to_bk_service(flow, name="服务", desc="说明")
            entry.update(exported=exported, export_notes=notes, service_export=service, service_notes=service_notes)
        out.append(entry)
    return json.loads(json.dumps(out, ensure_ascii=False))      # tuples as lists, keys as strings


@pytest.mark.parametrize("name", FILES)
def test_import_and_export_of_a_real_file_give_exactly_the_recorded_result(name):
    got = translate_both_ways(name)
    path = GOLDEN / name
    if os.environ.get("ITSM_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))


def test_a_document_that_is_not_an_export_is_refused_with_the_whole_message():
    with pytest.raises(BkExportError) as info:
        from_bk_document({"states": {}})
    assert info.value.problems == [
        "not a BlueKing workflow export: expected a workflow with 'states' and 'transitions', a list of them, "
        "or a service with 'workflow'"]
