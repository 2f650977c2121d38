"""Exact behaviour of the data dictionary loader (`app/flowdef/dictionaries.py`).

Written against mutation testing: every refusal is compared as whole issues (file, line, path,
message), the default file name and the set of file suffixes are pinned, and a directory with
several broken files must report each of them.
"""
from __future__ import annotations

import json

import pytest

from app.flowdef.dictionaries import (DictionaryDef, DictionaryLoadError, _key_line, load_dictionaries,
                                      load_dictionary_file, parse_dictionary_text)
from app.flowdef.loader import FlowLoadError, MAX_DOCUMENT_BYTES
from app.flowdef.model import Choice

TREE = """\
key: TREE
name: 树
desc: 说明
items:
  - key: a
    name: A
    children:
      - key: a1
        name: A1
        children:
          - {key: a1x, name: A1X}
      - {key: a2, name: A2}
  - {key: b, name: B}
"""


def issues(exc_info) -> list[str]:
    return [str(i) for i in exc_info.value.issues]


def test_a_tree_parses_into_frozen_choices():
    d = parse_dictionary_text(TREE, "tree.yaml")
    assert (d.key, d.name, d.desc) == ("TREE", "树", "说明")
    assert d.items == (
        Choice(key="a", name="A", children=(
            Choice(key="a1", name="A1", children=(Choice(key="a1x", name="A1X"),)),
            Choice(key="a2", name="A2"))),
        Choice(key="b", name="B"))
    # depth first, in document order, with the key path from the root
    assert [path for path, _ in d.walk()] == [("a",), ("a", "a1"), ("a", "a1", "a1x"), ("a", "a2"), ("b",)]
    assert [item.name for _, item in d.walk()] == ["A", "A1", "A1X", "A2", "B"]
    assert d.keys() == {"a", "a1", "a1x", "a2", "b"}
    assert d.names() == {"a": "A", "a1": "A1", "a1x": "A1X", "a2": "A2", "b": "B"}


def test_defaults_and_an_empty_dictionary():
    d = parse_dictionary_text("key: E\nname: e\n")
    assert (d.desc, d.items) == ("", ())
    assert list(d.walk()) == [] and d.keys() == set() and d.names() == {}
    with pytest.raises(Exception):
        d.name = "changed"       # frozen


def test_the_default_file_name_is_named_in_issues():
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("- a\n- b\n")
    assert issues(exc) == ["<dictionary>:1: <root>: a dictionary file must be a mapping with key, name, items"]


@pytest.mark.parametrize("text", ["- a\n", "just text\n", "42\n", "", "null\n"])
def test_a_document_that_is_not_a_mapping(text):
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text(text, "d.yaml")
    assert issues(exc) == ["d.yaml:1: <root>: a dictionary file must be a mapping with key, name, items"]
    assert isinstance(exc.value, FlowLoadError)


def test_broken_yaml_names_the_problem_and_its_line():
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("key: X\nname: x\nitems: [{key: a, name: A}\n", "x.yaml")
    assert issues(exc) == ["x.yaml:4: <root>: not valid YAML/JSON: expected ',' or ']', but got '<stream end>'"]
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("key: X\n  name: x\n", "x.yaml")
    assert issues(exc) == ["x.yaml:2: <root>: not valid YAML/JSON: mapping values are not allowed here"]


def test_a_yaml_error_without_a_mark_is_on_line_one(monkeypatch):
    import yaml

    def broken(text):
        raise yaml.YAMLError("no mark here")

    monkeypatch.setattr(yaml, "compose", broken)
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("key: X\nname: x\n", "x.yaml")
    assert issues(exc) == ["x.yaml:1: <root>: not valid YAML/JSON: no mark here"]


def test_document_limits_apply_to_dictionaries():
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("key: X\nname: &n x\ndesc: *n\n", "x.yaml")
    assert issues(exc) == ["x.yaml:2: <root>: YAML anchors and aliases (&name, *name) are not allowed in flow files; "
                           "write the value out"]
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("key: X\nname: x\ndesc: '" + "x" * MAX_DOCUMENT_BYTES + "'\n", "x.yaml")
    assert len(exc.value.issues) == 1 and exc.value.issues[0].message.startswith("document too large: ")


def test_every_duplicate_yaml_key_is_reported():
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("key: X\nname: x\nname: y\nitems:\n  - {key: a, name: A, name: B}\nkey: Y\n", "x.yaml")
    assert issues(exc) == ["x.yaml:3: name: duplicate key 'name'", "x.yaml:5: items.0.name: duplicate key 'name'",
                           "x.yaml:6: key: duplicate key 'key'"]


def test_schema_errors_are_all_reported_once_each_with_their_lines():
    text = "key: 1bad\nname: x\ncolour: red\nitems:\n  - {key: a}\n  - {key: b, name: B, extra: 1}\n"
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text(text, "x.yaml")
    assert issues(exc) == [
        "x.yaml:1: key: String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'",
        "x.yaml:5: items.0: Field required",
        "x.yaml:6: items.1.extra: unknown key 'extra'",
        "x.yaml:3: colour: unknown key 'colour'",
    ]


def test_missing_key_and_name():
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("desc: d\n", "x.yaml")
    assert issues(exc) == ["x.yaml:1: <root>: Field required"]


def test_duplicate_item_keys_at_any_depth_name_the_first_place():
    text = ("key: X\nname: x\nitems:\n"
            "  - key: a\n    name: A\n    children:\n      - {key: b, name: B}\n      - {key: a, name: A2}\n"
            "  - {key: b, name: B2}\n  - {key: c, name: C}\n  - {key: c, name: C2}\n")
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text(text, "x.yaml")
    assert issues(exc) == [
        "x.yaml:8: items.0.children.1.key: duplicate item key 'a' (already at items.0)",
        "x.yaml:9: items.1.key: duplicate item key 'b' (already at items.0.children.0)",
        "x.yaml:11: items.3.key: duplicate item key 'c' (already at items.2)",
    ]


def test_a_json_dictionary(tmp_path):
    path = tmp_path / "J.json"
    path.write_text(json.dumps({"key": "J", "name": "杰", "items": [{"key": "x", "name": "X"}]}, ensure_ascii=False),
                    encoding="utf-8")
    d = load_dictionary_file(path)
    assert (d.key, d.name, d.keys()) == ("J", "杰", {"x"})
    assert load_dictionary_file(str(path)) == d


def test_load_dictionary_file_names_the_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("key: X\n", encoding="utf-8")
    with pytest.raises(DictionaryLoadError) as exc:
        load_dictionary_file(str(path))
    assert issues(exc) == [f"{path}:1: <root>: Field required"]


def test_load_dictionaries_reads_yaml_yml_and_json_files_only(tmp_path):
    (tmp_path / "a.yaml").write_text("key: A\nname: a\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text("key: B\nname: b\n", encoding="utf-8")
    (tmp_path / "c.json").write_text('{"key": "C", "name": "c"}', encoding="utf-8")
    (tmp_path / "d.txt").write_text("key: D\nname: d\n", encoding="utf-8")
    (tmp_path / "README").write_text("not a dictionary", encoding="utf-8")
    (tmp_path / "e.yaml.bak").write_text("broken: [", encoding="utf-8")
    (tmp_path / "sub.yaml").mkdir()      # a directory with a dictionary's name is not a file
    found = load_dictionaries(str(tmp_path))
    assert list(found) == ["A", "B", "C"]
    assert found["B"] == DictionaryDef(key="B", name="b")


def test_load_dictionaries_of_an_empty_directory(tmp_path):
    assert load_dictionaries(tmp_path) == {}


def test_load_dictionaries_reports_every_broken_file_and_every_duplicate(tmp_path):
    (tmp_path / "a.yaml").write_text("key: A\nname: a\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("name: b\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("\n\nkey: A\nname: again\n", encoding="utf-8")
    (tmp_path / "d.yaml").write_text("- x\n", encoding="utf-8")
    (tmp_path / "e.json").write_text('{\n "name": "e",\n "key": "A"\n}', encoding="utf-8")
    (tmp_path / "f.yaml").write_text("key: F\nname: f\n", encoding="utf-8")
    with pytest.raises(DictionaryLoadError) as exc:
        load_dictionaries(tmp_path)
    a = tmp_path / "a.yaml"
    assert issues(exc) == [
        f"{tmp_path / 'b.yaml'}:1: <root>: Field required",
        f"{tmp_path / 'c.yaml'}:3: key: duplicate dictionary key 'A' (already in {a})",
        f"{tmp_path / 'd.yaml'}:1: <root>: a dictionary file must be a mapping with key, name, items",
        f"{tmp_path / 'e.json'}:3: key: duplicate dictionary key 'A' (already in {a})",
    ]


def test_key_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("# a comment\n\nname: x\nkey: X\n", encoding="utf-8")
    assert _key_line(path) == 4
    path.write_text("name: x\n", encoding="utf-8")
    assert _key_line(path) == 1
    path.write_text("a:\n  key: 1\n", encoding="utf-8")
    assert _key_line(path) == 1


def test_document_level_issues_have_an_empty_path():
    from app.flowdef.loader import FlowIssue
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("key: [\n", "x.yaml")
    assert exc.value.issues[0].path == "" and exc.value.issues[0].line == 2
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("- a\n", "x.yaml")
    assert exc.value.issues == [FlowIssue("x.yaml", 1, "", "a dictionary file must be a mapping with key, name, items")]
