// 知识库 editor: the 预览 tab renders the Markdown on the server (the same sanitizer as the article page).
const tab = document.getElementById("kb-preview-tab");
if (tab) {
  window.jQuery(tab).on("show.bs.tab", () => {
    const target = document.getElementById("kb-preview");
    const body = new URLSearchParams({
      body: document.getElementById("body").value,
      csrf_token: document.getElementById("csrf_token").value,
    });
    fetch(tab.getAttribute("data-preview-url"), {method: "POST", body, credentials: "same-origin"})
      .then((r) => { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then((html) => { target.innerHTML = html; })
      .catch(() => { target.textContent = tab.getAttribute("data-error-text"); });
  });
}
