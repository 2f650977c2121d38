"""The designer's edits written into a flow's YAML: untouched text verbatim, comments and key order kept."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from app.flowdef import parse_flow_text
from app.flowdef.roundtrip import apply_edit, yaml_diff

FLOWS = Path(__file__).resolve().parents[2] / "flows_yaml"
HAND_WRITTEN = """\
# A hand-written flow: this comment stays.
key: leave
name: 请假   # inline comment stays too
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: days, name: 天数, type: INT, required: true,
         desc: 请假天数}
      - key: reason      # why
        name: 事由
        type: TEXT

  - {key: approve, name: 审批, kind: approval, processors: {type: STARTER}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}
  - {from: approve, to: end}
"""


@pytest.mark.parametrize("path", sorted(FLOWS.glob("*.yaml")), ids=lambda p: p.stem)
def test_unchanged_data_gives_back_the_file_byte_for_byte(path):
    text = path.read_text(encoding="utf-8")
    assert apply_edit(text, yaml.safe_load(text)) == text


def test_an_edit_changes_only_its_lines_and_keeps_comments_and_order():
    data = yaml.safe_load(HAND_WRITTEN)
    data["nodes"][1]["name"] = "主管审批"
    out = apply_edit(HAND_WRITTEN, data)
    diff = [line for line in yaml_diff(HAND_WRITTEN, out).splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert diff == ["-  - {key: approve, name: 审批, kind: approval, processors: {type: STARTER}}",
                    "+  - {key: approve, name: 主管审批, kind: approval, processors: {type: STARTER}}"]
    assert "# A hand-written flow: this comment stays." in out and "# inline comment stays too" in out
    assert "# why" in out and "         desc: 请假天数}" in out
    assert yaml.safe_load(out) == data


def test_layout_hint_goes_after_kind_and_the_flow_still_validates():
    data = yaml.safe_load(HAND_WRITTEN)
    data["nodes"][0]["layout"] = {"x": 40, "y": 60}
    out = apply_edit(HAND_WRITTEN, data)
    assert "    kind: start\n    layout: {x: 40, y: 60}\n    fields:" in out
    assert parse_flow_text(out).definition.node("submit").layout.x == 40


def test_new_nodes_fields_and_lines_are_added_removed_ones_dropped():
    data = yaml.safe_load(HAND_WRITTEN)
    data["nodes"].insert(2, {"key": "hr", "name": "人事备案", "kind": "manual", "processors": {"type": "STARTER"}})
    data["nodes"][0]["fields"].append({"key": "kind", "name": "类型", "type": "SELECT",
                                       "choices": [{"key": "a", "name": "年假"}]})
    data["transitions"] = [{"from": "submit", "to": "approve"}, {"from": "approve", "to": "hr"},
                           {"from": "hr", "to": "end"}]
    out = apply_edit(HAND_WRITTEN, data)
    assert yaml.safe_load(out) == data
    assert out.startswith("# A hand-written flow: this comment stays.\n")
    assert "  - {key: hr, name: 人事备案, kind: manual, processors: {type: STARTER}}\n" in out
    parse_flow_text(out)


def test_a_new_flow_is_written_from_nothing():
    data = {"key": "x", "name": "X", "service_type": "request",
            "nodes": [{"key": "s", "name": "提单", "kind": "start"}, {"key": "e", "name": "结束", "kind": "end"}],
            "transitions": [{"from": "s", "to": "e"}]}
    out = apply_edit("", copy.deepcopy(data))
    assert yaml.safe_load(out) == data
    assert "  - {key: s, name: 提单, kind: start}" in out


@pytest.mark.parametrize("path", sorted(FLOWS.glob("*.yaml")), ids=lambda p: p.stem)
def test_random_edits_always_write_exactly_the_edited_data(path):
    """Renames, removed fields and lines, moved and reordered nodes, new nodes: the text reads back as the data."""
    import random

    rng = random.Random(path.stem)
    text = path.read_text(encoding="utf-8")
    for trial in range(25):
        data = yaml.safe_load(text)
        for step in range(rng.randint(1, 4)):
            node = rng.choice(data["nodes"])
            op = rng.randrange(6)
            if op == 0:
                node["name"] += "改"
            elif op == 1 and node.get("fields"):
                node["fields"].pop(rng.randrange(len(node["fields"])))
            elif op == 2:
                node["layout"] = {"x": rng.randint(0, 900), "y": rng.randint(0, 500)}
            elif op == 3:
                rng.shuffle(data["nodes"])
            elif op == 4 and data["transitions"]:
                data["transitions"].pop(rng.randrange(len(data["transitions"])))
            else:
                data["nodes"].insert(rng.randrange(len(data["nodes"]) + 1),
                                     {"key": f"n{trial}_{step}", "name": "新", "kind": "end"})
        assert yaml.safe_load(apply_edit(text, data)) == data
