"""Back-office forms that take people use the searchable user picker: only existing users are accepted,
an unknown username is refused in Chinese and nothing changes, stored people show selected with their name."""
from __future__ import annotations

import re

from admin_kit import text_of

from app.models import Flow, FlowVersion, Role, Service, User

UNKNOWN = "用户不存在：ghost。请从列表中选择已有用户"


def picker(page: str, name: str) -> str:
    """The <select> of field `name` on the page, or an empty text."""
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', page, flags=re.S)
    return found.group(0) if found else ""


def label_of(rows, username) -> str:
    user = rows.one(User, username=username)
    return f"{username}({user.display_name})" if user.display_name else username


def assert_people_picker(select: str) -> None:
    assert 'data-picker="people"' in select and 'data-picker-search="/people/search"' in select


# --- service owners (服务负责人) -------------------------------------------------------

def _service_form(rows, **changes) -> dict:
    version = rows.one(FlowVersion, flow_key="account_apply", version_number=1)
    return {"name": "VPN 开通", "key": "vpn", "service_type": "request", "flow_version": str(version.id), "desc": "",
            "is_valid": "y", "catalog_ids": [], **changes}


def test_service_owners_are_picked_users_stored_as_before(admin, rows):
    response = admin.post("/admin/service/new/", _service_form(rows, owners=["pm", "eng1"]))
    assert response.status_code == 302, text_of(response)
    service = rows.one(Service, key="vpn")
    assert service.owners == "pm,eng1"
    select = picker(admin.get(f"/admin/service/edit/?id={service.id}").get_data(as_text=True), "owners")
    assert_people_picker(select)
    assert "multiple" in select
    assert re.search(rf'<option selected value="pm">{re.escape(label_of(rows, "pm"))}</option>', select), select
    assert 'value="eng1"' in select and 'value="eng2"' not in select     # only the chosen people are sent


def test_unknown_service_owner_is_refused_and_nothing_changes(admin, rows):
    response = admin.post("/admin/service/new/", _service_form(rows, owners=["pm", "ghost"]))
    assert response.status_code == 200 and UNKNOWN in text_of(response)
    assert rows.one(Service, key="vpn") is None
    service = rows.all(Service)[0]
    response = admin.post(f"/admin/service/edit/?id={service.id}", {
        "name": "改名", "key": service.key, "service_type": service.service_type,
        "flow_version": str(service.flow_version_id or ""), "desc": "", "owners": "ghost", "catalog_ids": []})
    assert UNKNOWN in text_of(response)
    assert rows.one(Service, id=service.id).name == service.name and rows.one(Service, id=service.id).owners == service.owners


# --- role members (通用角色表) ----------------------------------------------------------

def test_role_members_picker_shows_members_by_name_and_refuses_unknown_users(admin, rows):
    role = rows.one(Role, key="it_ops")
    page = admin.get(f"/admin/role/edit/?id={role.id}").get_data(as_text=True)
    select = picker(page, "member_names")
    assert_people_picker(select)
    members = [m for m in re.findall(r'<option selected value="([^"]+)"', select)]
    assert members and len(members) == select.count("<option")        # no list of every user
    response = admin.post(f"/admin/role/edit/?id={role.id}", {"name": role.name, "key": "it_ops", "desc": "",
                                                              "member_names": ["eng1", "ghost"]})
    assert UNKNOWN in text_of(response)
    role_after = rows.one(Role, key="it_ops")
    assert sorted(m for m in re.findall(r'<option selected value="([^"]+)"', picker(admin.get(
        f"/admin/role/edit/?id={role_after.id}").get_data(as_text=True), "member_names"))) == sorted(members)


# --- directory leader (直属领导) --------------------------------------------------------

def test_directory_leader_is_a_single_person_picker(admin, rows):
    eng1 = rows.one(User, username="eng1")
    assert admin.post(f"/admin/directory/edit/?id={eng1.id}", {"department": "研发部", "leader": "pm"}).status_code == 302
    select = picker(admin.get(f"/admin/directory/edit/?id={eng1.id}").get_data(as_text=True), "leader")
    assert_people_picker(select)
    assert "multiple" not in select
    assert f'<option selected value="pm">{label_of(rows, "pm")}</option>' in select
    assert admin.post(f"/admin/directory/edit/?id={eng1.id}", {"department": "研发部", "leader": ""}).status_code == 302
    assert rows.one(User, username="eng1").leader == ""


# --- deploy supervisors (督办人) --------------------------------------------------------

def test_deploy_supervisors_picker_refuses_unknown_users_and_deploys_nothing(admin, rows):
    flow_id = rows.one(Flow, key="account_apply").id
    assert_people_picker(picker(admin.get(f"/admin/flow/deploy/{flow_id}").get_data(as_text=True), "supervisors"))
    versions = rows.count(FlowVersion, FlowVersion.flow_key == "account_apply")
    response = admin.post(f"/admin/flow/deploy/{flow_id}", {
        "notify": "yes", "channels": ["log"], "frequency": "once", "supervise": "yes", "supervise_starter": "y",
        "supervisors": ["leader", "ghost"]})
    assert UNKNOWN in text_of(response)
    assert rows.count(FlowVersion, FlowVersion.flow_key == "account_apply") == versions
    response = admin.post(f"/admin/flow/deploy/{flow_id}", {
        "notify": "yes", "channels": ["log"], "frequency": "once", "supervise": "yes", "supervisors": ["leader"]})
    assert response.status_code == 302, text_of(response)
    version = rows.one(FlowVersion, flow_key="account_apply", version_number=versions + 1)
    assert version.definition["notify"]["supervisors"] == [{"type": "PERSON", "value": ["leader"]}]
