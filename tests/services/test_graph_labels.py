"""Flow graph route labels never cover a node or another label (issue 17.10: 退回 sat on 实施完成)."""
from pathlib import Path

import pytest

from app.flowdef import load_flow_file
from app.services.flows.graph import label_box, layout_definition, layout_flow

FLOWS = sorted((Path(__file__).resolve().parents[2] / "flows_yaml").glob("*.yaml"))


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _assert_clear(layout):
    nodes = [(n.x, n.y, n.x + n.w, n.y + n.h) for n in layout.nodes]
    boxes = [(e.label, label_box(e)) for e in layout.edges if e.label]
    for label, box in boxes:
        assert not any(_overlaps(box, node) for node in nodes), (label, box)
        assert box[2] <= layout.width and box[3] <= layout.height and box[0] >= 0 and box[1] >= 0, (label, box)
    for i, (label, box) in enumerate(boxes):
        for other_label, other in boxes[i + 1:]:
            assert not _overlaps(box, other), (label, other_label)


@pytest.mark.parametrize("path", FLOWS, ids=[p.stem for p in FLOWS])
def test_the_demo_flows_route_labels_cover_no_node_and_no_label(path):
    _assert_clear(layout_definition(load_flow_file(path).definition))


def test_labels_of_a_crowded_flow_with_returns_stay_clear():
    nodes = [("s", "提单", "start"), ("a", "审批", "manual"), ("i", "实施", "manual"), ("v", "验证", "manual"),
             ("e", "结束", "end")]
    edges = [("s", "a", "提交"), ("a", "i", "同意"), ("a", "s", "退回"), ("i", "v", "实施完成"), ("v", "i", "退回实施"),
             ("v", "a", "重新审批"), ("v", "e", "验证通过"), ("a", "e", "拒绝")]
    _assert_clear(layout_flow(nodes, edges, start="s"))
