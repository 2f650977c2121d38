// The RICHTEXT editor (Quill, vendored) on every <textarea data-richtext>: the textarea is hidden and keeps the
// editor's HTML, so the form posts it as before; the server sanitizes it (app/forms/sanitize.py) when stored and
// again when shown. Without JavaScript the textarea is typed into directly.
import {STATIC, loadScript, loadStyle} from "./load.js";

const TOOLBAR = [
  [{header: [2, 3, false]}],
  ["bold", "italic", "underline", "strike"],
  [{list: "ordered"}, {list: "bullet"}],
  ["blockquote", "code-block", "link"],
  ["clean"],
];
const TAG = /<[A-Za-z!/]/;

function enhance(textarea) {
  const box = document.createElement("div");
  box.className = "richtext-editor" + (textarea.classList.contains("is-invalid") ? " is-invalid" : "");
  const area = document.createElement("div");
  box.appendChild(area);
  textarea.insertAdjacentElement("beforebegin", box);
  textarea.hidden = true;
  const editor = new window.Quill(area, {theme: "snow", modules: {toolbar: TOOLBAR},
                                         placeholder: textarea.getAttribute("placeholder") || ""});
  if (TAG.test(textarea.value)) {
    editor.clipboard.dangerouslyPasteHTML(textarea.value);   // the server's own sanitized HTML
  } else {
    editor.setText(textarea.value);
  }
  editor.root.setAttribute("aria-label", textarea.getAttribute("aria-label") || "");
  editor.root.setAttribute("data-richtext-for", textarea.name);
  const save = () => {
    textarea.value = editor.getLength() > 1 ? editor.getSemanticHTML().replace(/\ufeff/g, "") : "";  // no cursor marks
  };
  editor.on("text-change", save);
  textarea.form?.addEventListener("submit", save);
}

const areas = document.querySelectorAll("textarea[data-richtext]");
if (areas.length) {
  loadStyle(STATIC + "vendor/quill/quill.snow.css");
  loadScript(STATIC + "vendor/quill/quill.js").then(() => areas.forEach(enhance));
}
