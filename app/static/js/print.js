// The print page: a [data-print] button prints; <body data-auto-print> prints once on load.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
if (document.body.hasAttribute("data-auto-print")) {
  window.addEventListener("load", () => window.print(), {once: true});
}
