"""Shared by the browser tests: a flow whose forms have conditional fields (a table, a multi-select, a step)."""

FLOW = """
key: live_form
name: 动态表单
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: kind, name: 类别, type: SELECT, required: true, choices: [{key: host, name: 主机}, {key: app, name: 应用}]}
      - key: hosts
        name: 涉及主机
        type: CUSTOMTABLE
        required: true
        columns: [{key: ip, name: IP, required: true}]
        hide_when: {field: kind, op: "!=", value: host}
      - {key: tags, name: 标签, type: MULTISELECT, choices: [{key: db, name: 数据库}, {key: web, name: 网站}]}
      - {key: db_name, name: 数据库名, type: STRING, required: true, hide_when: {not: {field: tags, op: contains, value: db}}}
      - {key: files, name: 附件, type: FILE}
      - {key: notes, name: 说明, type: RICHTEXT}
      - {key: owner, name: 负责人, type: MEMBER}
      - {key: watchers, name: 关注人, type: MEMBERS}
      - {key: area, name: 区域, type: TREESELECT, choices: [{key: cn, name: 中国, children: [{key: sz, name: 深圳}, {key: bj, name: 北京}]}, {key: us, name: 美国}]}
      - {key: place, name: 机房, type: CASCADE, choices: [{key: sz, name: 深圳, children: [{key: dc1, name: 一号机房}]}, {key: bj, name: 北京, children: [{key: dc2, name: 二号机房}]}]}
  - key: review
    name: 审核
    kind: manual
    processors: {type: PERSON, value: [alice]}
    fields:
      - {key: decision, name: 结论, type: RADIO, required: true, choices: [{key: ok, name: 通过}, {key: back, name: 退回}]}
      - {key: back_reason, name: 退回原因, type: TEXT, required: true, hide_when: {field: decision, op: "!=", value: back}}
      - {key: host_check, name: 主机核对, type: STRING, hide_when: {field: kind, op: "!=", value: host}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: review}
  - {from: review, to: end}
"""
