"""Flow validation messages in Chinese, and where in the flow each one belongs (node, field, line).

The loader's messages are English (pydantic's own and ours); the designer shows each issue in Chinese
on the element it concerns. Pure: no Flask, no database.
"""
from __future__ import annotations

import re
from typing import Any

KIND_NAMES = {"start": "开始节点", "manual": "手动节点", "approval": "审批节点", "sign": "会签节点",
              "api": "API 节点", "automation": "标准运维节点", "parallel": "并行网关", "converge": "汇聚网关",
              "end": "结束节点"}
KEY_NAMES = {"key": "唯一标识", "name": "名称", "kind": "节点类型", "type": "类型", "distribute_type": "处理场景",
             "processors": "处理人", "assignors": "派单人", "fields": "字段", "required": "必填", "regex": "正则",
             "layout": "布局", "choices": "选项", "source": "数据来源", "hide_when": "隐藏条件", "when": "流转条件",
             "from": "起点", "to": "终点", "value": "值", "service_type": "服务类型", "nodes": "节点",
             "transitions": "连线", "default": "默认值", "columns": "表格列", "api": "API", "plugin": "插件",
             "params": "参数", "can_deliver": "可转单", "can_terminate": "可终止", "desc": "描述",
             "field": "字段", "op": "运算符", "x": "横坐标", "y": "纵坐标", "all": "全部满足", "any": "任一满足",
             "not": "不满足", "retry": "失败重试", "times": "重试次数", "backoff_seconds": "重试间隔",
             "notify": "通知策略", "enabled": "是否通知", "channels": "通知类型", "frequency": "通知频率",
             "supervise": "是否督办", "supervisors": "督办人"}
_Q = r"'([^']*)'"

# (pattern over the English message, Chinese template using the groups)
_PATTERNS: list[tuple[str, str]] = [
    (r"missing key " + _Q, "缺少「{k0}」"),
    (r"unknown key " + _Q, "不认识的配置项「{0}」"),
    (r"duplicate key " + _Q, "配置项「{0}」重复"),
    (r"Input should be a valid string", "应为文本"),
    (r"Input should be a valid boolean.*", "应为 是/否"),
    (r"Input should be a valid integer.*", "应为整数"),
    (r"Input should be a valid number.*", "应为数字"),
    (r"Input should be a valid (dictionary|mapping).*", "应为键值结构（映射）"),
    (r"Input should be a valid (tuple|list|array).*", "应为列表"),
    (r"Input should be an object.*", "应为键值结构（映射）"),
    (r"Input should be greater than or equal to (\S+)", "不能小于 {0}"),
    (r"Input should be less than or equal to (\S+)", "不能大于 {0}"),
    (r"Input should be (.+)", "只能取以下值之一：{0}"),
    (r"String should match pattern .*", "只能包含字母、数字和下划线，且不能以数字开头"),
    (r"Tuple should have at least (\d+) items? after validation.*", "至少需要 {0} 项"),
    (r"(?:Tuple|List) should have at least (\d+) items?.*", "至少需要 {0} 项"),
    (r"Field required", "必填"),
    (r"unknown field type " + _Q + ".*", "不认识的字段类型「{0}」"),
    (r"regex does not compile: (.*)", "正则表达式无效：{0}"),
    (r"a (\w+) field needs 'columns'", "{0} 字段需要配置表格列"),
    (r"a (\w+) field needs 'choices' or a 'source'", "{0} 字段需要选项或数据来源（数据字典 / API）"),
    (r"give either 'choices' or 'source', not both", "选项和数据来源只能二选一"),
    (r"give exactly one of 'dictionary' or 'api'", "数据来源请在数据字典和 API 中二选一"),
    (r"processor type (\w+) needs a 'value'", "处理人类型「{t0}」需要填写具体人员或角色"),
    (r"processor type (\w+) takes no 'value'", "处理人类型「{t0}」不需要填写具体值"),
    (r"processors BY_ASSIGNOR needs distribute_type .*", "处理人「派单指定」需要处理场景为「先派单后处理」或「先派单后认领」"),
    (r"processors OPEN is allowed on the start node only", "处理人「不限」只能用于开始节点"),
    (r"multi, sequential and finish_condition belong to approval nodes only", "会签、顺序审批和通过条件只用于审批节点"),
    (r"a sign node needs 'processors'.*", "会签节点需要处理人（所有需要提交的人）"),
    (r"a sign node is processed directly.*", "会签节点由每位处理人直接处理：处理场景须为「直接处理」，且不能转单"),
    (r"finish_when belongs to sign nodes only", "提前结束条件只用于会签节点"),
    (r"a manual node needs 'processors'", "手动节点需要处理人"),
    (r"(\w+) needs 'assignors' \(who dispatches\)", "处理场景「{d0}」需要派单人"),
    (r"an end node has no fields", "结束节点不能有字段"),
    (r"an api node needs 'api'.*", "API 节点需要选择 API"),
    (r"an automation node needs 'plugin'", "标准运维节点需要选择插件"),
    (r"unknown API " + _Q, "API「{0}」不存在或未启用，请在「API 配置」中添加或启用"),
    (r"unknown automation plugin " + _Q, "插件「{0}」未安装"),
    (r"params\.request must be a mapping.*", "请求参数应为「参数名: 值」的映射"),
    (r"params\.response must map field keys to dotted paths.*", "返回值映射应为「字段: 返回值路径（如 data.id）」"),
    (r"params\.success is not a condition: .*", "成功条件不是有效的条件"),
    (r"an approval node needs 'processors'.*", "审批节点需要处理人（审批人）"),
    (r"an approval node is processed directly.*", "审批节点由审批人直接处理：处理场景须为「直接处理」"),
    (r"an approval node cannot be delivered.*", "审批节点不能转单"),
    (r"sequential and finish_condition need multi: true.*", "顺序审批和通过条件需要开启会签"),
    (r"field key " + _Q + " is reserved for the approval node's decision", "字段标识「{0}」是审批节点的保留字段"),
    (r"agree must be .*", "通过条件应为 all、人数（至少 1）或百分比（如 60%）"),
    (r"unknown service_type " + _Q + ".*", "不认识的服务类型「{0}」"),
    (r"unknown node kind " + _Q + ".*", "不认识的节点类型「{0}」"),
    (r"duplicate node key " + _Q, "节点标识「{0}」重复"),
    (r"a flow needs exactly one start node, found (\d+)", "流程需要恰好一个开始节点，现在有 {0} 个"),
    (r"a flow needs at least one end node", "流程至少需要一个结束节点"),
    (r"transition (from|to) unknown node " + _Q, "连线的{e0}「{1}」不是本流程的节点"),
    (r"an end node \(" + _Q + r"\) has no outgoing transitions", "结束节点「{0}」不能有流出的连线"),
    (r"node " + _Q + r" has more than one transition without 'when'", "节点「{0}」有多条没有条件的流出连线，请为连线设置条件"),
    (r"node " + _Q + r" is unreachable from the start node", "从开始节点无法到达节点「{0}」，请连线"),
    (r"no path from node " + _Q + r" to an end node", "节点「{0}」无法到达结束节点，请连线"),
    (r"duplicate field key " + _Q + r" \(already on node " + _Q + r"\)", "字段标识「{0}」重复（节点「{1}」已有）"),
    (r"unknown data dictionary " + _Q, "数据字典「{0}」不存在"),
    (r"assignors cannot be OPEN", "派单人不能是「不限」"),
    (r"unknown role " + _Q, "角色「{0}」不存在"),
    (r"condition field " + _Q + r" is not a field of this flow", "条件中的字段「{0}」不是本流程的字段"),
    (r"condition field " + _Q + r" is not defined on every path before this transition",
     "条件中的字段「{0}」不是每条路径上都在此连线之前填写"),
    (r"hide_when field " + _Q + r" is not a field of this flow", "隐藏条件中的字段「{0}」不是本流程的字段"),
    (r"hide_when field " + _Q + r" is not defined on this node or every path before it",
     "隐藏条件中的字段「{0}」须是本节点或之前每条路径上都有的字段"),
    (r"VARIABLE field " + _Q + r" is not a field of this flow", "处理人变量「{0}」不是本流程的字段"),
    (r"VARIABLE field " + _Q + r" must be a MEMBER or MEMBERS field.*", "处理人变量「{0}」须为人员字段"),
    (r"VARIABLE field " + _Q + r" is not filled on every path before this node", "处理人变量「{0}」不是每条路径上都在此节点之前填写"),
    (r"ASSIGN_LEADER names a manual or approval node; " + _Q + " is not one", "「{0}」不是手动或审批节点"),
    (r"not valid YAML/JSON: (.*)", "不是有效的 YAML/JSON：{0}"),
    (r"a flow file must be a mapping.*", "流程文件须为包含 key、name、nodes、transitions 的映射"),
    (r"YAML anchors and aliases.*", "流程文件中不能使用 YAML 锚点和别名（&name、*name），请直接写出内容"),
    (r"document too large.*", "文件过大"),
    (r"document nested too deep.*", "嵌套层级过深"),
]
_COMPILED = [(re.compile(p + r"\Z", re.S), zh) for p, zh in _PATTERNS]
DISTRIBUTE_NAMES = {"PROCESS": "直接处理", "CLAIM_THEN_PROCESS": "先认领后处理",
                    "DISTRIBUTE_THEN_PROCESS": "先派单后处理", "DISTRIBUTE_THEN_CLAIM": "先派单后认领"}
PROCESSOR_NAMES = {"PERSON": "个人", "GENERAL": "通用角色", "CMDB": "CMDB 业务角色", "STARTER": "提单人",
                   "BY_ASSIGNOR": "派单指定", "OPEN": "不限", "VARIABLE": "引用变量", "STARTER_LEADER": "提单人上级",
                   "ASSIGN_LEADER": "指定节点处理人上级", "ORGANIZATION": "组织架构", "IAM": "权限中心角色"}
_END_NAMES = {"from": "起点", "to": "终点"}


def message_zh(message: str) -> str:
    """The Chinese sentence for one English validation message (the English kept when none is known)."""
    for pattern, zh in _COMPILED:
        m = pattern.match(message)
        if m:
            groups = m.groups()
            extra = {}
            if groups:
                extra = {"k0": KEY_NAMES.get(groups[0], groups[0]), "t0": PROCESSOR_NAMES.get(groups[0], groups[0]),
                         "d0": DISTRIBUTE_NAMES.get(groups[0], groups[0]), "e0": _END_NAMES.get(groups[0], groups[0])}
            return zh.format(*groups, **extra)
    return f"校验未通过：{message}"


def issue_target(path: str) -> dict:
    """Which designer element a dotted issue path concerns: {"node": i, "field": j} or {"transition": i}."""
    parts = path.split(".") if path else []
    if len(parts) >= 2 and parts[0] == "nodes" and parts[1].isdigit():
        target: dict[str, Any] = {"node": int(parts[1])}
        if len(parts) >= 4 and parts[2] == "fields" and parts[3].isdigit():
            target["field"] = int(parts[3])
            target["attr"] = parts[4] if len(parts) > 4 else None
        else:
            target["attr"] = parts[2] if len(parts) > 2 else None
        return target
    if len(parts) >= 2 and parts[0] == "transitions" and parts[1].isdigit():
        return {"transition": int(parts[1]), "attr": parts[2] if len(parts) > 2 else None}
    return {"attr": parts[0] if parts else None}


def describe_issue(issue: Any, data: Any = None) -> dict:
    """An issue for the designer: the Chinese message with its place named, the element, `file:line`."""
    target = issue_target(issue.path)
    where = _place(target, data)
    attr = target.get("attr")
    label = KEY_NAMES.get(attr, attr) if attr and not str(attr).isdigit() else None
    text = message_zh(issue.message)
    return {"message": f"{where}{'「' + label + '」' if label else ''}：{text}" if where or label else text,
            "short": f"{'「' + label + '」' if label else ''}{text}", "target": target,
            "line": issue.line, "location": f"{issue.file}:{issue.line}", "path": issue.path,
            "message_en": f"{issue.path or '<root>'}: {issue.message}"}


def _place(target: dict, data: Any) -> str:
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if "node" in target:
        node = nodes[target["node"]] if isinstance(nodes, list) and target["node"] < len(nodes) else {}
        name = _label(node)
        where = f"节点「{name}」" if name else f"第 {target['node'] + 1} 个节点"
        if "field" in target:
            fields = node.get("fields") if isinstance(node, dict) else None
            field = fields[target["field"]] if isinstance(fields, list) and target["field"] < len(fields) else {}
            fname = _label(field)
            where += f"的字段「{fname}」" if fname else f"的第 {target['field'] + 1} 个字段"
        return where
    if "transition" in target:
        lines = data.get("transitions") if isinstance(data, dict) else None
        line = lines[target["transition"]] if isinstance(lines, list) and target["transition"] < len(lines) else {}
        if isinstance(line, dict) and line.get("from") and line.get("to"):
            return f"连线「{line['from']} → {line['to']}」"
        return f"第 {target['transition'] + 1} 条连线"
    return ""


def _label(item: Any) -> str | None:
    """An element's name for a message: its name, else its key (when they are text)."""
    if not isinstance(item, dict):
        return None
    for attr in ("name", "key"):
        if isinstance(item.get(attr), str) and item[attr]:
            return item[attr]
    return None
