/* The visual flow designer (admin/flow/designer.html).
 *
 * The flow's own data (the YAML document as JSON, from the server) is the model; the canvas (drawflow)
 * only draws it. Every edit changes the data, is pushed on the undo stack and checked by the server,
 * which answers with the YAML it would save and the issues in Chinese, placed on nodes, fields and lines.
 * Saving sends the whole data back; the server merges it into the YAML (comments and order kept).
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("designer-config").textContent);
  var vocab = config.vocabulary;
  ["kinds", "field_types", "distribute_types", "processor_types", "operators", "service_types", "regex_presets"].forEach(function (k) {
    var ordered = {};
    vocab[k].forEach(function (pair) { ordered[pair[0]] = _t(pair[1]); });   // the server sends [key, name] pairs, in order
    vocab[k] = ordered;
  });
  var csrf = document.getElementById("csrf").value;
  var flowId = config.flow_id;
  var revision = config.state.revision;     // the YAML this canvas was opened on; the server refuses a stale save
  var data = config.state.data || {key: "", name: "", service_type: "request", nodes: [], transitions: []};
  if (!Array.isArray(data.nodes)) { data.nodes = []; }
  if (!Array.isArray(data.transitions)) { data.transitions = []; }
  var issues = config.state.issues || [], warnings = config.state.warnings || [];
  var undoStack = [], redoStack = [], rendering = false, selected = null, checkTimer = null, checkSeq = 0;
  var connectChoice = {};    // node key → the node picked under 连线到, not yet connected
  var CHOICE_TYPES = ["SELECT", "MULTISELECT", "CHECKBOX", "RADIO", "TREESELECT", "CASCADE"];
  var VALUELESS = ["STARTER", "BY_ASSIGNOR", "OPEN", "STARTER_LEADER"];
  var TABLE_TYPES = ["TABLE", "CUSTOMTABLE"];
  var COLUMN_DISPLAYS = {input: "单行文本", select: "下拉列表", date: "日期", datetime: "日期时间", "int": "数字", textarea: "多行文本"};
  var API_SOURCE = "__api";     // the 选项来源 entry for options fetched from a configured API

  function $(id) { return document.getElementById(id); }
  function issueText(issue, short) {
    // Chinese, placed on its element; in English the loader's own message with its path
    if (config.lang === "en" && issue.message_en) { return issue.message_en; }
    return short ? issue.short || issue.message : issue.message;
  }
  function _t(text) { return (config.messages || {})[text] || text; }   // English when the admin reads English
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else if (k === "class") { e.className = attrs[k]; }
      else if (k === "checked" || k === "disabled" || k === "selected" || k === "hidden") { e[k] = !!attrs[k]; }
      else { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return e;
  }
  function esc(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }
  function clone(o) { return JSON.parse(JSON.stringify(o)); }
  function nodeByKey(key) { return data.nodes.filter(function (n) { return n.key === key; })[0]; }

  // --- undo / redo ----------------------------------------------------------
  function changed() {
    undoStack.push(lastSnapshot);
    lastSnapshot = JSON.stringify(data);
    redoStack = [];
    scheduleCheck();
  }
  var lastSnapshot = JSON.stringify(data);
  function restore(snapshot) {
    data = JSON.parse(snapshot);
    lastSnapshot = snapshot;
    selected = null;
    fillBasic();
    render();
    showPanel();
    scheduleCheck();
  }
  $("btn-undo").addEventListener("click", function () {
    if (undoStack.length) { redoStack.push(lastSnapshot); restore(undoStack.pop()); }
  });
  $("btn-redo").addEventListener("click", function () {
    if (redoStack.length) { undoStack.push(lastSnapshot); restore(redoStack.pop()); }
  });

  // --- steps -----------------------------------------------------------------
  function showStep(step) {
    ["basic", "design", "deploy"].forEach(function (s) {
      $("step-" + s).hidden = s !== step;
      $("tab-" + s).classList.toggle("active", s === step);
    });
    if (step === "design") {
      editor.zoom_refresh && editor.zoom_refresh(); redrawLines();
      if (!fitted) { fitted = fitCanvas(); }
    }
  }
  // Lines drawn while the canvas was hidden (display: none) were measured as 0×0: draw them again once it shows.
  function redrawLines() {
    var data = editor.drawflow.drawflow[editor.module].data;
    Object.keys(data).forEach(function (id) { editor.updateConnectionNodes("node-" + id); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("#designer-steps a"), function (a) {
    a.addEventListener("click", function (e) { e.preventDefault(); showStep(a.dataset.step); });
  });
  $("btn-next-design").addEventListener("click", function () { showStep("design"); });
  $("btn-next-deploy").addEventListener("click", function () { showStep("deploy"); review(); });

  // --- step 1: basic information ----------------------------------------------
  Object.keys(vocab.service_types).forEach(function (k) {
    $("flow-service-type").appendChild(el("option", {value: k, text: vocab.service_types[k]}));
  });
  function fillBasic() {
    $("flow-name").value = data.name || "";
    $("flow-key").value = data.key || "";
    $("flow-key").readOnly = !!flowId;
    $("flow-service-type").value = {incident: "event", problem: "question"}[data.service_type] || data.service_type || "request";
    $("flow-desc").value = data.desc || "";
    $("title-name").textContent = data.name || "";
  }
  [["flow-name", "name"], ["flow-key", "key"], ["flow-service-type", "service_type"], ["flow-desc", "desc"]].forEach(function (p) {
    $(p[0]).addEventListener("change", function () {
      var v = $(p[0]).value.trim();
      if (p[1] === "service_type" && {incident: "event", problem: "question"}[data.service_type] === v) { return; }
      if (p[1] === "desc" && !v && data.desc === undefined) { return; }
      data[p[1]] = v;
      $("title-name").textContent = data.name || "";
      changed();
    });
  });

  // --- the canvas --------------------------------------------------------------
  var editor = new Drawflow($("canvas"));
  editor.reroute = false;
  editor.start();
  var idOf = {}, keyOf = {};

  function nodeHtml(n) {
    return '<div class="df-kind">' + esc(vocab.kinds[n.kind] || n.kind) + '</div><div class="df-name">' + esc(n.name || n.key) +
      '</div><div class="df-issue"></div>';
  }
  function ports(kind) { return {inputs: 1, outputs: kind === "end" ? 0 : 1}; }
  function autoPositions() {
    // layers by longest distance from the start (back edges ignored), one column per layer
    var depth = {}, start = data.nodes.filter(function (n) { return n.kind === "start"; })[0];
    var order = [];
    function visit(key, d, path) {
      if (path.indexOf(key) >= 0) { return; }
      if (depth[key] === undefined || depth[key] < d) { depth[key] = d; }
      if (order.indexOf(key) < 0) { order.push(key); }
      if (path.length > 60) { return; }
      data.transitions.forEach(function (t) { if (t.from === key) { visit(t.to, d + 1, path.concat([key])); } });
    }
    if (start) { visit(start.key, 0, []); }
    var rows = {}, pos = {};
    data.nodes.forEach(function (n) {
      var d = depth[n.key] === undefined ? 0 : depth[n.key];
      rows[d] = (rows[d] || 0) + 1;
      pos[n.key] = {x: 40 + d * 210, y: 40 + (rows[d] - 1) * 110};
    });
    return pos;
  }
  function render() {
    rendering = true;
    editor.clear();
    idOf = {}; keyOf = {};
    var auto = autoPositions();
    data.nodes.forEach(function (n) {
      var p = n.layout && typeof n.layout.x === "number" ? n.layout : auto[n.key];
      var io = ports(n.kind);
      var id = editor.addNode(n.kind, io.inputs, io.outputs, p.x, p.y, "kind-" + n.kind + " node-" + n.key, {key: n.key}, nodeHtml(n));
      idOf[n.key] = id; keyOf[id] = n.key;
    });
    data.transitions.forEach(function (t) {
      if (idOf[t.from] !== undefined && idOf[t.to] !== undefined && nodeByKey(t.from).kind !== "end") {
        try { editor.addConnection(idOf[t.from], idOf[t.to], "output_1", "input_1"); } catch (e) { /* drawn once */ }
      }
    });
    rendering = false;
    markIssues();
  }
  function nodeElement(key) { return document.getElementById("node-" + idOf[key]); }

  editor.on("nodeMoved", function (id) {
    var n = nodeByKey(keyOf[id]);
    if (!n) { return; }
    var df = editor.getNodeFromId(id);
    var x = Math.round(df.pos_x), y = Math.round(df.pos_y);
    if (n.layout && n.layout.x === x && n.layout.y === y) { return; }
    n.layout = {x: x, y: y};
    changed();
  });
  editor.on("connectionCreated", function (c) {
    if (rendering) { return; }
    var from = keyOf[c.output_id], to = keyOf[c.input_id];
    if (from === to) { editor.removeSingleConnection(c.output_id, c.input_id, c.output_class, c.input_class); return; }
    data.transitions.push({from: from, to: to});
    changed();
    selectLine(data.transitions.length - 1);
  });
  editor.on("connectionRemoved", function (c) {
    if (rendering) { return; }
    var from = keyOf[c.output_id], to = keyOf[c.input_id];
    data.transitions = data.transitions.filter(function (t) { return !(t.from === from && t.to === to); });
    selected = null; showPanel(); changed();
  });
  editor.on("nodeRemoved", function (id) {
    if (rendering) { return; }
    removeNode(keyOf[id], true);
  });
  $("canvas").addEventListener("click", function (e) {
    // drawflow tells only a change of selection; a click on the selected node opens it again too
    var nodeEl = e.target.closest(".drawflow-node");
    if (!nodeEl || e.target.classList.contains("output") || e.target.classList.contains("input")) { return; }
    var key = keyOf[nodeEl.id.replace("node-", "")];
    if (key && !(selected && selected.node === key && selected.field === undefined)) { selected = {node: key}; showPanel(); }
  });
  editor.on("nodeSelected", function (id) { if (!rendering) { selected = {node: keyOf[id]}; showPanel(); } });
  editor.on("connectionSelected", function (c) {
    var from = keyOf[c.output_id], to = keyOf[c.input_id];
    for (var i = 0; i < data.transitions.length; i++) {
      if (data.transitions[i].from === from && data.transitions[i].to === to) { selectLine(i); return; }
    }
  });
  function selectLine(i) { selected = {line: i}; showPanel(); }
  function removeNode(key, alreadyGone) {
    data.nodes = data.nodes.filter(function (n) { return n.key !== key; });
    data.transitions = data.transitions.filter(function (t) { return t.from !== key && t.to !== key; });
    selected = null;
    if (!alreadyGone) { render(); }
    showPanel(); changed();
  }

  // drawflow deletes the selected node on the Delete key anywhere on the page: not while typing in a form
  ["panel", "step-basic", "step-deploy"].forEach(function (id) {
    $(id).addEventListener("keydown", function (e) { e.stopPropagation(); });
  });
  document.addEventListener("keydown", function (e) {
    if (!(e.ctrlKey || e.metaKey) || $("step-design").hidden) { return; }
    if (["INPUT", "TEXTAREA", "SELECT"].indexOf(e.target.tagName) >= 0) { return; }
    var k = e.key.toLowerCase();
    if (k === "z" && !e.shiftKey) { e.preventDefault(); $("btn-undo").click(); }
    if (k === "y" || (k === "z" && e.shiftKey)) { e.preventDefault(); $("btn-redo").click(); }
  });

  // --- the palette ---------------------------------------------------------------
  Object.keys(vocab.kinds).forEach(function (kind) {
    var item = el("div", {class: "palette-item", draggable: "true", "data-kind": kind, role: "button", tabindex: "0",
                          text: vocab.kinds[kind]});
    item.addEventListener("dragstart", function (e) { e.dataTransfer.setData("text/plain", kind); });
    item.addEventListener("click", function () { addNode(kind, null); });
    item.addEventListener("keydown", function (e) { if (e.key === "Enter") { addNode(kind, null); } });
    $("palette").appendChild(item);
  });
  $("canvas").addEventListener("dragover", function (e) { e.preventDefault(); });
  $("canvas").addEventListener("drop", function (e) {
    e.preventDefault();
    var kind = e.dataTransfer.getData("text/plain");
    if (!vocab.kinds[kind]) { return; }
    var rect = editor.precanvas.getBoundingClientRect();
    addNode(kind, {x: Math.round((e.clientX - rect.x) / editor.zoom), y: Math.round((e.clientY - rect.y) / editor.zoom)});
  });
  function newKey(kind) {
    var i = 1;
    while (nodeByKey(kind + "_" + i) || (kind === "start" && i === 1 && false)) { i++; }
    return kind + "_" + i;
  }
  function addNode(kind, at) {
    var key = newKey(kind);
    var n = {key: key, name: vocab.kinds[kind], kind: kind};
    if (["manual", "approval", "sign"].indexOf(kind) >= 0) { n.processors = {type: "STARTER"}; }
    if (kind === "start") { n.fields = []; }
    if (kind === "api") { n.api = ""; }
    if (kind === "automation") { n.plugin = ""; }
    if (!at) {
      var maxX = 0;
      data.nodes.forEach(function (m) { var df = editor.getNodeFromId(idOf[m.key]); if (df) { maxX = Math.max(maxX, df.pos_x); } });
      at = {x: data.nodes.length ? maxX + 210 : 40, y: 60};
    }
    n.layout = {x: at.x, y: at.y};
    data.nodes.push(n);
    render();
    selected = {node: key};
    showPanel();
    changed();
  }

  // --- toolbar -------------------------------------------------------------------------
  $("btn-layout").addEventListener("click", function () {
    var pos = autoPositions();
    data.nodes.forEach(function (n) { n.layout = pos[n.key]; });
    render(); changed(); fitCanvas();
  });
  $("btn-zoom-in").addEventListener("click", function () { editor.zoom_in(); });
  $("btn-zoom-out").addEventListener("click", function () { editor.zoom_out(); });
  $("btn-zoom-reset").addEventListener("click", function () { editor.zoom_reset(); });

  // --- fields available to conditions ----------------------------------------------------------
  function upstream(key) {
    // nodes from which `key` is reachable (every node before it on some path)
    var seen = {}, stack = [key];
    while (stack.length) {
      var k = stack.pop();
      data.transitions.forEach(function (t) { if (t.to === k && !seen[t.from]) { seen[t.from] = true; stack.push(t.from); } });
    }
    return data.nodes.filter(function (n) { return seen[n.key]; });
  }
  function fieldsOf(n) {
    var out = (n.fields || []).slice();
    if (n.kind === "approval") {
      out.unshift({key: n.key + "_result", name: (n.name || n.key) + _t("·审批意见"), type: "RADIO",
                   choices: [{key: "true", name: _t("通过")}, {key: "false", name: _t("拒绝")}]});
    }
    return out;
  }
  function conditionFields(nodeKey, fieldIndex) {
    var out = [];
    upstream(nodeKey).forEach(function (n) { if (n.key !== nodeKey) { out = out.concat(fieldsOf(n)); } });
    var own = nodeByKey(nodeKey);
    if (own) {
      var mine = fieldsOf(own);
      out = out.concat(fieldIndex === undefined ? mine : mine.filter(function (f) {
        return (own.fields || []).indexOf(f) < fieldIndex || f.key === own.key + "_result";
      }));
    }
    var seen = {};
    return out.filter(function (f) { if (!f.key || seen[f.key]) { return false; } seen[f.key] = true; return true; });
  }
  function choicesOf(f) {
    // every option a value may be: a tree's (TREESELECT, CASCADE, tree dictionaries) nested ones too, named by their path
    var out = [];
    function walk(list, prefix) {
      (list || []).forEach(function (c) {
        out.push({key: c.key, name: prefix + c.name});
        walk(c.children, prefix + c.name + " / ");
      });
    }
    walk(f.choices && f.choices.length ? f.choices : f.source && f.source.dictionary ? vocab.dictionaries[f.source.dictionary] : [], "");
    return out;
  }

  // --- the side panel ------------------------------------------------------------------------
  function group(label, input, help) {
    var id = "p-" + Math.random().toString(36).slice(2, 9);
    input.id = input.id || id;
    return el("div", {class: "form-group"}, [el("label", {for: input.id, text: label}), input,
      help ? el("small", {class: "form-text text-muted", text: help}) : null]);
  }
  function select(options, value, onChange, name) {
    var s = el("select", {class: "form-control form-control-sm"});
    if (name) { s.name = name; }
    Object.keys(options).forEach(function (k) { s.appendChild(el("option", {value: k, text: options[k], selected: k === value})); });
    s.value = value === undefined || value === null ? Object.keys(options)[0] : value;
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }
  function input(value, onChange, name, type) {
    var i = el("input", {class: "form-control form-control-sm", type: type || "text"});
    if (name) { i.name = name; }
    i.value = value === undefined || value === null ? "" : value;
    i.addEventListener("change", function () { onChange(i.value); });
    return i;
  }
  function checkbox(label, value, onChange, name) {
    var c = el("input", {type: "checkbox", class: "form-check-input", checked: !!value});
    c.id = "p-" + (name || Math.random().toString(36).slice(2, 9));
    c.addEventListener("change", function () { onChange(c.checked); });
    return el("div", {class: "form-check mb-1"}, [c, el("label", {class: "form-check-label", for: c.id, text: label})]);
  }
  function issuesFor(test) {
    // the errors on an element, then what must be fixed before deploying (unknown roles, APIs, plugins)
    return issues.filter(function (i) { return test(i.target || {}); }).concat(
      warnings.filter(function (i) { return test(i.target || {}); }).map(function (i) { return Object.assign({warning: true}, i); }));
  }
  function issueBox(list) {
    return el("div", {class: "issue-list"}, list.map(function (i) {
      return el("div", {class: i.warning ? "warning" : "issue", text: (i.warning ? _t("部署前需处理：") : "") + issueText(i, true)});
    }));
  }
  function setOrDelete(obj, key, value, empty) {
    if (value === empty || value === "" || value === null || value === undefined) { delete obj[key]; } else { obj[key] = value; }
  }
  function showPanel() {
    var panel = $("panel");
    panel.replaceChildren();
    if (!selected || selected.flow) {
      panel.appendChild(el("p", {class: "text-muted small", text: _t("点击节点或连线以编辑。")}));
      return notifyPanel(panel);
    }
    if (selected.line !== undefined) { return linePanel(panel, selected.line); }
    var n = nodeByKey(selected.node);
    if (!n) { selected = null; return showPanel(); }
    if (selected.field !== undefined) { return fieldPanel(panel, n, selected.field); }
    nodePanel(panel, n);
  }

  function processorEditor(n, attr, label) {
    var spec = n[attr] || {type: "STARTER"};
    var box = el("div", {class: "border rounded p-1 mb-2"});
    var value = Array.isArray(spec.value) ? spec.value.join(",") : (spec.value || "");
    box.appendChild(group(label, select(vocab.processor_types, spec.type, function (v) {
      n[attr] = VALUELESS.indexOf(v) >= 0 ? {type: v} : {type: v, value: []};
      changed(); showPanel();
    }, attr + "_type")));
    if (spec.type === "GENERAL" || spec.type === "CMDB") {
      var pick = el("select", {class: "form-control form-control-sm", multiple: "multiple", name: attr + "_roles", size: "4"});
      var chosen = Array.isArray(spec.value) ? spec.value : [];
      var known = vocab.roles.filter(function (r) { return r.type === spec.type; }).map(function (r) { return r.key; });
      vocab.roles.filter(function (r) { return r.type === spec.type; }).concat(
        chosen.filter(function (k) { return known.indexOf(k) < 0; }).map(function (k) { return {key: k, name: _t("（不存在的角色）")}; })
      ).forEach(function (r) {
        pick.appendChild(el("option", {value: r.key, text: r.name + _t("（") + r.key + _t("）"), selected: chosen.indexOf(r.key) >= 0}));
      });
      pick.addEventListener("change", function () {
        n[attr] = {type: spec.type, value: Array.prototype.filter.call(pick.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; })};
        changed();
      });
      box.appendChild(group(spec.type === "GENERAL" ? _t("通用角色（可多选）") : _t("CMDB 业务角色（可多选）"), pick));
    } else if (VALUELESS.indexOf(spec.type) < 0) {
      var help = {PERSON: _t("用户名，多个用逗号分隔"), VARIABLE: _t("人员字段的唯一标识"), ASSIGN_LEADER: _t("节点标识（取该节点处理人的上级）"),
                  ORGANIZATION: _t("部门名称，多个用逗号分隔")}[spec.type] || _t("多个用逗号分隔");
      box.appendChild(group(_t("处理人（具体）"), input(value, function (v) {
        n[attr] = {type: spec.type, value: v.split(/[,，]/).map(function (s) { return s.trim(); }).filter(Boolean)};
        changed();
      }, attr + "_value"), help));
    }
    return box;
  }

  function nodePanel(panel, n) {
    panel.appendChild(el("h6", {text: (vocab.kinds[n.kind] || n.kind) + _t("：") + (n.name || n.key)}));
    panel.appendChild(issueBox(issuesFor(function (t) { return t.node === data.nodes.indexOf(n) && t.field === undefined; })));
    panel.appendChild(group(_t("节点名称"), input(n.name, function (v) { n.name = v; render(); changed(); }, "node_name")));
    panel.appendChild(group(_t("节点标识"), input(n.key, function (v) { renameNode(n, v.trim()); }, "node_key")));
    if (n.kind === "manual") {
      panel.appendChild(group(_t("处理场景"), select(vocab.distribute_types, n.distribute_type || "PROCESS", function (v) {
        setOrDelete(n, "distribute_type", v, "PROCESS");
        if (v.indexOf("DISTRIBUTE") === 0 && !n.assignors) { n.assignors = {type: "STARTER"}; }
        if (v.indexOf("DISTRIBUTE") !== 0) { delete n.assignors; }
        changed(); showPanel();
      }, "distribute_type")));
    }
    if (["manual", "approval", "sign"].indexOf(n.kind) >= 0) {
      panel.appendChild(processorEditor(n, "processors", _t("处理人类型")));
      if ((n.distribute_type || "").indexOf("DISTRIBUTE") === 0) { panel.appendChild(processorEditor(n, "assignors", _t("派单人类型"))); }
    }
    if (n.kind === "manual") {
      panel.appendChild(checkbox(_t("可转单"), n.can_deliver, function (v) { setOrDelete(n, "can_deliver", v, false); changed(); }, "can_deliver"));
    }
    if (["manual", "approval", "sign"].indexOf(n.kind) >= 0) {
      panel.appendChild(checkbox(_t("可终止"), n.can_terminate, function (v) { setOrDelete(n, "can_terminate", v, false); changed(); }, "can_terminate"));
    }
    if (n.kind === "approval") {
      panel.appendChild(checkbox(_t("会签（每位审批人都审批）"), n.multi, function (v) { setOrDelete(n, "multi", v, false); changed(); }, "multi"));
    }
    if (n.kind === "sign") { panel.appendChild(finishWhenEditor(n)); }
    if (n.kind === "api" || n.kind === "automation") { automaticPanel(panel, n); }
    if (["manual", "approval", "sign"].indexOf(n.kind) >= 0) { notifyNote(panel); }
    if (["end", "parallel", "converge"].indexOf(n.kind) < 0) {
      panel.appendChild(el("h6", {class: "mt-2", text: _t("字段")}));
      (n.fields || []).forEach(function (f, j) {
        var bad = issuesFor(function (t) { return t.node === data.nodes.indexOf(n) && t.field === j; })
          .filter(function (i) { return !i.warning; }).length;
        var edit = el("button", {class: "btn btn-link btn-sm p-0", type: "button", text: _t("编辑")});
        edit.addEventListener("click", function () { selected = {node: n.key, field: j}; showPanel(); });
        var del = el("button", {class: "btn btn-link btn-sm p-0 text-danger", type: "button", text: _t("删除")});
        del.addEventListener("click", function () { n.fields.splice(j, 1); if (!n.fields.length && n.kind !== "start") { delete n.fields; } changed(); showPanel(); });
        panel.appendChild(el("div", {class: "field-row" + (bad ? " text-danger" : ""), "data-field": f.key}, [
          el("span", {text: (f.name || f.key) + _t("（") + (vocab.field_types[f.type] || f.type) + _t("）")}), edit, del]));
      });
      var add = el("button", {class: "btn btn-outline-primary btn-sm mt-1", type: "button", text: _t("添加字段"), id: "btn-add-field"});
      add.addEventListener("click", function () {
        n.fields = n.fields || [];
        var i = 1;
        while (conditionFields(n.key).concat(allFields()).some(function (f) { return f.key === "field_" + i; })) { i++; }
        n.fields.push({key: "field_" + i, name: "字段" + i, type: "STRING"});
        selected = {node: n.key, field: n.fields.length - 1};
        changed(); showPanel();
      });
      panel.appendChild(add);
    }
    var outgoing = data.transitions.map(function (t, i) { return [t, i]; }).filter(function (p) { return p[0].from === n.key; });
    if (outgoing.length) {
      panel.appendChild(el("h6", {class: "mt-2", text: _t("流出连线")}));
      outgoing.forEach(function (p) {
        var target = nodeByKey(p[0].to);
        var edit = el("button", {class: "btn btn-link btn-sm p-0", type: "button", text: _t("编辑")});
        edit.addEventListener("click", function () { selectLine(p[1]); });
        panel.appendChild(el("div", {class: "field-row", "data-line-to": p[0].to}, [
          el("span", {text: "→ " + (target ? target.name || target.key : p[0].to) + (p[0].name ? _t("（") + p[0].name + _t("）") : "") +
                             (p[0].when ? _t(" · 有条件") : "")}), edit]));
      });
    }
    if (n.kind !== "end") {
      var targets = {};
      data.nodes.forEach(function (m) { if (m.key !== n.key) { targets[m.key] = (m.name || m.key); } });
      if (Object.keys(targets).length) {
        // the choice survives the panel being redrawn (a check's answer redraws it) until 添加连线 applies it
        var to = select(targets, connectChoice[n.key] in targets ? connectChoice[n.key] : Object.keys(targets)[0],
                        function (v) { connectChoice[n.key] = v; }, "connect_to");
        var go = el("button", {class: "btn btn-outline-secondary btn-sm mt-1", type: "button", text: _t("添加连线"), id: "btn-connect"});
        go.addEventListener("click", function () {
          data.transitions.push({from: n.key, to: to.value});
          delete connectChoice[n.key];
          render(); changed(); selectLine(data.transitions.length - 1);
        });
        panel.appendChild(el("div", {class: "mt-2"}, [group(_t("连线到"), to), go]));
      }
    }
    var remove = el("button", {class: "btn btn-outline-danger btn-sm mt-2 d-block", type: "button", text: _t("删除节点")});
    remove.addEventListener("click", function () { removeNode(n.key, false); });
    panel.appendChild(remove);
  }
  function allFields() { var out = []; data.nodes.forEach(function (n) { out = out.concat(n.fields || []); }); return out; }
  function renameNode(n, key) {
    if (!key || key === n.key) { return; }
    if (nodeByKey(key)) { alert(_t("节点标识「") + key + _t("」已存在")); showPanel(); return; }
    data.transitions.forEach(function (t) { if (t.from === n.key) { t.from = key; } if (t.to === n.key) { t.to = key; } });
    n.key = key; selected = {node: key};
    render(); changed(); showPanel();
  }

  // --- the flow's notify policy (任务通知策略) -------------------------------------------------------------
  // The flow language has one policy for the whole flow (`notify`, app/flowdef/model.py NotifyPolicy): every node's
  // processors are notified by it, so the node panel shows it and links here.
  var YES_NO = {yes: "是", no: "否"};
  function notifyPolicy() { return isMapping(data.notify) ? data.notify : {}; }
  function putNotify(key, value) {
    var policy = Object.assign({}, notifyPolicy());
    policy[key] = value;
    data.notify = policy;
    changed(); showPanel();
  }
  function supervisorSpecs() {
    var specs = notifyPolicy().supervisors;
    return Array.isArray(specs) ? specs : [{type: "STARTER"}];
  }
  function personsOf(specs) {
    var out = [];
    specs.forEach(function (s) {
      if (s && s.type === "PERSON") { out = out.concat(Array.isArray(s.value) ? s.value : String(s.value || "").split(/[,，]/)); }
    });
    return out.map(function (p) { return String(p).trim(); }).filter(Boolean);
  }
  function putSupervisors(starter, persons) {
    var others = supervisorSpecs().filter(function (s) { return !s || (s.type !== "STARTER" && s.type !== "PERSON"); });
    var specs = (starter ? [{type: "STARTER"}] : []).concat(persons.length ? [{type: "PERSON", value: persons}] : []).concat(others);
    putNotify("supervisors", specs);
  }
  function notifySummary() {
    var p = notifyPolicy(), channels = Array.isArray(p.channels) ? p.channels : ["log"];
    var names = {};
    vocab.notify_channels.forEach(function (c) { names[c[0]] = _t(c[1]); });
    var freq = {};
    vocab.notify_frequencies.forEach(function (f) { freq[f[0]] = _t(f[1]); });
    var text = _t("是否通知：") + (p.enabled === false ? _t("否") : _t("是") + _t("（") +
      channels.map(function (c) { return names[c] || c; }).join(_t("、")) + _t("；") + (freq[p.frequency || "once"] || p.frequency) + _t("）"));
    return text + _t("；") + _t("是否督办：") + (p.supervise === false ? _t("否") : _t("是"));
  }
  function notifyIssues() {
    return issueBox(issuesFor(function (t) { return t.node === undefined && t.transition === undefined && t.attr === "notify"; }));
  }
  function notifyPanel(panel) {
    var p = notifyPolicy();
    var box = el("div", {class: "notify-panel", id: "notify-panel"});
    box.appendChild(el("h6", {text: _t("任务通知策略")}));
    box.appendChild(el("small", {class: "form-text text-muted mb-1", text: _t("适用于本流程的所有节点：处理人收到待办、待认领、待派单通知。")}));
    box.appendChild(notifyIssues());
    var yesNo = {yes: _t(YES_NO.yes), no: _t(YES_NO.no)};
    box.appendChild(group(_t("是否通知"), select(yesNo, p.enabled === false ? "no" : "yes", function (v) {
      putNotify("enabled", v === "yes");
    }, "notify_enabled")));
    if (p.enabled !== false) {
      var chosen = Array.isArray(p.channels) ? p.channels : ["log"];
      var kinds = el("div", {class: "form-group", "data-notify": "channels"}, [el("label", {text: _t("通知类型")})]);
      vocab.notify_channels.forEach(function (c) {
        kinds.appendChild(checkbox(_t(c[1]), chosen.indexOf(c[0]) >= 0, function (on) {
          var list = vocab.notify_channels.map(function (k) { return k[0]; }).filter(function (k) {
            return k === c[0] ? on : chosen.indexOf(k) >= 0;
          });
          putNotify("channels", list);
        }, "notify_channel_" + c[0]));
      });
      box.appendChild(kinds);
      var freqs = {};
      vocab.notify_frequencies.forEach(function (f) { freqs[f[0]] = _t(f[1]); });
      box.appendChild(group(_t("通知频率"), select(freqs, p.frequency || "once", function (v) { putNotify("frequency", v); }, "notify_frequency")));
    }
    box.appendChild(group(_t("是否督办"), select(yesNo, p.supervise === false ? "no" : "yes", function (v) {
      putNotify("supervise", v === "yes");
    }, "notify_supervise")));
    if (p.supervise !== false) {
      var specs = supervisorSpecs(), starter = specs.some(function (s) { return s && s.type === "STARTER"; });
      box.appendChild(checkbox(_t("督办人：提单人"), starter, function (on) { putSupervisors(on, personsOf(supervisorSpecs())); }, "notify_starter"));
      box.appendChild(group(_t("其他督办人"), input(personsOf(specs).join(","), function (v) {
        putSupervisors(starter, v.split(/[,，]/).map(function (s) { return s.trim(); }).filter(Boolean));
      }, "notify_supervisors"), _t("用户名，多个用逗号分隔")));
    }
    panel.appendChild(box);
  }
  function notifyNote(panel) {
    // in a node's panel: the flow's policy that notifies this node's processors, and a way to change it
    var edit = el("button", {class: "btn btn-link btn-sm p-0", type: "button", text: _t("修改通知策略"), id: "btn-notify"});
    edit.addEventListener("click", function () { selected = {flow: true}; showPanel(); });
    panel.appendChild(el("div", {class: "notify-note mt-2", id: "notify-note"}, [
      el("h6", {text: _t("任务通知策略")}), el("div", {class: "small", text: notifySummary()}), notifyIssues(), edit]));
  }

  // --- fit the whole flow into the canvas (on open, 适应画布) ---------------------------------------------------
  editor.zoom_min = 0.2;
  var fitted = false;
  function fitCanvas() {
    var box = $("canvas"), width = box.clientWidth, height = box.clientHeight, pad = 30;
    if (!width || !height) { return false; }       // hidden: fit when the canvas is shown
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    Object.keys(keyOf).forEach(function (id) {
      var df = editor.getNodeFromId(id), e = $("node-" + id);
      if (!df || !e) { return; }
      minX = Math.min(minX, df.pos_x); minY = Math.min(minY, df.pos_y);
      maxX = Math.max(maxX, df.pos_x + e.offsetWidth); maxY = Math.max(maxY, df.pos_y + e.offsetHeight);
    });
    var zoom = 1, x = 0, y = 0;
    if (minX !== Infinity) {
      zoom = Math.max(editor.zoom_min, Math.min(1, (width - 2 * pad) / (maxX - minX), (height - 2 * pad) / (maxY - minY)));
      // drawflow scales its canvas about the centre: a point p shows at w/2 + (p - w/2) * zoom + translate
      x = (width / 2 - (minX + maxX) / 2) * zoom;
      y = (height / 2 - (minY + maxY) / 2) * zoom;
      if (zoom === 1) { x = pad - minX; y = pad - minY; }       // a small flow: its top left corner, at full size
    }
    editor.zoom = zoom; editor.zoom_last_value = zoom; editor.canvas_x = x; editor.canvas_y = y;
    editor.precanvas.style.transform = "translate(" + x + "px, " + y + "px) scale(" + zoom + ")";
    redrawLines();
    return true;
  }
  $("btn-fit").addEventListener("click", fitCanvas);

  // --- api and automation nodes ------------------------------------------------------------------------
  // params (app/flowdef/model.py, docs/flows.md): `request` {param: value} where a value may be the template
  // "{{ fields.key }}" / "{{ ticket.attr }}", `response` {field: dotted.path}, `success` a condition, `timeout`.
  var TEMPLATE_REF = /^\{\{\s*((?:fields|ticket)\.[A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;
  var HTTP_METHODS = {GET: "GET", POST: "POST", PUT: "PUT", PATCH: "PATCH", DELETE: "DELETE"};
  function setParam(n, key, value) {
    var params = Object.assign({}, n.params || {});
    if (value === undefined || value === null || value === "") { delete params[key]; } else { params[key] = value; }
    if (Object.keys(params).length) { n.params = params; } else { delete n.params; }
    changed(); showPanel();
  }
  function valueSources(n) {
    // what a parameter may take its value from: the fields filled up to this node, then the ticket's own attributes
    var out = {};
    conditionFields(n.key).forEach(function (f) { out["fields." + f.key] = _t("字段：") + (f.name || f.key) + _t("（") + f.key + _t("）"); });
    vocab.ticket_attrs.forEach(function (p) { out["ticket." + p[0]] = _t("单据：") + _t(p[1]); });
    return out;
  }
  function isMapping(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function mappingEditor(obj, sources, onChange, name, keyChoices) {
    // rows of {name: value}: a value is a constant or taken from a field / the ticket ("{{ fields.key }}")
    var entries = Object.keys(obj || {}).map(function (k) { return [k, obj[k]]; });
    function emit(list) { var o = {}; list.forEach(function (e) { o[e[0]] = e[1]; }); onChange(o); }
    var box = el("div", {class: "mapping-editor", "data-mapping": name});
    entries.forEach(function (e, i) {
      function rename(v) {
        v = v.trim();
        if (!v || (v !== e[0] && obj.hasOwnProperty(v))) { showPanel(); return; }
        var list = entries.slice(); list[i] = [v, e[1]]; emit(list);
      }
      function put(v) { var list = entries.slice(); list[i] = [e[0], v]; emit(list); }
      var key;
      if (keyChoices) {
        var opts = Object.assign({}, keyChoices);
        if (!(e[0] in opts)) { opts[e[0]] = _t("（") + e[0] + _t("）"); }
        key = select(opts, e[0], rename, name + "_key_" + i);
      } else {
        key = input(e[0], rename, name + "_key_" + i);
      }
      var ref = typeof e[1] === "string" ? TEMPLATE_REF.exec(e[1]) : null;
      var row = el("div", {class: "mapping-row", "data-row": String(i)}, [key]);
      if (e[1] !== null && typeof e[1] === "object") {
        row.appendChild(el("div", {class: "small text-muted", text: _t("（结构化的值，请在 YAML 中编辑）")}));
      } else {
        row.appendChild(select({ref: _t("取值自字段或单据"), "const": _t("固定值")}, ref ? "ref" : "const", function (v) {
          put(v === "ref" ? "{{ " + Object.keys(sources)[0] + " }}" : "");
        }, name + "_src_" + i));
        if (ref) {
          var from = Object.assign({}, sources);
          if (!(ref[1] in from)) { from[ref[1]] = ref[1]; }
          row.appendChild(select(from, ref[1], function (v) { put("{{ " + v + " }}"); }, name + "_ref_" + i));
        } else {
          row.appendChild(input(e[1], function (v) {
            put(typeof e[1] === "number" && v !== "" && !isNaN(v) ? Number(v) : v);
          }, name + "_value_" + i));
        }
      }
      row.appendChild(condButton(_t("删除"), "data-mapping-remove", name + "_" + i, function () {
        var list = entries.slice(); list.splice(i, 1); emit(list);
      }));
      box.appendChild(row);
    });
    box.appendChild(condButton(_t("+ 添加参数"), "data-mapping-add", name, function () {
      var k = 1, free = keyChoices ? Object.keys(keyChoices).filter(function (c) { return !obj || !obj.hasOwnProperty(c); })[0] : null;
      while (!free && obj && obj.hasOwnProperty("param_" + k)) { k++; }
      emit(entries.concat([[free || "param_" + k, ""]]));
    }));
    return box;
  }
  function responseEditor(n, name) {
    // {field key: dotted path of the response}: where each returned value is written
    var resp = n.params && n.params.response;
    if (resp !== undefined && !isMapping(resp)) {
      return el("div", {class: "small text-muted", text: _t("（结构化的值，请在 YAML 中编辑）")});
    }
    var fields = {};
    (n.fields || []).concat(allFields()).forEach(function (f) {
      if (f.key && !(f.key in fields)) { fields[f.key] = (f.name || f.key) + _t("（") + f.key + _t("）"); }
    });
    var entries = Object.keys(resp || {}).map(function (k) { return [k, resp[k]]; });
    function emit(list) { var o = {}; list.forEach(function (e) { o[e[0]] = e[1]; }); setParam(n, "response", list.length ? o : undefined); }
    var box = el("div", {class: "mapping-editor", "data-mapping": name});
    entries.forEach(function (e, i) {
      var opts = Object.assign({}, fields);
      if (!(e[0] in opts)) { opts[e[0]] = _t("（") + e[0] + _t("）"); }
      box.appendChild(el("div", {class: "mapping-row", "data-row": String(i)}, [
        select(opts, e[0], function (v) {
          if (v !== e[0] && resp.hasOwnProperty(v)) { showPanel(); return; }
          var list = entries.slice(); list[i] = [v, e[1]]; emit(list);
        }, name + "_field_" + i),
        input(e[1], function (v) { var list = entries.slice(); list[i] = [e[0], v.trim()]; emit(list); }, name + "_path_" + i),
        condButton(_t("删除"), "data-mapping-remove", name + "_" + i, function () { var list = entries.slice(); list.splice(i, 1); emit(list); })]));
    });
    var free = Object.keys(fields).filter(function (k) { return !resp || !resp.hasOwnProperty(k); })[0];
    if (free) {
      box.appendChild(condButton(_t("+ 添加映射"), "data-mapping-add", name, function () { emit(entries.concat([[free, "data." + free]])); }));
    } else if (!entries.length) {
      box.appendChild(el("div", {class: "small text-muted", text: _t("先为本节点添加字段，再把返回值写入字段")}));
    }
    return box;
  }
  function requestEditor(n, param, name) {
    var value = n.params && n.params[param];
    if (value !== undefined && !isMapping(value)) {
      return el("div", {class: "small text-muted", text: _t("（结构化的值，请在 YAML 中编辑）")});
    }
    return mappingEditor(value || {}, valueSources(n), function (o) {
      setParam(n, param, Object.keys(o).length ? o : undefined);
    }, name);
  }
  function successEditor(n) {
    var box = el("div", {});
    var success = n.params && n.params.success;
    box.appendChild(checkbox(_t("自定义成功条件"), success !== undefined, function (v) {
      setParam(n, "success", v ? {field: "code", op: "==", value: 0} : undefined);
    }, "api_success"));
    if (success !== undefined) {
      box.appendChild(conditionBuilder(success, null, function (c) { setParam(n, "success", c); }, "success"));
    } else {
      box.appendChild(el("small", {class: "form-text text-muted", text: _t("不设置时：HTTP 2xx，且返回中有 result 时为真、有 code 时为 0")}));
    }
    return box;
  }
  function retryEditor(n) {
    var retry = n.retry || {};
    function put(key, v) {
      var r = Object.assign({}, n.retry || {});
      if (v === "" || isNaN(v)) { delete r[key]; } else { r[key] = Number(v); }
      if (Object.keys(r).length) { n.retry = r; } else { delete n.retry; }
      changed(); showPanel();
    }
    return el("div", {class: "d-flex"}, [
      group(_t("失败重试次数"), input(retry.times, function (v) { put("times", v.trim()); }, "retry_times", "number")),
      group(_t("重试间隔（秒）"), input(retry.backoff_seconds, function (v) { put("backoff_seconds", v.trim()); }, "retry_backoff", "number"))]);
  }
  function pickerOf(pairs, current, unknown) {
    var opts = {"": _t("请选择")};
    pairs.forEach(function (p) { opts[p[0]] = p[1]; });
    if (current && !(current in opts)) { opts[current] = current + unknown; }
    return opts;
  }
  function automaticPanel(panel, n) {
    var box = el("div", {class: "automatic-panel"});
    if (n.kind === "api") {
      var apis = vocab.apis.map(function (a) { return [a.key, a.name + _t("（") + a.key + _t("）") + (a.enabled ? "" : _t("（未启用）"))]; });
      box.appendChild(group(_t("调用的 API（接入系统 · API）"), select(pickerOf(apis, n.api, _t("（不存在的 API）")), n.api || "", function (v) {
        n.api = v;
        var api = vocab.apis.filter(function (a) { return a.key === v; })[0];
        if (api && api.params.length && !(n.params && n.params.request)) {
          var request = {};
          api.params.forEach(function (p) { request[p] = ""; });
          n.params = Object.assign({}, n.params || {}, {request: request});
        }
        changed(); showPanel();
      }, "api")));
      if (!vocab.apis.length) { box.appendChild(el("small", {class: "form-text text-muted", text: _t("还没有配置 API：请先在「API 配置」中添加接入系统和 API")})); }
      box.appendChild(el("h6", {class: "mt-2", text: _t("请求参数")}));
      box.appendChild(requestEditor(n, "request", "request"));
    } else {
      box.appendChild(group(_t("插件"), select(pickerOf(vocab.plugins.map(function (p) { return [p[0], _t(p[1])]; }), n.plugin, _t("（未安装的插件）")),
        n.plugin || "", function (v) { n.plugin = v; changed(); showPanel(); }, "plugin")));
      if (n.plugin === "http_webhook") {
        box.appendChild(group(_t("回调地址"), input(n.params && n.params.url, function (v) { setParam(n, "url", v.trim()); }, "webhook_url")));
        box.appendChild(group(_t("请求方法"), select(HTTP_METHODS, (n.params && n.params.method) || "POST", function (v) {
          setParam(n, "method", v === "POST" && !(n.params && n.params.method) ? undefined : v);
        }, "webhook_method")));
        box.appendChild(el("h6", {class: "mt-2", text: _t("请求体")}));
        box.appendChild(requestEditor(n, "body", "body"));
      } else if (n.plugin === "set_fields") {
        var targets = {};
        allFields().forEach(function (f) { if (f.key) { targets[f.key] = (f.name || f.key) + _t("（") + f.key + _t("）"); } });
        box.appendChild(el("h6", {class: "mt-2", text: _t("字段赋值")}));
        var values = n.params && n.params.fields;
        box.appendChild(values !== undefined && !isMapping(values) ? el("div", {class: "small text-muted", text: _t("（结构化的值，请在 YAML 中编辑）")}) :
          mappingEditor(values || {}, valueSources(n), function (o) { setParam(n, "fields", Object.keys(o).length ? o : undefined); }, "set_fields", targets));
      }
    }
    if (n.kind === "api" || n.plugin === "http_webhook") {
      box.appendChild(el("h6", {class: "mt-2", text: _t("成功条件")}));
      box.appendChild(successEditor(n));
      box.appendChild(el("h6", {class: "mt-2", text: _t("返回值写入字段")}));
      box.appendChild(responseEditor(n, "response"));
      box.appendChild(group(_t("超时（秒）"), input(n.params && n.params.timeout, function (v) {
        setParam(n, "timeout", v.trim() === "" || isNaN(v) ? undefined : Number(v));
      }, "api_timeout", "number")));
    }
    box.appendChild(retryEditor(n));
    panel.appendChild(box);
  }

  // --- the condition builder ------------------------------------------------------------------------
  // A condition is a comparison {field, op, value}, a group {all: [...]} / {any: [...]} of conditions, or {not: ...}:
  // the flow language's own structure (app/flowdef/model.py). `fields` null: the field is typed (a response path).
  var MAX_DEPTH = 3;
  function isGroup(c) { return !!(c && typeof c === "object" && (Array.isArray(c.all) || Array.isArray(c.any))); }
  function newClause(fields) {
    var f = fields && fields[0];
    var choices = f ? choicesOf(f) : [];
    return {field: f ? f.key : "", op: "==", value: choices.length ? choices[0].key : null};
  }
  function fieldOf(fields, key) { return (fields || []).filter(function (f) { return f.key === key; })[0]; }
  function normalized(cond, fields) {
    // what the form shows is what is stored: an empty field takes the first one, a choice field's empty value its first option
    if (!cond || typeof cond !== "object" || Array.isArray(cond)) { return newClause(fields); }
    if (cond.not !== undefined) { return {not: normalized(cond.not, fields)}; }
    if (isGroup(cond)) {
      var mode = Array.isArray(cond.all) ? "all" : "any", out = {};
      out[mode] = cond[mode].map(function (c) { return normalized(c, fields); });
      return out;
    }
    if (fields === null) { return cond; }
    var c = Object.assign({}, cond);
    if (!c.field && fields.length) { c.field = fields[0].key; c.value = null; }
    var choices = choicesOf(fieldOf(fields, c.field) || {});
    if (choices.length && (c.value === null || c.value === undefined)) {
      c.value = ["in", "notin"].indexOf(c.op) >= 0 ? [choices[0].key] : choices[0].key;
    }
    return c;
  }
  function conditionBuilder(cond, fields, onChange, prefix) {
    var box = el("div", {class: "cond-builder border rounded p-1 mb-2", "data-cond": prefix});
    if (fields !== null && !fields.length && !(cond && (cond.field || isGroup(cond) || cond.not))) {
      box.appendChild(el("div", {class: "small text-muted", text: _t("之前没有可用的字段")}));
      return box;
    }
    var fixed = normalized(cond, fields);
    if (JSON.stringify(fixed) !== JSON.stringify(cond)) { setTimeout(function () { onChange(fixed); }, 0); }
    box.appendChild(conditionPart(fixed, fields, onChange, prefix, 0));
    return box;
  }
  function conditionPart(cond, fields, onChange, name, depth) {
    if (cond.not !== undefined) {
      var inner = cond.not && typeof cond.not === "object" ? cond.not : newClause(fields);
      return el("div", {class: "cond-not"}, [
        checkbox(_t("取反（以下条件不成立时为真）"), true, function () { onChange(inner); }, name + "_not"),
        conditionPart(inner, fields, function (c) { onChange({not: c}); }, name, depth)]);
    }
    return isGroup(cond) ? groupPart(cond, fields, onChange, name, depth) : clausePart(cond, fields, onChange, name, depth);
  }
  function condButton(text, attr, name, onClick) {
    var b = el("button", {class: "btn btn-link btn-sm p-0 mr-2", type: "button", text: text});
    b.setAttribute(attr, name);
    b.addEventListener("click", onClick);
    return b;
  }
  function groupPart(cond, fields, onChange, name, depth) {
    var mode = Array.isArray(cond.all) ? "all" : "any", items = cond[mode];
    function emit(list, m) {
      if (!list.length) { return onChange(newClause(fields)); }
      var g = {}; g[m || mode] = list; onChange(g);
    }
    var box = el("div", {class: "cond-group", "data-depth": String(depth)});
    box.appendChild(group(_t("组合方式"), select({all: _t("满足全部条件（且）"), any: _t("满足任一条件（或）")}, mode,
      function (v) { emit(items, v); }, name + "_mode")));
    box.appendChild(checkbox(_t("取反（以下条件不成立时为真）"), false, function () { onChange({not: cond}); }, name + "_not"));
    items.forEach(function (c, i) {
      var part = conditionPart(c, fields, function (nc) { var copy = items.slice(); copy[i] = nc; emit(copy); }, name + "_" + i, depth + 1);
      var remove = condButton(_t("移除此条件"), "data-cond-remove", name + "_" + i, function () {
        var copy = items.slice(); copy.splice(i, 1);
        if (copy.length === 1 && depth === 0) { onChange(copy[0]); } else { emit(copy); }
      });
      box.appendChild(el("div", {class: "cond-item"}, [part, remove]));
    });
    var actions = el("div", {class: "cond-actions"}, [condButton(_t("+ 添加条件"), "data-cond-add", name, function () {
      emit(items.concat([newClause(fields)]));
    })]);
    if (depth + 1 < MAX_DEPTH) {
      actions.appendChild(condButton(_t("+ 添加条件组"), "data-cond-add-group", name, function () {
        var sub = {}; sub[mode === "all" ? "any" : "all"] = [newClause(fields)];
        emit(items.concat([sub]));
      }));
    }
    box.appendChild(actions);
    return box;
  }
  function clausePart(cond, fields, onChange, name, depth) {
    var box = el("div", {class: "cond-clause"});
    var multi = ["in", "notin"].indexOf(cond.op) >= 0;
    function emit(patch) { onChange(Object.assign({}, cond, patch)); }
    var field = null;
    if (fields === null) {
      box.appendChild(group(_t("返回值路径"), input(cond.field, function (v) { emit({field: v.trim()}); }, name + "_field"),
        _t("如 code、data.result")));
    } else {
      var names = {};
      fields.forEach(function (f) { names[f.key] = (f.name || f.key) + _t("（") + f.key + _t("）"); });
      if (cond.field && !(cond.field in names)) { names[cond.field] = _t("（") + cond.field + _t("）"); }   // kept as written
      field = fieldOf(fields, cond.field) || {};
      box.appendChild(group(_t("字段"), select(names, cond.field, function (v) {
        var c = {field: v, op: cond.op, value: null};
        if (cond.op === undefined) { delete c.op; }
        onChange(c);
      }, name + "_field")));
    }
    box.appendChild(group(_t("运算"), select(vocab.operators, cond.op || "==", function (v) {
      var list = ["in", "notin"].indexOf(v) >= 0, value = cond.value;
      if (list && !Array.isArray(value) && choicesOf(field || {}).length) { value = value == null ? [] : [value]; }
      if (!list && Array.isArray(value)) { value = value.length ? value[0] : null; }
      emit({op: v, value: value});
    }, name + "_op")));
    var choices = field ? choicesOf(field) : [];
    if (choices.length) {
      var opts = {};
      choices.forEach(function (c) { opts[c.key] = c.name + _t("（") + c.key + _t("）"); });
      (Array.isArray(cond.value) ? cond.value : [cond.value]).forEach(function (v) {
        if (v != null && !(String(v) in opts)) { opts[String(v)] = _t("（") + v + _t("）"); }
      });
      if (multi) {
        var pick = el("select", {class: "form-control form-control-sm", multiple: "multiple", name: name + "_value", size: "3"});
        var chosen = (Array.isArray(cond.value) ? cond.value : [cond.value]).map(String);
        Object.keys(opts).forEach(function (k) { pick.appendChild(el("option", {value: k, text: opts[k], selected: chosen.indexOf(k) >= 0})); });
        pick.addEventListener("change", function () {
          emit({value: Array.prototype.filter.call(pick.options, function (o) { return o.selected; }).map(function (o) { return o.value; })});
        });
        box.appendChild(group(_t("值（可多选）"), pick));
      } else {
        box.appendChild(group(_t("值"), select(opts, cond.value == null ? undefined : String(cond.value), function (v) { emit({value: v}); }, name + "_value")));
      }
    } else {
      var shown = Array.isArray(cond.value) ? cond.value.join(",") : cond.value;
      box.appendChild(group(_t("值"), input(shown, function (v) {
        emit({value: field && field.type === "INT" && v !== "" && !isNaN(v) ? Number(v) : v});
      }, name + "_value"), multi ? _t("多个值用逗号分隔") : null));
    }
    if (depth === 0) {
      box.appendChild(el("div", {class: "cond-actions"}, [condButton(_t("+ 添加条件"), "data-cond-add", name, function () {
        onChange({all: [cond, newClause(fields)]});
      })]));
    }
    return box;
  }

  function fieldPanel(panel, n, j) {
    var f = n.fields[j];
    var back = el("button", {class: "btn btn-link btn-sm p-0", type: "button", text: _t("← 返回节点")});
    back.addEventListener("click", function () { selected = {node: n.key}; showPanel(); });
    panel.appendChild(back);
    panel.appendChild(el("h6", {text: _t("字段：") + (f.name || f.key)}));
    panel.appendChild(issueBox(issuesFor(function (t) { return t.node === data.nodes.indexOf(n) && t.field === j; })));
    panel.appendChild(el("div", {class: "field-preview", id: "field-preview", "data-field": f.key}));
    fieldPreview();
    panel.appendChild(group(_t("字段名称"), input(f.name, function (v) { f.name = v; changed(); }, "field_name")));
    panel.appendChild(group(_t("唯一标识"), input(f.key, function (v) { f.key = v.trim(); changed(); }, "field_key")));
    panel.appendChild(group(_t("字段类型"), select(vocab.field_types, f.type, function (v) {
      f.type = v;
      if (CHOICE_TYPES.indexOf(v) >= 0 && !f.choices && !f.source) { f.choices = [{key: "1", name: "选项1"}]; }
      if (CHOICE_TYPES.indexOf(v) < 0) { delete f.choices; delete f.source; }
      if (TABLE_TYPES.indexOf(v) >= 0 && !f.columns) { f.columns = [{key: "col_1", name: _t("列") + "1"}]; }
      if (TABLE_TYPES.indexOf(v) < 0) { delete f.columns; }
      changed(); showPanel();
    }, "field_type")));
    panel.appendChild(checkbox(_t("必填"), f.required, function (v) { setOrDelete(f, "required", v, false); changed(); }, "required"));
    panel.appendChild(group(_t("布局"), select({full: _t("整行"), half: _t("半行")}, f.layout || "full", function (v) {
      setOrDelete(f, "layout", v, "full"); changed();
    }, "field_layout")));
    if (["STRING", "TEXT", "INT"].indexOf(f.type) >= 0) {
      var presets = Object.assign({}, vocab.regex_presets);
      if (f.regex && !(f.regex in presets)) { presets[f.regex] = _t("自定义：") + f.regex; }
      presets.__custom = _t("自定义正则…");
      panel.appendChild(group(_t("校验方式"), select(presets, f.regex || "", function (v) {
        if (v === "__custom") { var r = prompt(_t("正则表达式")); if (r) { f.regex = r; } } else { setOrDelete(f, "regex", v, ""); }
        changed(); showPanel();
      }, "field_regex")));
      if (f.regex) {
        panel.appendChild(group(_t("校验提示"), input(f.regex_message, function (v) { setOrDelete(f, "regex_message", v, ""); changed(); }, "regex_message")));
      }
    }
    if (CHOICE_TYPES.indexOf(f.type) >= 0) {
      var dicts = {"": _t("（自定义选项）")};
      Object.keys(vocab.dictionaries).forEach(function (k) { dicts[k] = _t("数据字典：") + k; });
      dicts[API_SOURCE] = _t("接口数据（API）");
      var byApi = isMapping(f.source) && f.source.api !== undefined;
      panel.appendChild(group(_t("选项来源"), select(dicts, byApi ? API_SOURCE : f.source && f.source.dictionary || "", function (v) {
        if (v === API_SOURCE) { f.source = {api: vocab.apis.length ? vocab.apis[0].key : ""}; delete f.choices; }
        else if (v) { f.source = {dictionary: v}; delete f.choices; } else { delete f.source; f.choices = f.choices || [{key: "1", name: "选项1"}]; }
        changed(); showPanel();
      }, "field_source")));
      if (byApi) { panel.appendChild(apiSourceEditor(f)); }
      if (!f.source) {
        var text = (f.choices || []).map(function (c) { return c.key + ":" + c.name; }).join("\n");
        var area = el("textarea", {class: "form-control form-control-sm", rows: "4", name: "field_choices"});
        area.value = text;
        area.addEventListener("change", function () {
          f.choices = area.value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean).map(function (l) {
            var p = l.split(/[:：]/); return {key: p[0].trim(), name: (p[1] || p[0]).trim()};
          });
          changed();
        });
        panel.appendChild(group(_t("选项（每行 标识:名称）"), area));
      }
    }
    if (TABLE_TYPES.indexOf(f.type) >= 0) { panel.appendChild(columnsEditor(n, f, j)); }
    if (f.type !== "FILE") {
      panel.appendChild(group(_t("默认值"), input(f.default, function (v) {
        setOrDelete(f, "default", f.type === "INT" && v !== "" && !isNaN(v) ? Number(v) : v, ""); changed();
      }, "field_default")));
    }
    panel.appendChild(group(_t("填写说明"), input(f.desc, function (v) { setOrDelete(f, "desc", v, ""); changed(); }, "field_desc")));
    panel.appendChild(checkbox(_t("是否根据条件隐藏"), !!f.hide_when, function (v) {
      if (v) { f.hide_when = {field: "", op: "=="}; } else { delete f.hide_when; }
      changed(); showPanel();
    }, "hide"));
    if (f.hide_when) {
      panel.appendChild(conditionBuilder(f.hide_when, conditionFields(n.key, j), function (c) {
        f.hide_when = c; changed(); showPanel();
      }, "hide"));
    }
  }

  // --- table columns, API option sources (the field panel) and a sign node's finish rule ----------------------
  function choicesText(choices) { return (choices || []).map(function (c) { return c.key + ":" + c.name; }).join("\n"); }
  function parseChoices(text) {
    return text.split("\n").map(function (l) { return l.trim(); }).filter(Boolean).map(function (l) {
      var p = l.split(/[:：]/); return {key: p[0].trim(), name: (p[1] || p[0]).trim()};
    });
  }
  function columnIssues(n, j, k) {
    // an issue's path names the column: nodes.<i>.fields.<j>.columns.<k>…
    var prefix = "nodes." + data.nodes.indexOf(n) + ".fields." + j + ".columns." + k;
    return issuesFor(function () { return true; }).filter(function (i) {
      return i.path === prefix || (i.path || "").indexOf(prefix + ".") === 0;
    });
  }
  function columnFields(n, f, j, k) {
    // what a column's hide_when may read: the row's other cells (by column key), then the form's fields
    var cells = f.columns.filter(function (c, m) { return m !== k && c && c.key; }).map(function (c) {
      return {key: c.key, name: _t("本行·") + (c.name || c.key), type: c.display === "int" ? "INT" : "STRING", choices: c.choices};
    });
    return cells.concat(conditionFields(n.key, j));
  }
  function columnsEditor(n, f, j) {
    var box = el("div", {class: "columns-editor", id: "columns-editor"}, [el("h6", {class: "mt-2", text: _t("表格列")})]);
    if (f.columns !== undefined && !Array.isArray(f.columns)) {
      box.appendChild(el("div", {class: "small text-muted", text: _t("（结构化的值，请在 YAML 中编辑）")}));
      return box;
    }
    var cols = f.columns || [];
    cols.forEach(function (c, k) {
      var name = "col_" + k, row = el("div", {class: "column-row border rounded p-1 mb-1", "data-column": String(k)});
      if (!isMapping(c)) {
        row.appendChild(el("div", {class: "small text-muted", text: _t("（结构化的值，请在 YAML 中编辑）")}));
        box.appendChild(row);
        return;
      }
      row.appendChild(issueBox(columnIssues(n, j, k)));
      row.appendChild(group(_t("列名称"), input(c.name, function (v) { c.name = v; changed(); }, name + "_name")));
      row.appendChild(group(_t("列标识"), input(c.key, function (v) { c.key = v.trim(); changed(); }, name + "_key")));
      var displays = {};
      Object.keys(COLUMN_DISPLAYS).forEach(function (d) { displays[d] = _t(COLUMN_DISPLAYS[d]); });
      if (c.display && !(c.display in displays)) { displays[c.display] = _t("（") + c.display + _t("）"); }
      row.appendChild(group(_t("列类型"), select(displays, c.display || "input", function (v) {
        setOrDelete(c, "display", v, "input");
        if (v === "select" && !c.choices) { c.choices = [{key: "1", name: "选项1"}]; }
        if (v !== "select") { delete c.choices; }
        changed(); showPanel();
      }, name + "_display")));
      row.appendChild(checkbox(_t("必填"), c.required, function (v) { setOrDelete(c, "required", v, false); changed(); }, name + "_required"));
      if (c.display === "select" || (c.choices && c.choices.length)) {
        var area = el("textarea", {class: "form-control form-control-sm", rows: "3", name: name + "_choices"});
        area.value = choicesText(c.choices);
        area.addEventListener("change", function () { setOrDelete(c, "choices", parseChoices(area.value).length ? parseChoices(area.value) : "", ""); changed(); });
        row.appendChild(group(_t("选项（每行 标识:名称）"), area));
      }
      row.appendChild(checkbox(_t("是否根据条件隐藏"), !!c.hide_when, function (v) {
        if (v) { c.hide_when = {field: "", op: "=="}; } else { delete c.hide_when; }
        changed(); showPanel();
      }, name + "_hide"));
      if (c.hide_when) {
        row.appendChild(conditionBuilder(c.hide_when, columnFields(n, f, j, k), function (cond) {
          c.hide_when = cond; changed(); showPanel();
        }, name + "_hide"));
      }
      row.appendChild(condButton(_t("删除此列"), "data-column-remove", String(k), function () {
        cols.splice(k, 1); f.columns = cols; changed(); showPanel();
      }));
      box.appendChild(row);
    });
    box.appendChild(condButton(_t("+ 添加列"), "data-column-add", "columns", function () {
      var i = 1;
      while (cols.some(function (c) { return c && c.key === "col_" + i; })) { i++; }
      f.columns = cols.concat([{key: "col_" + i, name: _t("列") + i}]);
      changed(); showPanel();
    }));
    return box;
  }
  function apiSourceEditor(f) {
    // options fetched from a configured API: which API, where the list is in its response, each option's key and label
    var src = f.source, box = el("div", {class: "api-source border rounded p-1 mb-2", id: "api-source"});
    function put(key, v, empty) { setOrDelete(src, key, v, empty); changed(); }
    var apis = vocab.apis.map(function (a) { return [a.key, a.name + _t("（") + a.key + _t("）") + (a.enabled ? "" : _t("（未启用）"))]; });
    box.appendChild(group(_t("选项接口（接入系统 · API）"), select(pickerOf(apis, src.api, _t("（不存在的 API）")), src.api || "", function (v) {
      src.api = v; changed(); showPanel();
    }, "source_api")));
    if (!vocab.apis.length) { box.appendChild(el("small", {class: "form-text text-muted", text: _t("还没有配置 API：请先在「API 配置」中添加接入系统和 API")})); }
    box.appendChild(group(_t("选项列表路径"), input(src.items || "data", function (v) { put("items", v.trim(), "data"); }, "source_items"),
      _t("返回中选项列表的位置，如 data、data.items")));
    box.appendChild(group(_t("选项标识字段"), input(src.key_field || "key", function (v) { put("key_field", v.trim(), "key"); }, "source_key_field")));
    box.appendChild(group(_t("选项名称字段"), input(src.name_field || "name", function (v) { put("name_field", v.trim(), "name"); }, "source_name_field")));
    return box;
  }
  function signCounts(n) {
    // the values a sign node's finish rule may read (app/flowdef/model.py NodeDef.sign_counts), named for the admin
    var out = [{key: n.key + "_count", name: _t("已提交人数"), type: "INT"}];
    (n.fields || []).forEach(function (f) {
      if (["RADIO", "SELECT", "MULTISELECT", "CHECKBOX"].indexOf(f.type) >= 0 && Array.isArray(f.choices)) {
        f.choices.forEach(function (c) {
          out.push({key: f.key + "_count_" + c.key, name: _t("选择「") + (f.name || f.key) + _t("」为「") + c.name + _t("」的人数"), type: "INT"});
        });
      }
    });
    return out;
  }
  function finishWhenEditor(n) {
    var box = el("div", {class: "finish-when mt-2", id: "finish-when"}, [el("h6", {text: _t("会签结束条件")})]);
    box.appendChild(checkbox(_t("满足条件时提前结束（否则所有处理人提交后结束）"), n.finish_when !== undefined, function (v) {
      if (v) { n.finish_when = {field: n.key + "_count", op: ">=", value: 1}; } else { delete n.finish_when; }
      changed(); showPanel();
    }, "finish_when"));
    if (n.finish_when !== undefined) {
      box.appendChild(conditionBuilder(n.finish_when, signCounts(n), function (c) { n.finish_when = c; changed(); showPanel(); }, "finish"));
    }
    return box;
  }

  function fieldPreview() {
    // the field as the form will show it: its part of the server-rendered form preview (after the last check)
    var box = $("field-preview");
    if (!box) { return; }
    var node = selected && nodeByKey(selected.node);
    var card = node && document.querySelector('#form-preview .node-preview[data-node="' + node.key + '"]');
    var part = card && card.querySelector('[data-field="' + box.dataset.field + '"]');
    box.replaceChildren();
    if (part) {
      var copy = part.cloneNode(true);
      copy.classList.remove("d-none", "col-md-6", "col-12");
      Array.prototype.forEach.call(copy.querySelectorAll("[id]"), function (e) { e.removeAttribute("id"); });
      Array.prototype.forEach.call(copy.querySelectorAll("[name]"), function (e) { e.removeAttribute("name"); });
      box.appendChild(el("div", {class: "small text-muted", text: _t("预览")}));
      box.appendChild(copy);
    }
  }

  function linePanel(panel, i) {
    var t = data.transitions[i];
    if (!t) { selected = null; return showPanel(); }
    var from = nodeByKey(t.from), to = nodeByKey(t.to);
    panel.appendChild(el("h6", {text: _t("连线：") + (from ? from.name : t.from) + " → " + (to ? to.name : t.to)}));
    panel.appendChild(issueBox(issuesFor(function (x) { return x.transition === i; })));
    panel.appendChild(group(_t("连线名称"), input(t.name, function (v) { setOrDelete(t, "name", v, ""); changed(); }, "line_name")));
    panel.appendChild(checkbox(_t("按条件流转"), !!t.when, function (v) {
      if (v) { t.when = {field: "", op: "=="}; } else { delete t.when; }
      changed(); showPanel();
    }, "line_when"));
    if (t.when) {
      panel.appendChild(conditionBuilder(t.when, conditionFields(t.from), function (c) { t.when = c; changed(); showPanel(); }, "when"));
    }
    var remove = el("button", {class: "btn btn-outline-danger btn-sm mt-2", type: "button", text: _t("删除连线")});
    remove.addEventListener("click", function () { data.transitions.splice(i, 1); selected = null; render(); showPanel(); changed(); });
    panel.appendChild(remove);
  }

  // --- checking, issues, YAML ----------------------------------------------------------------------
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"}})
      .then(function (r) { return r.json(); });
  }
  function scheduleCheck() {
    $("issues").setAttribute("data-state", "pending");
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 300);
  }
  function check() {
    var mine = ++checkSeq;
    $("issues").setAttribute("data-state", "checking");
    return post(config.urls.check, {flow_id: flowId, revision: revision, data: data}).then(function (r) {
      if (mine !== checkSeq) { return r; }
      issues = r.issues || []; warnings = r.warnings || [];
      if (r.error) { issues = [{message: r.error, target: {}}]; }
      showIssues($("issues"));
      showYaml(r.source || "");
      if (r.preview !== undefined) { $("form-preview").innerHTML = r.preview; fieldPreview(); }   // rendered (and escaped) by the server
      markIssues();
      showPanelKeepingFocus();
      $("issues").setAttribute("data-state", "done");
      return r;
    });
  }
  function showPanelKeepingFocus() {
    var active = document.activeElement;
    if (active && $("panel").contains(active)) { return; }   // do not rebuild what the admin is typing in
    showPanel();
  }
  function showIssues(box) {
    box.replaceChildren();
    if (!issues.length && !warnings.length) { box.appendChild(el("div", {class: "text-success small", text: _t("校验通过")})); return; }
    issues.forEach(function (i) {
      box.appendChild(el("div", {class: "issue"}, [issueText(i), i.location ? locLink(i) : null]));
    });
    warnings.forEach(function (i) {
      box.appendChild(el("div", {class: "warning"}, [_t("部署前需处理：") + issueText(i), i.location ? locLink(i) : null]));
    });
  }
  function locLink(issue) {
    // `file:line`: a click shows that line of the YAML
    var a = el("a", {class: "loc", href: "#yaml-view", text: issue.location});
    a.addEventListener("click", function (e) {
      e.preventDefault();
      var line = document.querySelector('#yaml-view span[data-line="' + issue.line + '"]');
      if (line) { line.scrollIntoView({block: "center"}); }
    });
    return a;
  }
  function showYaml(source) {
    var bad = {};
    issues.forEach(function (i) { if (i.line) { bad[i.line] = issueText(i); } });
    var pre = $("yaml-view");
    pre.replaceChildren();
    source.split("\n").forEach(function (line, k) {
      var span = el("span", {class: bad[k + 1] ? "err" : "", "data-line": String(k + 1), text: line + "\n"});
      if (bad[k + 1]) { span.title = bad[k + 1]; }
      pre.appendChild(span);
    });
  }
  function markIssues() {
    data.nodes.forEach(function (n, idx) {
      var e = nodeElement(n.key);
      if (!e) { return; }
      var mine = issues.filter(function (i) { return i.target && i.target.node === idx; });
      e.classList.toggle("has-error", mine.length > 0);
      var box = e.querySelector(".df-issue");
      if (box) { box.textContent = mine.map(function (i) { return issueText(i, true); }).join(_t("；")); }
      e.title = mine.map(function (i) { return issueText(i); }).join("\n");
    });
    Array.prototype.forEach.call(document.querySelectorAll("#canvas .connection"), function (c) { c.classList.remove("has-error"); });
    issues.forEach(function (i) {
      var t = i.target && i.target.transition !== undefined ? data.transitions[i.target.transition] : null;
      if (t && idOf[t.from] !== undefined && idOf[t.to] !== undefined) {
        var c = document.querySelector("#canvas .connection.node_out_node-" + idOf[t.from] + ".node_in_node-" + idOf[t.to]);
        if (c) { c.classList.add("has-error"); }
      }
    });
    basicIssues();
  }
  function basicIssues() {
    var box = $("basic-issues");
    box.replaceChildren();
    issues.filter(function (i) { return i.target && i.target.node === undefined && i.target.transition === undefined &&
                                  ["key", "name", "service_type", "desc"].indexOf(i.target.attr) >= 0; })
      .forEach(function (i) { box.appendChild(el("div", {class: "issue", text: issueText(i)})); });
  }

  // --- step 3: review and save --------------------------------------------------------------------------
  function review() {
    $("btn-save").disabled = true;
    $("save-result").replaceChildren();
    return check().then(function (r) {
      issues = r.issues || [];
      showIssues($("review-issues"));
      var pre = $("diff");
      pre.hidden = false;
      pre.replaceChildren();
      if (!r.diff) { pre.appendChild(el("span", {text: _t("（没有改动）")})); }
      (r.diff || "").split("\n").forEach(function (line) {
        var cls = line.indexOf("+") === 0 && line.indexOf("+++") !== 0 ? "add" : line.indexOf("-") === 0 && line.indexOf("---") !== 0 ? "del" : "";
        pre.appendChild(el("span", {class: cls, text: line + "\n"}));
      });
      pre.setAttribute("data-empty", r.diff ? "false" : "true");
      $("btn-save").disabled = !!(r.error || issues.length);
    });
  }
  $("btn-review").addEventListener("click", review);
  $("btn-save").addEventListener("click", function () {
    $("btn-save").disabled = true;
    post(config.urls.save, {flow_id: flowId, revision: revision, data: data}).then(function (r) {
      var box = $("save-result");
      box.replaceChildren();
      if (!r.ok) { box.appendChild(el("div", {class: "alert alert-danger flash-text", text: r.error || _t("保存失败")})); $("btn-save").disabled = false; return; }
      flowId = r.id;
      revision = r.revision;
      $("flow-key").readOnly = true;
      box.appendChild(el("div", {class: "alert alert-success", id: "saved"}, [_t("流程「") + r.name + _t("」已保存。 "),
        deployButton(), " ",
        el("a", {href: r.deploy, id: "deploy-link", class: "btn btn-outline-success btn-sm", text: _t("部署流程")}), " ",
        el("a", {href: config.urls.list, class: "btn btn-link btn-sm", text: _t("返回流程列表")})]));
      if (history.replaceState) { history.replaceState(null, "", r.designer); }
    });
  });

  function deployButton() {
    // deploy what was just saved, notified as its 任务通知策略 says (the deploy page lets one choose another policy)
    var b = el("button", {class: "btn btn-success btn-sm", type: "button", id: "btn-deploy", text: _t("按当前通知策略部署")});
    b.addEventListener("click", function () {
      b.disabled = true;
      post(config.urls.deploy, {flow_id: flowId}).then(function (r) {
        var cls = r.ok ? "alert alert-success" : "alert alert-danger flash-text";
        $("save-result").appendChild(el("div", {class: cls, id: r.ok ? "deployed" : "deploy-error", text: r.ok ? r.message : r.error}));
        b.disabled = !!r.ok;
      });
    });
    return b;
  }

  if (config.state.source && !config.state.data) {
    // the stored YAML does not parse: nothing to draw, and nothing may be saved over it
    $("btn-save").disabled = true;
    $("btn-review").disabled = true;
    $("basic-issues").appendChild(el("div", {class: "issue", id: "unreadable",
      text: _t("流程的 YAML 有语法错误，设计器无法打开；请先在 YAML 编辑器中修正。")}));
  }
  fillBasic();
  render();
  showPanel();
  showIssues($("issues"));
  if (config.state.source) { showYaml(config.state.source); } else { scheduleCheck(); }
  if (config.state.source === "" && !flowId) { showStep("basic"); }
  else if (config.state.data) { showStep("design"); }      // an existing flow opens on its canvas, all of it in view
})();
