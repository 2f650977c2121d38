"""Field types: JSON and HTML input stored in one convention, with upstream messages."""
from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

import pytest
from flask import Blueprint, Flask, render_template_string
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import Form

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run without an installed package or a pytest pythonpath
    sys.path.insert(0, str(ROOT))

from app.flowdef.model import Choice, ChoiceSource, Column, FieldDef  # noqa: E402
from app.forms import (  # noqa: E402
    FIELD_TYPE_REGISTRY,
    FieldContext,
    build_form,
    clean_html,
    display_value,
    form_initial,
    form_values,
    hide_rules,
    validate_values,
)

TEMPLATES = str(ROOT / "templates")

RISK = (Choice(key="high", name="高"), Choice(key="low", name="低"))
TREE = (
    Choice(key="hw", name="硬件", children=(
        Choice(key="pc", name="电脑", children=(Choice(key="laptop", name="笔记本"),)),
        Choice(key="printer", name="打印机"),
    )),
    Choice(key="sw", name="软件"),
)
USERS = (("alice", "爱丽丝"), ("bob", "鲍勃"))
ATTACHMENTS = {"7": {"id": 7, "name": "报告.pdf"}, "8": {"id": 8, "name": "截图.png"}}


def fd(key, type_, name=None, **kw):
    return FieldDef(key=key, name=name or key, type=type_, **kw)


# Named fctx/form_app, not ctx/app: the root conftest's `app` and `ctx` need a database.
@pytest.fixture
def fctx():
    return FieldContext(
        choices_for=lambda f: RISK if f.source and f.source.dictionary == "RISK_LEVEL" else (),
        users=USERS,
        attachment_lookup=lambda ident: ATTACHMENTS.get(str(ident)),
        max_upload_bytes=1024,
    )


@pytest.fixture
def form_app():
    application = Flask(__name__, template_folder=TEMPLATES)
    application.config.update(WTF_CSRF_ENABLED=False, SECRET_KEY="test", TESTING=True)
    application.jinja_env.globals["_"] = lambda text: text     # the form macros' UI words (Chinese, untranslated)
    application.jinja_env.globals["hide_rules"] = hide_rules   # live hide_when data, as app.web registers it
    people = Blueprint("people", __name__)                      # the people pickers search here
    people.add_url_rule("/people/search", "search", lambda: "[]")
    application.register_blueprint(people)
    return application


def check(defs, payload, fctx, **kw):
    return validate_values(defs if isinstance(defs, list) else [defs], payload, fctx, **kw)


# --- every type stores its convention ------------------------------------------

TABLE_COLS = (
    Column(key="sku", name="编号", required=True),
    Column(key="qty", name="数量", display="int"),
    Column(key="kind", name="类型", display="select", choices=RISK),
    Column(key="due", name="到期", display="date"),
)

VALID_CASES = [
    (fd("s", "STRING"), " hello ", "hello"),
    (fd("t", "TEXT"), "line1\nline2", "line1\nline2"),
    (fd("l", "LINK"), "https://example.com/a", "https://example.com/a"),
    (fd("r", "RICHTEXT"), "<p><b>hi</b></p>", "<p><b>hi</b></p>"),
    (fd("i", "INT"), 42, 42),
    (fd("i2", "INT"), "-7", -7),
    (fd("d", "DATE"), "2024-03-05", "2024-03-05"),
    (fd("dt", "DATETIME"), "2024-03-05 10:11:12", "2024-03-05 10:11:12"),
    (fd("dt2", "DATETIME"), "2024-03-05T10:11", "2024-03-05 10:11:00"),
    (fd("dt3", "DATETIME"), "2024-03-05 10:11", "2024-03-05 10:11:00"),
    (fd("rg", "DATETIMERANGE"), ["2024-01-01 08:00:00", "2024-01-02T09:30"],
     ["2024-01-01 08:00:00", "2024-01-02 09:30:00"]),
    (fd("rg2", "DATETIMERANGE"), "2024-01-01 08:00:00,2024-01-01 08:00:00",
     ["2024-01-01 08:00:00", "2024-01-01 08:00:00"]),
    (fd("se", "SELECT", choices=RISK), "high", "high"),
    (fd("src", "SELECT", source=ChoiceSource(dictionary="RISK_LEVEL")), "low", "low"),
    (fd("se2", "SELECT", choices=RISK), ["low"], "low"),
    (fd("ra", "RADIO", choices=RISK), "low", "low"),
    (fd("ms", "MULTISELECT", choices=RISK), "high,low", ["high", "low"]),
    (fd("ms2", "MULTISELECT", choices=RISK), ["low"], ["low"]),
    (fd("cb", "CHECKBOX", choices=RISK), "low,high", ["low", "high"]),
    (fd("cb2", "CHECKBOX"), True, True),
    (fd("cb3", "CHECKBOX"), "false", False),
    (fd("ts", "TREESELECT", choices=TREE), "laptop", "laptop"),
    (fd("ts2", "TREESELECT", choices=TREE), "hw", "hw"),
    (fd("ca", "CASCADE", choices=TREE), ["hw", "pc", "laptop"], ["hw", "pc", "laptop"]),
    (fd("ca2", "CASCADE", choices=TREE), "hw,printer", ["hw", "printer"]),
    (fd("m", "MEMBER"), "alice", "alice"),
    (fd("ms3", "MEMBERS"), "alice,bob", ["alice", "bob"]),
    (fd("tb", "TABLE", columns=TABLE_COLS), [{"sku": "A1", "qty": "3", "kind": "high", "due": "2024-05-01"}],
     [{"sku": "A1", "qty": 3, "kind": "high", "due": "2024-05-01"}]),
    (fd("ct", "CUSTOMTABLE", columns=TABLE_COLS), '[{"sku": "B", "qty": 2}, {}]',
     [{"sku": "B", "qty": 2, "kind": None, "due": None}]),
    (fd("f", "FILE"), [7, {"id": "8"}], [{"id": 7, "name": "报告.pdf"}, {"id": 8, "name": "截图.png"}]),
    (fd("f2", "FILE"), "7", [{"id": 7, "name": "报告.pdf"}]),
]


@pytest.mark.parametrize("fdef,value,stored", VALID_CASES, ids=[c[0].key for c in VALID_CASES])
def test_valid_json_value_is_stored_in_the_type_convention(fdef, value, stored, fctx):
    values, errors = check(fdef, {fdef.key: value}, fctx)
    assert errors == {}
    assert values == {fdef.key: stored}


def test_registry_covers_every_flow_field_type():
    from app.flowdef.model import FIELD_TYPES

    assert set(FIELD_TYPE_REGISTRY) == set(FIELD_TYPES)
    assert len({type(t) for t in FIELD_TYPE_REGISTRY.values()}) == len(FIELD_TYPES)


INVALID_CASES = [
    (fd("risk", "SELECT", "风险等级", choices=RISK), "medium", "【风险等级】选项不匹配，请重新选择"),
    (fd("risk", "RADIO", "风险等级", choices=RISK), "medium", "【风险等级】选项不匹配，请重新选择"),
    (fd("risk", "MULTISELECT", "风险等级", choices=RISK), "high,mid", "【风险等级】选项不匹配，请重新选择"),
    (fd("risk", "CHECKBOX", "风险等级", choices=RISK), ["x"], "【风险等级】选项不匹配，请重新选择"),
    (fd("risk", "TREESELECT", "风险等级", choices=TREE), "nope", "【风险等级】选项不匹配，请重新选择"),
    (fd("n", "INT", "名称"), "12a", "【名称】不是有效的整数"),
    (fd("n", "INT", "名称"), 1.5, "【名称】不是有效的整数"),
    (fd("n", "DATE", "名称"), "2024-13-01", "【名称】不是有效的日期，格式应为 YYYY-MM-DD"),
    (fd("n", "DATETIME", "名称"), "2024-01-01", "【名称】不是有效的时间, 格式应为 YYYY-MM-DD HH:MM:SS"),
    (fd("n", "DATETIMERANGE", "名称"), ["2024-01-01 00:00:00"], "【名称】不是有效的时间, 格式应为 YYYY-MM-DD HH:MM:SS"),
    (fd("n", "DATETIMERANGE", "名称"), ["2024-01-02 00:00:00", "2024-01-01 00:00:00"], "【名称】结束时间不能早于开始时间"),
    (fd("title", "STRING", "标题"), "x" * 121, "【标题】长度不能超过 120 个字符"),
    (fd("s", "STRING", "摘要"), "x" * 256, "【摘要】长度不能超过 255 个字符"),
    (fd("s", "STRING", "摘要", max_length=5), "abcdef", "【摘要】长度不能超过 5 个字符"),
    (fd("l", "LINK", "链接"), "javascript:alert(1)", "【链接】不是有效的链接，应以 http:// 或 https:// 开头"),
    (fd("owner", "MEMBER", "处理人"), "mallory", "【处理人】包含未知用户：mallory"),
    (fd("owner", "MEMBERS", "处理人"), "alice,x,y", "【处理人】包含未知用户：x,y"),
    (fd("c", "CASCADE", "分类", choices=TREE), ["hw", "laptop"], "【分类】选项不匹配，请重新选择"),
    (fd("c", "CASCADE", "分类", choices=TREE), "pc,laptop", "【分类】选项不匹配，请重新选择"),
    (fd("f", "FILE", "附件"), [7, 99], "【附件】附件不存在：99"),
    (fd("tb", "TABLE", "明细", columns=TABLE_COLS), "not json", "【明细】格式不正确，应为行的列表"),
]


@pytest.mark.parametrize("fdef,value,message", INVALID_CASES,
                         ids=[f"{c[0].type}-{i}" for i, c in enumerate(INVALID_CASES)])
def test_invalid_json_value_gives_the_upstream_message(fdef, value, message, fctx):
    values, errors = check(fdef, {fdef.key: value}, fctx)
    assert errors == {fdef.key: [message]}
    assert fdef.key not in values


# --- required / optional / hidden / defaults ------------------------------------

REQUIRED_EMPTY = [
    ("STRING", "  "), ("TEXT", ""), ("INT", ""), ("DATE", None), ("DATETIME", ""),
    ("DATETIMERANGE", ""), ("SELECT", ""), ("RADIO", None), ("MULTISELECT", []),
    ("CHECKBOX", []), ("TREESELECT", ""), ("CASCADE", ""), ("MEMBER", ""), ("MEMBERS", ""),
    ("RICHTEXT", ""), ("LINK", ""), ("TABLE", []), ("CUSTOMTABLE", "[]"), ("FILE", []),
]


def _def_for(type_, required, **kw):
    extra = {}
    if type_ in ("SELECT", "RADIO", "MULTISELECT", "CHECKBOX"):
        extra["choices"] = RISK
    if type_ in ("TREESELECT", "CASCADE"):
        extra["choices"] = TREE
    if type_ in ("TABLE", "CUSTOMTABLE"):
        extra["columns"] = TABLE_COLS
    return FieldDef(key="title", name="标题", type=type_, required=required, **extra, **kw)


@pytest.mark.parametrize("type_,empty", REQUIRED_EMPTY)
def test_required_field_empty_or_missing_is_refused(type_, empty, fctx):
    fdef = _def_for(type_, True)
    assert check(fdef, {"title": empty}, fctx)[1] == {"title": ["【标题】为必填项"]}
    assert check(fdef, {}, fctx)[1] == {"title": ["【标题】为必填项"]}


@pytest.mark.parametrize("type_,empty", REQUIRED_EMPTY)
def test_optional_field_empty_is_stored_as_none_or_empty_list(type_, empty, fctx):
    fdef = _def_for(type_, False)
    values, errors = check(fdef, {"title": empty}, fctx)
    assert errors == {}
    expected = [] if type_ in ("DATETIMERANGE", "MULTISELECT", "CHECKBOX", "CASCADE", "MEMBERS",
                               "TABLE", "CUSTOMTABLE", "FILE") else None
    assert values == {"title": expected}


def test_required_checkbox_without_choices_must_be_ticked(fctx):
    fdef = fd("agree", "CHECKBOX", "同意", required=True)
    assert check(fdef, {"agree": False}, fctx)[1] == {"agree": ["【同意】为必填项"]}
    assert check(fdef, {"agree": "是"}, fctx) == ({"agree": True}, {})


def test_hidden_field_is_not_required_and_a_value_given_for_it_is_checked_and_kept_as_upstream(fctx):
    defs = [fd("kind", "SELECT", "类型", choices=RISK, required=True),
            fd("reason", "TEXT", "原因", required=True)]
    hide_reason = lambda key, values: key == "reason" and values.get("kind") == "low"  # noqa: E731
    assert check(defs, {"kind": "low"}, fctx, is_hidden=hide_reason) == ({"kind": "low"}, {})
    assert check(defs, {"kind": "low", "reason": "x"}, fctx, is_hidden=hide_reason) == ({"kind": "low", "reason": "x"},
                                                                                          {})
    assert check(defs, {"kind": "low", "reason": "x" * 100001}, fctx, is_hidden=hide_reason)[1]["reason"]
    assert check(defs, {"kind": "high"}, fctx, is_hidden=hide_reason)[1] == {"reason": ["【原因】为必填项"]}


def test_missing_field_takes_its_default_but_an_explicit_empty_does_not(fctx):
    defs = [fd("risk", "SELECT", "风险", choices=RISK, default="low", required=True),
            fd("n", "INT", default=3), fd("tags", "MULTISELECT", choices=RISK, default="high,low")]
    assert check(defs, {}, fctx) == ({"risk": "low", "n": 3, "tags": ["high", "low"]}, {})
    values, errors = check(defs, {"risk": "", "n": None, "tags": []}, fctx)
    assert errors == {"risk": ["【风险】为必填项"]}
    assert values == {"n": None, "tags": []}


def test_regex_applies_to_string_text_and_int(fctx):
    defs = [fd("phone", "STRING", "电话", regex=r"^1\d{10}$"),
            fd("note", "TEXT", "备注", regex=r"^[a-z]+$", regex_message="只能是小写字母"),
            fd("port", "INT", "端口", regex=r"^\d{2,5}$")]
    _values, errors = check(defs, {"phone": "123", "note": "ABC", "port": "7"}, fctx)
    assert errors == {"phone": ["【电话】格式不正确"], "note": ["【备注】只能是小写字母"], "port": ["【端口】格式不正确"]}
    values, errors = check(defs, {"phone": "13800000000", "note": "abc", "port": 8080}, fctx)
    assert errors == {} and values == {"phone": "13800000000", "note": "abc", "port": 8080}
    assert check(defs, {"port": "x"}, fctx)[1] == {"port": ["【端口】不是有效的整数"]}


def test_unknown_payload_keys_are_ignored(fctx):
    assert check(fd("s", "STRING"), {"s": "a", "zzz": "b"}, fctx) == ({"s": "a"}, {})


# --- tables ---------------------------------------------------------------------

def test_table_cell_errors_name_row_and_column(fctx):
    fdef = fd("items", "TABLE", "明细", columns=TABLE_COLS, required=True)
    rows = [{"sku": "A", "qty": "x"}, {}, {"qty": 1, "kind": "mid", "due": "2024/01/01"}]
    _values, errors = check(fdef, {"items": rows}, fctx)
    assert errors == {"items": [
        "【明细】第 1 行【数量】不是有效的整数",
        "【明细】第 3 行【编号】为必填项",
        "【明细】第 3 行【类型】选项不匹配，请重新选择",
        "【明细】第 3 行【到期】不是有效的日期，格式应为 YYYY-MM-DD",
    ]}


def test_required_table_needs_one_non_empty_row(fctx):
    fdef = fd("items", "CUSTOMTABLE", "明细", columns=TABLE_COLS, required=True)
    assert check(fdef, {"items": [{}, {"sku": " "}]}, fctx)[1] == {"items": ["【明细】为必填项"]}


# --- FILE, RICHTEXT --------------------------------------------------------------

def test_file_accepts_ids_dicts_and_comma_strings(fctx):
    fdef = fd("f", "FILE", "附件")
    assert check(fdef, {"f": "7,8"}, fctx)[0] == {"f": [ATTACHMENTS["7"], ATTACHMENTS["8"]]}
    assert check(fdef, {"f": {"id": 8}}, fctx)[0] == {"f": [ATTACHMENTS["8"]]}


def test_richtext_is_stored_sanitized(fctx):
    dirty = ('<p onclick="steal()">hi<script>alert(1)</script></p>'
             '<img src="x" onerror="alert(1)"><a href="javascript:alert(1)">x</a>'
             '<a href="JaVaScRiPt:alert(1)">y</a><iframe src="https://e.com"></iframe>'
             '<style>p{}</style><a href="https://ok.example">ok</a><table><tr><td>c</td></tr></table>')
    values, errors = check(fd("body", "RICHTEXT"), {"body": dirty}, fctx)
    stored = values["body"]
    assert errors == {}
    for bad in ("script", "onclick", "onerror", "javascript", "JaVaScRiPt", "iframe", "style", "alert"):
        assert bad not in stored
    assert '<a href="https://ok.example"' in stored and "<td>c</td>" in stored
    assert clean_html('<a href="mailto:a@b.c">m</a>').startswith('<a href="mailto:a@b.c"')
    assert 'src' not in clean_html('<img src="data:image/png;base64,AAAA">')


# --- display ---------------------------------------------------------------------

DISPLAY_CASES = [
    (fd("s", "STRING"), "abc", "abc"),
    (fd("r", "RICHTEXT"), "<p>a &amp; <b>b</b></p>", "a & b"),
    (fd("i", "INT"), 5, "5"),
    (fd("d", "DATE"), "2024-01-01", "2024-01-01"),
    (fd("rg", "DATETIMERANGE"), ["2024-01-01 00:00:00", "2024-01-02 00:00:00"],
     "2024-01-01 00:00:00 ~ 2024-01-02 00:00:00"),
    (fd("se", "SELECT", choices=RISK), "high", "高"),
    (fd("src", "SELECT", source=ChoiceSource(dictionary="RISK_LEVEL")), "low", "低"),
    (fd("ra", "RADIO", choices=RISK), "gone", "gone"),
    (fd("ms", "MULTISELECT", choices=RISK), ["high", "low"], "高,低"),
    (fd("cb", "CHECKBOX", choices=RISK), ["low"], "低"),
    (fd("cb2", "CHECKBOX"), True, "是"),
    (fd("cb3", "CHECKBOX"), False, "否"),
    (fd("ts", "TREESELECT", choices=TREE), "laptop", "笔记本"),
    (fd("ca", "CASCADE", choices=TREE), ["hw", "pc", "laptop"], "硬件/电脑/笔记本"),
    (fd("m", "MEMBER"), "alice", "爱丽丝"),
    (fd("ms2", "MEMBERS"), ["alice", "zed"], "爱丽丝,zed"),
    (fd("tb", "TABLE", columns=TABLE_COLS), [{"sku": "a"}, {"sku": "b"}], "2 行"),
    (fd("f", "FILE"), [{"id": 7, "name": "报告.pdf"}, {"id": 8, "name": "截图.png"}], "报告.pdf,截图.png"),
    (fd("s2", "STRING"), None, ""),
]


@pytest.mark.parametrize("fdef,value,text", DISPLAY_CASES, ids=[c[0].key for c in DISPLAY_CASES])
def test_display_value_is_human_text(fdef, value, text, fctx):
    assert display_value(fdef, value, fctx) == text


# --- HTML path -------------------------------------------------------------------

ROUND_TRIP_DEFS = [
    fd("title", "STRING", "标题", required=True),
    fd("risk", "SELECT", "风险等级", choices=RISK, layout="half"),
    fd("tags", "MULTISELECT", "标签", choices=RISK),
    fd("ok", "CHECKBOX", "同意"),
    fd("kinds", "CHECKBOX", "类型", choices=RISK),
    fd("n", "INT", "数量"),
    fd("day", "DATE", "日期"),
    fd("at", "DATETIME", "时间"),
    fd("span", "DATETIMERANGE", "时段"),
    fd("cat", "CASCADE", "分类", choices=TREE),
    fd("node", "TREESELECT", "节点", choices=TREE),
    fd("who", "MEMBERS", "处理人"),
    fd("items", "TABLE", "明细", columns=TABLE_COLS),
    fd("body", "RICHTEXT", "正文"),
]


def test_html_and_json_paths_store_the_same_values(form_app, fctx):
    form_data = MultiDict([
        ("title", "打印机坏了"), ("risk", "high"), ("tags", "high"), ("tags", "low"), ("ok", "y"),
        ("kinds", "low"), ("n", "3"), ("day", "2024-02-03"), ("at", "2024-02-03T04:05"),
        ("span", "2024-02-03T04:05"), ("span", "2024-02-04T04:05:06"), ("cat", "hw,pc"),
        ("node", "printer"), ("who", "bob"),
        ("items-0-sku", "A"), ("items-0-qty", "2"), ("items-0-kind", "low"), ("items-0-due", ""),
        ("items-1-sku", ""), ("items-1-qty", ""), ("items-1-kind", ""), ("items-1-due", ""),
        ("body", "<p>x<script>1</script></p>"),
    ])
    payload = {
        "title": "打印机坏了", "risk": "high", "tags": "high,low", "ok": True, "kinds": ["low"],
        "n": 3, "day": "2024-02-03", "at": "2024-02-03 04:05:00",
        "span": "2024-02-03 04:05:00,2024-02-04 04:05:06", "cat": ["hw", "pc"], "node": "printer",
        "who": "bob", "items": [{"sku": "A", "qty": 2, "kind": "low"}], "body": "<p>x<script>1</script></p>",
    }
    with form_app.test_request_context(method="POST", data=form_data):
        form = build_form(ROUND_TRIP_DEFS, fctx)()
        assert form.validate(), form.errors
        html_values = form_values(form, ROUND_TRIP_DEFS, fctx)
    json_values, errors = validate_values(ROUND_TRIP_DEFS, payload, fctx)
    assert errors == {}
    assert html_values == json_values
    assert html_values["items"] == [{"sku": "A", "qty": 2, "kind": "low", "due": None}]
    assert html_values["body"] == "<p>x</p>"


def test_html_file_upload_is_checked_for_extension_and_size(form_app, fctx):
    fdef = fd("f", "FILE", "附件", required=True)
    good = (io.BytesIO(b"abc"), "a.pdf")
    with form_app.test_request_context(method="POST", data={"f": [good]},
                                  content_type="multipart/form-data"):
        form = build_form([fdef], fctx)()
        assert form.validate(), form.errors
        stored = form_values(form, [fdef], fctx)["f"]
        assert [type(s) for s in stored] == [FileStorage] and stored[0].filename == "a.pdf"
    for upload, message in [((io.BytesIO(b"x"), "evil.exe"), "【附件】不允许上传该类型的文件：evil.exe"),
                            ((io.BytesIO(b"x" * 2048), "big.pdf"), "【附件】文件过大：big.pdf（上限 1 KB）")]:
        with form_app.test_request_context(method="POST", data={"f": [upload]},
                                      content_type="multipart/form-data"):
            form = build_form([fdef], fctx)()
            assert not form.validate()
            assert form.errors == {"f": [message]}
    with form_app.test_request_context(method="POST", data={"other": "1"}):
        form = build_form([fdef], fctx)()
        assert not form.validate() and form.errors == {"f": ["【附件】为必填项"]}


def test_html_form_hidden_keys_are_optional_and_not_stored(form_app, fctx):
    defs = [fd("a", "STRING", required=True), fd("b", "INT", required=True)]
    with form_app.test_request_context(method="POST", data={"a": "x", "b": "oops"}):
        form = build_form(defs, fctx, hidden_keys=frozenset({"b"}))()
        assert form.validate()
        assert form_values(form, defs, fctx) == {"a": "x"}


def test_render_fields_macro_renders_every_type(form_app, fctx):
    defs = ROUND_TRIP_DEFS + [fd("r", "RADIO", "单选", choices=RISK), fd("m", "MEMBER", "负责人"),
                              fd("f", "FILE", "附件", desc="最大 10MB"), fd("t", "TEXT", "描述")]
    values = {"items": [{"sku": "A", "qty": 2}], "f": [ATTACHMENTS["7"]], "risk": "low"}
    source = '{% from "forms/_fields.html" import render_fields, render_values %}' \
             '{{ render_fields(form, defs) }}{{ render_values(values, defs, show) }}'
    with form_app.test_request_context():
        form = build_form(defs, fctx)(data=form_initial(defs, values, fctx))
        html = render_template_string(source, form=form, defs=defs, values=values,
                                      show=lambda f, v: display_value(f, v, fctx))
    assert 'class="form-group col-md-6"' in html and 'class="form-group col-12"' in html
    assert '<span class="text-danger">*</span>' in html
    assert 'name="items-0-sku" value="A"' in html and 'name="items-3-sku"' in html
    assert 'type="datetime-local"' in html and 'type="date"' in html
    assert 'multiple' in html and 'type="file"' in html and 'value="7"' in html
    assert '<option selected value="low">' in html or 'selected value="low"' in html
    assert '<option value="hw,pc">硬件 / 电脑</option>' in html
    assert 'small class="form-text text-muted">最大 10MB</small>' in html
    assert "<script src" not in html and "<link" not in html  # no external assets


def test_render_fields_hides_hidden_fields(form_app, fctx):
    defs = [fd("a", "STRING", "甲", required=True), fd("b", "STRING", "乙", required=True)]
    with form_app.test_request_context():
        form = build_form(defs, fctx, hidden_keys=frozenset({"b"}))()
        html = render_template_string(
            '{% from "forms/_fields.html" import render_fields %}{{ render_fields(form, defs) }}',
            form=form, defs=defs)
    assert 'col-12 d-none" data-field="b"' in html and 'col-12" data-field="a"' in html
    assert '乙 <span class="text-danger">' not in html


def test_render_fields_shows_errors(form_app, fctx):
    defs = [fd("title", "STRING", "标题", required=True)]
    with form_app.test_request_context(method="POST", data={"title": ""}):
        form = build_form(defs, fctx)()
        form.validate()
        html = render_template_string(
            '{% from "forms/_fields.html" import render_fields %}{{ render_fields(form, defs) }}',
            form=form, defs=defs)
    assert "is-invalid" in html and '<div class="invalid-feedback d-block">【标题】为必填项</div>' in html


# --- building --------------------------------------------------------------------

def test_fifty_fields_build_and_classes_are_fresh_per_call(fctx):
    defs = [fd(f"f{i}", "STRING") for i in range(50)]
    first, second = build_form(defs, fctx, base=Form), build_form(defs[:10], fctx, base=Form)
    assert first is not second
    form = first(formdata=MultiDict({"f49": "x"}))
    assert len(form._fields) == 50 and form.validate() and form.data["f49"] == "x"
    assert not hasattr(second, "f10") and hasattr(first, "f49")
    assert first.f0 is not build_form(defs, fctx, base=Form).f0
    assert first.__mro__[1:] == second.__mro__[1:]  # no shared subclass holds the fields


def test_reserved_field_keys_are_refused(fctx):
    with pytest.raises(ValueError, match="clashes"):
        build_form([fd("data", "STRING")], fctx)


def test_choice_fields_use_select_choice_without_deprecation_warnings(fctx):
    defs = [_def_for(t, False) for t in ("SELECT", "RADIO", "MULTISELECT", "CHECKBOX", "TREESELECT", "CASCADE")]
    defs = [d.model_copy(update={"key": f"k{i}"}) for i, d in enumerate(defs)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        form = build_form(defs, fctx, base=Form)(formdata=MultiDict({"k0": "high"}))
        form.validate()
        for field in form:
            field()


def test_html_table_errors_keep_the_typed_rows(form_app, fctx):
    defs = [fd("items", "TABLE", "明细", columns=TABLE_COLS)]
    data = {"items-0-sku": "", "items-0-qty": "", "items-1-sku": "B", "items-1-qty": "two"}
    with form_app.test_request_context(method="POST", data=data):
        form = build_form(defs, fctx)()
        assert not form.validate()
        assert form.errors == {"items": ["【明细】第 2 行【数量】不是有效的整数"]}
        html = render_template_string(
            '{% from "forms/_fields.html" import render_fields %}{{ render_fields(form, defs) }}',
            form=form, defs=defs)
    assert 'name="items-1-qty" value="two"' in html and 'name="items-4-sku"' in html
