// Forms marked data-confirm="question" ask before they submit (撤单, 终止, 删除 ...).
// One listener on the document, so a page binds it once however many forms it has.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
