// Searchable pickers (Tom Select, vendored) on every <select data-picker>: type to filter, no Ctrl-click.
// data-picker="people": also searches all users by username and display name on the server (/people/search);
// data-picker-prefix (dispatch/transfer targets) is put before a found username ("PERSON:").
// Without JavaScript the plain <select> still works.
import {STATIC, loadScript, loadStyle} from "./load.js";

function options(select) {
  const settings = {
    plugins: select.multiple ? ["remove_button"] : [],
    maxOptions: 200,
    allowEmptyOption: !select.multiple,
    closeAfterSelect: !select.multiple,
    hidePlaceholder: true,
    placeholder: select.getAttribute("data-placeholder") || "",
    render: {
      no_results: () => {
        const div = document.createElement("div");
        div.className = "no-results";
        div.textContent = select.getAttribute("data-no-results") || "";
        return div;
      },
    },
    onItemAdd() {
      if (select.multiple) {
        this.setTextboxValue("");
      }
    },
  };
  const url = select.getAttribute("data-picker-search");
  if (url) {
    const prefix = select.getAttribute("data-picker-prefix") || "";
    settings.load = (query, callback) => {
      fetch(`${url}?q=${encodeURIComponent(query)}`, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then((r) => r.json())
        .then((data) => callback(data.results.map((u) => ({value: prefix + u.value, text: u.text}))))
        .catch(() => callback());
    };
  }
  return settings;
}

function enhance(select) {
  const picker = new window.TomSelect(select, options(select));
  // a change made to the <select> itself (a reset, a script) shows in the picker too
  select.addEventListener("itsm:sync", () => picker.sync());
}

const selects = document.querySelectorAll("select[data-picker]");
if (selects.length) {
  loadStyle(STATIC + "vendor/tom-select/tom-select.bootstrap4.min.css");
  loadScript(STATIC + "vendor/tom-select/tom-select.complete.min.js").then(() => selects.forEach(enhance));
}
