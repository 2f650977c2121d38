"""组织架构 in the back office: each user's department and leader, checked before saving."""
from admin_kit import text_of

from app.models import User


def test_a_super_admin_sets_a_users_department_and_leader(admin, rows):
    eng1 = rows.one(User, username="eng1")
    page = admin.get("/admin/directory/").get_data(as_text=True)
    assert "销售部" in page and "直属领导" in page
    response = admin.post(f"/admin/directory/edit/?id={eng1.id}", {"department": " 研发部 ", "leader": "pm"})
    assert response.status_code == 302
    eng1 = rows.one(User, username="eng1")
    assert (eng1.department, eng1.leader) == ("研发部", "pm")


def test_an_unknown_or_self_leader_is_refused_and_nothing_changes(admin, rows):
    eng2 = rows.one(User, username="eng2")
    response = admin.post(f"/admin/directory/edit/?id={eng2.id}", {"department": "研发部", "leader": "ghost"})
    assert "用户不存在：ghost。请从列表中选择已有用户" in text_of(response)      # the picker field refuses it
    response = admin.post(f"/admin/directory/edit/?id={eng2.id}", {"department": "研发部", "leader": "eng2"})
    assert "eng2 不能是自己的直属领导" in text_of(response)
    eng2 = rows.one(User, username="eng2")
    assert (eng2.department, eng2.leader) == ("", "")


def test_only_super_admins_reach_the_directory(browser):
    assert browser("alice").get("/admin/directory/").status_code == 403


APPROVAL_FLOW = """\
key: approval_preview
name: 审批预览
service_type: request
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING}]}
  - key: cab
    name: CAB 评审
    kind: approval
    processors: {type: PERSON, value: [cab1, cab2]}
    multi: true
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: cab}
  - {from: cab, to: end}
"""


def test_the_flow_graph_shows_approval_nodes_in_their_own_colour_and_the_decision_fields(admin, rows):
    from app.models import Flow

    assert admin.post("/admin/flow/new/", {"source": APPROVAL_FLOW}).status_code == 302
    flow = rows.one(Flow, key="approval_preview")
    page = admin.get(f"/admin/flow/preview/{flow.id}").get_data(as_text=True)
    assert 'data-node="cab"' in page and "#e2d9f3" in page and "审批" in page
    assert "审批意见" in page and "通过" in page and "拒绝" in page                 # the form preview
