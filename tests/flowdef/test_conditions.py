"""Exact behaviour of the condition evaluator (`app/flowdef/conditions.py`).

Written against mutation testing: each operator's edge cases (numbers as text, booleans, None,
lists and comma strings, a missing field) are pinned to one exact result, so a changed comparison,
constant or branch is seen. The helpers are called directly too: `_ordered` is called while the
module loads (to build the operator table), so only a direct call reaches its body at test time.
"""
from __future__ import annotations

import operator

import pytest

from app.flowdef import conditions as c
from app.flowdef.model import AllOf, AnyOf, Compare, NotOf


@pytest.mark.parametrize("value, expected", [
    (True, None), (False, None), (0, 0.0), (3, 3.0), (2.5, 2.5), (" 7 ", 7.0), ("1e2", 100.0),
    ("x", None), ("", None), (None, None), ([1], None),
])
def test_number(value, expected):
    got = c._number(value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("op, left, right, expected", [
    (operator.gt, 10, 9, True), (operator.gt, 9, 10, False), (operator.gt, 9, 9, False),
    # numbers as text compare as numbers, not as strings ("10" < "9" as text)
    (operator.gt, "10", "9", True), (operator.lt, "10", "9", False), (operator.ge, " 9 ", 9, True),
    (operator.le, "9", 9.0, True), (operator.lt, 9, "9.5", True),
    # one side not a number: strings
    (operator.gt, "b", "a", True), (operator.lt, "b", "a", False), (operator.lt, "a", "b", True),
    (operator.lt, "M", "a", True), (operator.gt, "a", "Z", True), (operator.gt, "b", 1, True),
    (operator.lt, 1, "b", True), (operator.ge, "a", "a", True), (operator.le, "ab", "a", False),
    # None never orders
    (operator.gt, None, 1, False), (operator.lt, None, 1, False), (operator.lt, 1, None, False),
    (operator.gt, 1, None, False), (operator.le, None, None, False), (operator.ge, None, "a", False),
    (operator.le, "a", None, False),
    # booleans are not numbers: compared as text "True" > "False"
    (operator.gt, True, False, True), (operator.lt, True, False, False),
])
def test_ordered_direct(op, left, right, expected):
    assert c._ordered(op)(left, right) is expected


@pytest.mark.parametrize("opname, left, right, expected", [
    (">", 10, 9, True), (">", "10", "9", True), (">", 9, 9, False), (">=", 9, 9, True), (">=", 8, 9, False),
    ("<", 8, 9, True), ("<", 9, 9, False), ("<=", 9, 9, True), ("<=", 10, 9, False),
    (">", None, 0, False), ("<", None, 0, False), ("<=", "a", "b", True), (">=", "a", "b", False),
])
def test_ordered_operators_in_the_table(opname, left, right, expected):
    assert c._OPS[opname](left, right) is expected


@pytest.mark.parametrize("left, right, expected", [
    (1, "1", True), ("1.0", 1, True), (" 2 ", "2", True), (1, 2, False), ("01", "1", True),
    # lists: element-wise as text, order matters
    ([1, 2], ["1", "2"], True), ([1, 2], [2, 1], False), ((1, 2), "1,2", True), ("1,2", [1, 2], True),
    ([1], 1, True), (1, [1], True), ([], None, True), ([1], [1, 2], False), ([1, 2], [1], False),
    # booleans: truthiness against text
    (True, "yes", True), (True, "no", False), (False, "no", True), ("on", True, True), (False, 0, True),
    (True, 1, True), (False, "", True), (True, "", False),
    # plain text
    ("a", "a", True), ("a", "b", False), ("A", "a", False),
    # None only equals None
    (None, None, True), (None, "", False), ("", None, False), (None, 0, False), ("None", None, False),
])
def test_equal(left, right, expected):
    assert c._equal(left, right) is expected
    assert c._OPS["=="](left, right) is expected
    assert c._OPS["!="](left, right) is (not expected)


@pytest.mark.parametrize("value, expected", [
    ("1", True), ("true", True), (" TRUE ", True), ("Yes", True), ("on", True), ("y", True), ("Y ", True),
    ("0", False), ("false", False), ("no", False), ("off", False), ("n", False), ("", False), ("2", False),
    ("yess", False), ("t", False),
    (1, True), (0, False), (None, False), ([], False), ([0], True), (True, True), (False, False),
])
def test_truthy(value, expected):
    assert c._truthy(value) is expected


@pytest.mark.parametrize("value, expected", [
    (None, []), ([1, 2], [1, 2]), ((1,), [1]), (frozenset({3}), [3]), ({4}, [4]),
    ("a,b", ["a", "b"]), ("a,,b,", ["a", "b"]), (",", []), ("ab", ["ab"]), ("", [""]), (0, [0]), (False, [False]),
])
def test_as_list(value, expected):
    got = c._as_list(value)
    assert got == expected and type(got) is list


@pytest.mark.parametrize("left, right, expected", [
    ("a", ["a", "b"], True), ("c", ["a", "b"], False), ("a,b", "a,b,c", True), (["a", "d"], "a,b", False),
    ([], ["a"], False), (None, ["a"], False), (1, ["1"], True), ("1", [1], True), ("a", "a", True),
    ("a", None, False),
])
def test_in_and_notin(left, right, expected):
    assert c._in(left, right) is expected
    assert c._OPS["in"](left, right) is expected
    assert c._OPS["notin"](left, right) is (not expected)


@pytest.mark.parametrize("left, right, expected", [
    # text contains text
    ("hello world", "lo w", True), ("hello", "xyz", False), ("a12", 12, True), ("abc", "", True),
    ("abc", None, False), ("None here", None, True),
    # text against a list: every item must be one of the comma-separated values
    ("a,b,c", ["a", "c"], True), ("a,b,c", ["a", "d"], False), ("ab", ["a"], False), ("a", ("a",), True),
    # a list holds the values
    (["a", "b"], "a", True), (["a", "b"], "c", False), (["a", "b"], ["b", "a"], True), (["a"], ["a", "b"], False),
    ([1, 2], "1,2", True), ([1, 2], 2, True), (["ab"], "a", False), ([], [], True), ([], None, True),
    (None, "a", False), (None, None, True),
])
def test_contains(left, right, expected):
    assert c._contains(left, right) is expected
    assert c._OPS["contains"](left, right) is expected


def test_operator_table_is_exactly_the_documented_one():
    assert sorted(c._OPS) == sorted(["==", "!=", ">", ">=", "<", "<=", "in", "notin", "contains"])


@pytest.mark.parametrize("op, present, missing", [
    ("==", True, False), ("!=", False, True), (">", False, False), (">=", True, False), ("<", False, False),
    ("<=", True, False), ("in", True, False), ("notin", False, True), ("contains", True, False),
])
def test_compare_with_a_present_and_a_missing_field(op, present, missing):
    pred = c.compile_condition(Compare(field="risk", op=op, value="5"))
    assert pred({"risk": "5"}) is present
    assert pred({}) is missing
    assert pred({"other": "5"}) is missing
    # a field present with None is not missing
    if op == "!=":
        assert pred({"risk": None}) is True
    if op == "==":
        assert pred({"risk": None}) is False


def test_all_any_not_and_none():
    yes, no = Compare(field="a", value=1), Compare(field="b", value=1)
    values = {"a": 1, "b": 2}
    assert c.compile_condition(None)({}) is True
    assert c.compile_condition(AllOf(all=(yes, yes)))(values) is True
    assert c.compile_condition(AllOf(all=(yes, no)))(values) is False
    assert c.compile_condition(AnyOf(any=(no, yes)))(values) is True
    assert c.compile_condition(AnyOf(any=(no, no)))(values) is False
    assert c.compile_condition(NotOf(not_=no))(values) is True
    assert c.compile_condition(NotOf(not_=yes))(values) is False
    nested = AllOf(all=(AnyOf(any=(no, yes)), NotOf(not_=no)))
    assert c.compile_condition(nested)(values) is True
    assert c.compile_condition(nested)({"a": 1, "b": 1}) is False


def test_not_a_condition_is_a_type_error_naming_it():
    with pytest.raises(TypeError) as info:
        c.compile_condition({"field": "a"})
    assert str(info.value) == "not a condition: {'field': 'a'}"


def test_condition_fields():
    a, b, d = Compare(field="a"), Compare(field="b"), Compare(field="d")
    assert c.condition_fields(None) == set()
    assert c.condition_fields(a) == {"a"}
    assert c.condition_fields(AllOf(all=(a, b))) == {"a", "b"}
    assert c.condition_fields(AnyOf(any=(b, d, b))) == {"b", "d"}
    assert c.condition_fields(NotOf(not_=AllOf(all=(a, AnyOf(any=(d,)))))) == {"a", "d"}
    assert c.condition_fields("not a condition") == set()


def test_a_missing_field_is_not_a_field_holding_none():
    equal_none = c.compile_condition(Compare(field="x", op="==", value=None))
    assert equal_none({}) is False and equal_none({"x": None}) is True
    contains_nothing = c.compile_condition(Compare(field="x", op="contains", value=[]))
    assert contains_nothing({}) is False and contains_nothing({"x": None}) is True


def test_a_not_condition_may_be_written_with_its_python_name():
    from pydantic import TypeAdapter

    from app.flowdef.model import Condition

    parsed = TypeAdapter(Condition).validate_python({"not_": {"field": "a", "value": 1}})
    assert parsed == NotOf(not_=Compare(field="a", value=1))
    assert c.compile_condition(parsed)({"a": 2}) is True
