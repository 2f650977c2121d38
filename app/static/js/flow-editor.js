// 流程设计 (back office): Tab inserts two spaces; typing re-validates the YAML on the server and redraws the preview.
const source = document.getElementById("source");
if (source) {
  const box = document.getElementById("validation");
  const preview = document.getElementById("preview");
  const token = document.querySelector("#flow-form input[name=csrf_token]").value;
  const url = source.getAttribute("data-validate-url");
  let timer = null;
  let seq = 0;
  source.addEventListener("keydown", (e) => {
    if (e.key === "Tab") {
      e.preventDefault();
      source.setRangeText("  ", source.selectionStart, source.selectionEnd, "end");
    }
  });
  const show = (kind, title, lines) => {
    const div = document.createElement("div");
    div.id = "issues";
    div.className = "alert issues alert-" + kind + (lines.length ? "" : " py-1 small");
    div.textContent = title + (lines.length ? "\n" + lines.join("\n") : "");
    box.replaceChildren(div);
  };
  const check = () => {
    const mine = ++seq;
    fetch(url, {method: "POST", body: new URLSearchParams({source: source.value}), credentials: "same-origin",
                headers: {"X-CSRFToken": token, "Accept": "application/json"}})
      .then((r) => r.json())
      .then((data) => {
        if (mine !== seq) { return; }
        if (data.errors.length) { show("danger", "有错误，不能保存：", data.errors); return; }
        if (data.warnings.length) { show("warning", "可以保存；部署前需要处理：", data.warnings); }
        else { show("success", "校验通过", []); }
        preview.innerHTML = data.preview;
      })
      .catch(() => show("secondary", "暂时无法校验（网络错误）", []));
  };
  source.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 400); });
}
