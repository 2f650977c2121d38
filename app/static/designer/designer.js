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
  var CHOICE_TYPES = ["SELECT", "MULTISELECT", "CHECKBOX", "RADIO", "TREESELECT", "CASCADE"];
  var VALUELESS = ["STARTER", "BY_ASSIGNOR", "OPEN", "STARTER_LEADER"];

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
    if (step === "design") { editor.zoom_refresh && editor.zoom_refresh(); redrawLines(); }
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
    render(); changed();
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
    if (f.choices && f.choices.length) { return f.choices; }
    if (f.source && f.source.dictionary) { return vocab.dictionaries[f.source.dictionary] || []; }
    return [];
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
    return issues.filter(function (i) { return test(i.target || {}); });
  }
  function issueBox(list) {
    return el("div", {class: "issue-list"}, list.map(function (i) {
      return el("div", {class: "issue", text: issueText(i, true)});
    }));
  }
  function setOrDelete(obj, key, value, empty) {
    if (value === empty || value === "" || value === null || value === undefined) { delete obj[key]; } else { obj[key] = value; }
  }
  function showPanel() {
    var panel = $("panel");
    panel.replaceChildren();
    if (!selected) { panel.appendChild(el("p", {class: "text-muted small", text: _t("点击节点或连线以编辑。")})); return; }
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
    if (n.kind === "api") { panel.appendChild(group(_t("API（系统标识.API 标识）"), input(n.api, function (v) { n.api = v; changed(); }, "api"))); }
    if (n.kind === "automation") { panel.appendChild(group(_t("插件"), input(n.plugin, function (v) { n.plugin = v; changed(); }, "plugin"))); }
    if (["end", "parallel", "converge"].indexOf(n.kind) < 0) {
      panel.appendChild(el("h6", {class: "mt-2", text: _t("字段")}));
      (n.fields || []).forEach(function (f, j) {
        var bad = issuesFor(function (t) { return t.node === data.nodes.indexOf(n) && t.field === j; }).length;
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
        var to = select(targets, Object.keys(targets)[0], function () {}, "connect_to");
        var go = el("button", {class: "btn btn-outline-secondary btn-sm mt-1", type: "button", text: _t("添加连线"), id: "btn-connect"});
        go.addEventListener("click", function () {
          data.transitions.push({from: n.key, to: to.value});
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

  function conditionBuilder(cond, fields, onChange, prefix) {
    // one comparison {field, op, value}; anything richer stays as written (edit it in YAML)
    var box = el("div", {class: "border rounded p-1 mb-2"});
    if (cond && (cond.all || cond.any || cond.not)) {
      box.appendChild(el("div", {class: "small text-muted", text: _t("组合条件：") + JSON.stringify(cond) + _t("（请在 YAML 中编辑）")}));
      return box;
    }
    var names = {};
    fields.forEach(function (f) { names[f.key] = (f.name || f.key) + _t("（") + f.key + _t("）"); });
    if (!Object.keys(names).length) { box.appendChild(el("div", {class: "small text-muted", text: _t("之前没有可用的字段")})); return box; }
    cond = cond || {};
    var fieldKey = cond.field in names ? cond.field : Object.keys(names)[0];
    var field = fields.filter(function (f) { return f.key === fieldKey; })[0];
    function emit(patch) { var c = {field: fieldKey, op: cond.op || "==", value: cond.value}; Object.assign(c, patch); onChange(c); }
    box.appendChild(group(_t("字段"), select(names, fieldKey, function (v) { emit({field: v, value: null}); }, prefix + "_field")));
    box.appendChild(group(_t("运算"), select(vocab.operators, cond.op || "==", function (v) { emit({op: v}); }, prefix + "_op")));
    var choices = choicesOf(field);
    if (choices.length) {
      var opts = {};
      choices.forEach(function (c) { opts[c.key] = c.name + _t("（") + c.key + _t("）"); });
      box.appendChild(group(_t("值"), select(opts, cond.value, function (v) { emit({value: v}); }, prefix + "_value")));
    } else {
      box.appendChild(group(_t("值"), input(cond.value, function (v) { emit({value: field.type === "INT" && v !== "" && !isNaN(v) ? Number(v) : v}); }, prefix + "_value")));
    }
    if (cond.field !== fieldKey || (choices.length && cond.value == null)) {
      // what the form shows is what is stored (after this panel is built)
      var patch = choices.length && cond.value == null ? {value: choices[0].key} : {};
      setTimeout(function () { emit(patch); }, 0);
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
      panel.appendChild(group(_t("选项来源"), select(dicts, f.source && f.source.dictionary || "", function (v) {
        if (v) { f.source = {dictionary: v}; delete f.choices; } else { delete f.source; f.choices = f.choices || [{key: "1", name: "选项1"}]; }
        changed(); showPanel();
      }, "field_source")));
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
        el("a", {href: r.deploy, id: "deploy-link", class: "btn btn-success btn-sm", text: _t("部署流程")}), " ",
        el("a", {href: config.urls.list, class: "btn btn-link btn-sm", text: _t("返回流程列表")})]));
      if (history.replaceState) { history.replaceState(null, "", r.designer); }
    });
  });

  if (config.state.source && !config.state.data) {
    // the stored YAML does not parse: nothing to draw, and nothing may be saved over it
    $("btn-save").disabled = true;
    $("btn-review").disabled = true;
    $("basic-issues").appendChild(el("div", {class: "issue", id: "unreadable",
      text: _t("流程的 YAML 有语法错误，设计器无法打开；请先在 YAML 编辑器中修正。")}));
  }
  fillBasic();
  render();
  showIssues($("issues"));
  if (config.state.source) { showYaml(config.state.source); } else { scheduleCheck(); }
  if (config.state.source === "" && !flowId) { showStep("basic"); }
})();
