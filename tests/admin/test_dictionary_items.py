"""数据字典: items edited as a table (key, name, parent, order, enabled); bad rows and items in use change nothing."""
from __future__ import annotations

from admin_kit import text_of

from app.models import Dictionary, DictionaryItem


def table(*rows) -> dict:
    """The form fields the items table posts: each row is (id, key, name, parent, order, enabled[, delete])."""
    data = {}
    for i, row in enumerate(rows):
        item_id, key, name, parent, order, enabled, *delete = row
        data.update({f"items-{i}-id": str(item_id or ""), f"items-{i}-key": key, f"items-{i}-name": name,
                     f"items-{i}-parent": parent, f"items-{i}-order": str(order), f"items-{i}-enabled": enabled})
        if delete:
            data[f"items-{i}-delete"] = "1"
    return data


def dictionary_form(key, name, *rows, enabled=True) -> dict:
    return {"key": key, "name": name, "desc": "", **({"is_enabled": "y"} if enabled else {}), **table(*rows)}


def items_of(rows, key) -> dict[str, DictionaryItem]:
    d = rows.one(Dictionary, key=key)
    return {i.key: i for i in rows.all(DictionaryItem, DictionaryItem.dictionary_id == d.id)}


def test_new_dictionary_with_a_tree_of_items_is_saved_in_order(admin, rows):
    response = admin.post("/admin/dictionary/new/", dictionary_form(
        "PLANET", "行星", (None, "inner", "内行星", "", "", "1"), (None, "earth", "地球", "inner", "2", "1"),
        (None, "mars", "火星", "inner", "1", "0"), (None, "outer", "外行星", "", "", "1"), (None, "", "", "", "", "1")))
    assert response.status_code == 302, text_of(response)
    items = items_of(rows, "PLANET")
    assert set(items) == {"inner", "earth", "mars", "outer"}
    assert items["earth"].parent_id == items["mars"].parent_id == items["inner"].id and items["outer"].parent_id is None
    assert items["mars"].order < items["earth"].order and not items["mars"].is_enabled and items["earth"].is_enabled


def test_edit_page_shows_the_items_as_table_rows(admin, rows):
    d = rows.one(Dictionary, key="CHANGE_TYPE")
    page = admin.get(f"/admin/dictionary/edit/?id={d.id}").get_data(as_text=True)
    assert 'data-table-field="items"' in page and 'value="sub1"' in page and 'value="urgent"' in page
    assert "items_text" not in page and "csrf_token" in page


def test_rows_are_updated_in_place_reordered_disabled_and_deleted(admin, rows):
    admin.post("/admin/dictionary/new/", dictionary_form("TIERS", "层级", (None, "a", "甲", "", "", "1"),
                                                         (None, "b", "乙", "", "", "1"), (None, "c", "丙", "", "", "1")))
    before = items_of(rows, "TIERS")
    d = rows.one(Dictionary, key="TIERS")
    response = admin.post(f"/admin/dictionary/edit/?id={d.id}", dictionary_form(
        "TIERS", "层级", (before["a"].id, "a", "甲一", "", "3", "0"), (before["b"].id, "b", "乙", "", "1", "1", "delete"),
        (before["c"].id, "c2", "丙", "", "2", "1"), (None, "d", "丁", "c2", "", "1")))
    assert response.status_code == 302, text_of(response)
    after = items_of(rows, "TIERS")
    assert set(after) == {"a", "c2", "d"}
    assert after["a"].id == before["a"].id and after["a"].name == "甲一" and not after["a"].is_enabled
    assert after["c2"].id == before["c"].id and after["c2"].order < after["a"].order
    assert after["d"].parent_id == after["c2"].id


def _refused(admin, rows, key, *table_rows, message):
    d = rows.one(Dictionary, key=key)
    before = sorted((i.key, i.name, i.parent_id, i.order, i.is_enabled) for i in items_of(rows, key).values())
    response = admin.post(f"/admin/dictionary/edit/?id={d.id}", dictionary_form(key, d.name, *table_rows))
    assert response.status_code == 200
    assert message in text_of(response), text_of(response)
    assert sorted((i.key, i.name, i.parent_id, i.order, i.is_enabled) for i in items_of(rows, key).values()) == before
    return response


def test_duplicate_key_is_refused_and_nothing_changes(admin, rows):
    _refused(admin, rows, "RISK_LEVEL", (None, "high", "高", "", "", "1"), (None, "high", "很高", "", "", "1"),
             message="第 2 行：编码「high」与第 1 行重复")


def test_empty_name_and_empty_key_are_refused(admin, rows):
    _refused(admin, rows, "IMPACT", (None, "x", "", "", "", "1"), (None, "", "无编码", "", "", "1"),
             message="第 1 行：请填写名称")
    _refused(admin, rows, "IMPACT", (None, "", "无编码", "", "", "1"), message="第 1 行：请填写编码")


def test_unknown_parent_and_a_cycle_are_refused(admin, rows):
    _refused(admin, rows, "IMPACT", (None, "x", "X", "nobody", "", "1"), message="上级编码「nobody」不存在")
    _refused(admin, rows, "IMPACT", (None, "x", "X", "y", "", "1"), (None, "y", "Y", "x", "", "1"),
             message="上级关系形成循环：x → y → x")


def test_refused_save_keeps_what_was_typed_on_the_page(admin, rows):
    response = _refused(admin, rows, "IMPACT", (None, "typed_key", "", "", "", "1"), message="请填写名称")
    assert 'value="typed_key"' in response.get_data(as_text=True)


def test_deleting_an_item_a_flow_in_use_names_is_refused_with_where(admin, rows):
    items = items_of(rows, "CHANGE_TYPE")
    kept = [(i.id, i.key, i.name, "", i.order, "1") for i in items.values() if i.key != "sub1"]
    response = _refused(admin, rows, "CHANGE_TYPE", *kept, (items["sub1"].id, "sub1", "变更1", "urgent", "", "1", "delete"),
                        message="字典项「变更1」（sub1）正被使用中的流程引用，不能删除")
    assert "字段「紧急原因」的隐藏条件" in text_of(response)


def test_rekeying_an_item_in_use_is_refused(admin, rows):
    items = items_of(rows, "CHANGE_TYPE")
    by_id = {i.id: i.key for i in items.values()}
    table_rows = [(i.id, "urgent2" if i.key == "urgent" else i.key, i.name,
                   "urgent2" if by_id.get(i.parent_id) == "urgent" else by_id.get(i.parent_id, ""), i.order, "1")
                  for i in items.values()]
    _refused(admin, rows, "CHANGE_TYPE", *table_rows, message="不能修改编码")


def test_new_item_shows_in_the_fields_of_flows_using_the_dictionary(admin, rows, browser):
    items = items_of(rows, "RISK_LEVEL")
    d = rows.one(Dictionary, key="RISK_LEVEL")
    table_rows = [(i.id, i.key, i.name, "", i.order, "1") for i in items.values()]
    response = admin.post(f"/admin/dictionary/edit/?id={d.id}", dictionary_form(
        "RISK_LEVEL", d.name, *table_rows, (None, "critical", "极高风险", "", "", "1")))
    assert response.status_code == 302, text_of(response)
    from app.services.system.dictionaries import choices_for_dictionary

    with rows.app.app_context():
        assert "critical" in [c.key for c in choices_for_dictionary("RISK_LEVEL")]


def test_disabled_item_leaves_the_choices(admin, rows):
    items = items_of(rows, "RISK_LEVEL")
    d = rows.one(Dictionary, key="RISK_LEVEL")
    table_rows = [(i.id, i.key, i.name, "", i.order, "0" if i.key == "low" else "1") for i in items.values()]
    assert admin.post(f"/admin/dictionary/edit/?id={d.id}", dictionary_form("RISK_LEVEL", d.name, *table_rows)).status_code == 302
    from app.services.system.dictionaries import choices_for_dictionary

    from app.flowdef import FieldDef
    from app.services.fields.values import display

    with rows.app.app_context():
        assert [c.key for c in choices_for_dictionary("RISK_LEVEL")] == ["high", "medium"]
        risk = FieldDef(key="risk", name="风险等级", type="SELECT", source={"dictionary": "RISK_LEVEL"})
        assert display(risk, "low") == "低风险"          # a value stored before is still named


def test_save_without_csrf_token_is_refused(app, admin, rows):
    d = rows.one(Dictionary, key="IMPACT")
    count = rows.count(DictionaryItem, DictionaryItem.dictionary_id == d.id)
    response = admin.post(f"/admin/dictionary/edit/?id={d.id}", dictionary_form("IMPACT", "x", (None, "z", "Z", "", "", "1")),
                          csrf=False)
    assert response.status_code in (200, 400)
    assert rows.count(DictionaryItem, DictionaryItem.dictionary_id == d.id) == count
    assert rows.one(Dictionary, key="IMPACT").name != "x"


def test_new_dictionary_page_offers_an_empty_items_table(admin):
    page = admin.get("/admin/dictionary/new/").get_data(as_text=True)
    assert 'name="items-0-key" value=""' in page and 'name="items-1-key"' not in page
    assert 'data-add-row="items"' in page
