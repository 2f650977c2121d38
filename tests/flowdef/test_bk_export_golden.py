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
from app.flowdef.bk_export import BkExportError, from_bk, from_bk_document, to_bk, to_bk_service
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


def _field(fid, key, ftype, **extra):
    return {"id": fid, "key": key, "name": extra.pop("name", f"字段{fid}"), "type": ftype, "source_type": "CUSTOM",
            "validate_type": "OPTION", "regex": "EMPTY", "choice": [], "layout": "COL_12", **extra}


ODD_FIELDS = [
    _field(9001, "1bad-key", "STRING"),                                              # not an identifier: renamed
    _field(9002, "pick_free", "INPUTSELECT", choice=[{"key": "a", "name": "甲"}]),
    _field(9003, "weird", "GEOMAP"),                                                  # no equivalent: TEXT
    _field(9004, "from_api", "SELECT", source_type="API", source_uri="http://cmdb/hosts", kv_relation={"k": "v"}),
    _field(9005, "from_rpc", "MULTISELECT", source_type="CUSTOM_API", api_instance_id=7),
    _field(9006, "rpc_text", "RADIO", source_type="RPC"),
    _field(9007, "no_choice_select", "SELECT"),
    _field(9008, "no_choice_radio", "RADIO"),
    _field(9009, "grid", "TABLE"),
    _field(9010, "custom_ok", "STRING", regex="CUSTOM", custom_regex=r"^\d{3}$"),
    _field(9011, "custom_bad", "STRING", regex="CUSTOM", custom_regex="(("),
    _field(9012, "custom_empty", "STRING", regex="CUSTOM", custom_regex=""),
    _field(9013, "rule_float", "STRING", regex="FLOAT"),
    _field(9014, "rule_unknown", "STRING", regex="ZIP_CODE"),
    _field(9015, "sel_default_bad", "SELECT", choice=[{"key": "a", "name": "甲"}], default="zz"),
    _field(9016, "radio_default_bad", "RADIO", choice=[{"key": "a", "name": "甲"}], default="zz"),
    _field(9017, "multi_default", "MULTISELECT", choice=[{"key": "a", "name": "甲"}], default="zz"),
    _field(9018, "file_default", "FILE", default="x.txt"),
    _field(9019, "dict_source", "SELECT", source_type="DATADICT", source_uri="regions"),
    _field(9020, "computed", "STRING", related_fields={"rely_on": ["a", "b"]}),
    _field(9021, "nameless", "STRING", name="  "),
    _field(9022, "half", "STRING", layout="COL_6", desc="说明", is_readonly=True, default="d"),
]


def test_every_kind_of_odd_field_is_imported_or_reported_exactly_as_recorded():
    data = json.loads((FIXTURES / "itsm_dbm.json").read_text(encoding="utf-8"))
    wf = data["workflow"]
    first = next(s for s in wf["states"].values() if s.get("is_first_state"))
    first["fields"] = list(first["fields"]) + [f["id"] for f in ODD_FIELDS]
    first["desc"] = "提单说明"
    for f in ODD_FIELDS:
        wf["fields"][str(f["id"])] = {**f, "state_id": first["id"]}
    (t,) = from_bk_document(data, key="odd")
    got = json.loads(json.dumps({"flow": t.flow, "notes": t.notes}, ensure_ascii=False))
    path = GOLDEN / "odd_fields.json"
    if os.environ.get("ITSM_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))


def _dbm_with_condition(condition_type, condition):
    data = json.loads((FIXTURES / "itsm_dbm.json").read_text(encoding="utf-8"))
    line = data["workflow"]["transitions"]["2014"]                     # 提单 → 审批
    line.update(condition_type=condition_type, condition=condition)
    return data


def _problems(data):
    with pytest.raises(BkExportError) as info:
        from_bk(data, key="odd")
    return info.value.problems


def test_a_workflow_without_states_or_transitions_is_refused_saying_both():
    assert _problems({"states": {}, "transitions": {}}) == [
        "states: the workflow has no states", "transitions: the workflow has no transitions"]


def test_conditions_of_lines_are_imported_or_refused_with_their_place():
    line = lambda t: next(x for x in t.flow["transitions"] if x["from"] == "state_1905")  # noqa: E731
    # a default line's condition is never read, however broken
    assert "when" not in line(from_bk(_dbm_with_condition("default", "broken"), key="odd"))
    assert _problems(_dbm_with_condition("by_field", "broken")) == [
        "workflow.transitions.2014.condition: expected {type, expressions}, got 'broken'"]
    leaf = {"key": "title", "condition": "notissuperset", "value": "a,b"}
    assert line(from_bk(_dbm_with_condition("by_field", {"type": "and", "expressions": [leaf]}), key="odd"))["when"] \
        == {"not": {"field": "title", "op": "contains", "value": ["a", "b"]}}
    leaf = {"key": "title", "condition": "in", "value": "a,b"}
    assert line(from_bk(_dbm_with_condition("by_field", {"type": "and", "expressions": [leaf]}), key="odd"))["when"] \
        == {"field": "title", "op": "in", "value": ["a", "b"]}
    unknown = [{"key": "nope", "condition": "==", "value": 1, "meta": {"code": "X1"}},
               {"key": "gone", "condition": "==", "value": 1}]
    assert _problems(_dbm_with_condition("by_field", {"type": "or", "expressions": unknown})) == [
        "workflow.transitions.2014.condition: condition key 'nope' (X1) is neither a field nor an approval result "
        "of this workflow",
        "workflow.transitions.2014.condition: condition key 'gone' is neither a field nor an approval result "
        "of this workflow"]
