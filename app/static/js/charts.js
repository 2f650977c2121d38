// 运营数据: draws every [data-figure] (a plotly figure as JSON) with the plotly bundle the page loads first.
document.querySelectorAll("[data-figure]").forEach((el) => {
  const figure = JSON.parse(el.getAttribute("data-figure"));
  window.Plotly.newPlot(el, figure.data, figure.layout, figure.config);
});
