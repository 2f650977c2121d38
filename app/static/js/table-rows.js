// 「添加一行」 under TABLE / CUSTOMTABLE fields: copies the last row with empty inputs.
// Without JavaScript the buttons stay hidden and the server's spare empty row is the way to add one.
function tableBody(button) {
  const form = button.form || document;
  const name = button.getAttribute("data-add-row");
  return form.querySelector(`table[data-table-field="${CSS.escape(name)}"] tbody`);
}

function addRow(tbody) {
  const rows = tbody.querySelectorAll("tr");
  const index = rows.length;
  const copy = rows[rows.length - 1].cloneNode(true);
  copy.querySelectorAll("[name]").forEach((input) => {
    input.name = input.name.replace(/-\d+-([^-]+)$/, `-${index}-$1`);
    if (input.tagName === "SELECT") {
      input.selectedIndex = 0;
    } else {
      input.value = "";
    }
  });
  const number = copy.querySelector(".row-number");
  if (number) {
    number.textContent = String(index + 1);
  }
  tbody.appendChild(copy);
  copy.dispatchEvent(new Event("input", {bubbles: true}));
}

document.querySelectorAll("button[data-add-row]").forEach((button) => {
  if (tableBody(button)) {
    button.hidden = false;
  }
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-add-row]");
  const tbody = button && tableBody(button);
  if (tbody) {
    addRow(tbody);
  }
});
