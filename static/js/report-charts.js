// The reports' charts, drawn from the data each page embeds with json_script (no inline script:
// the Content-Security-Policy allows only our own files). Each chart is drawn when its data is on the page.
(function () {
  if (!window.Chart) return;

  function data(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // "Few data" (fewer than 5 leads behind a bar or a point, flagged by the page): greyed.
  var FEW = "#ced4da";
  function colors(color, few) {
    if (Array.isArray(few)) return few.map(function (flag) { return flag ? FEW : color; });
    return few ? FEW : color;
  }

  var friday = data("friday-chart-data");
  if (friday && friday.labels.length) {
    new Chart(document.getElementById("followed-chart"), {
      type: "bar",
      data: {labels: friday.labels, datasets: [{label: "% followed up", data: friday.followed_up, backgroundColor: colors("#0d6efd", friday.few)}]},
      options: {indexAxis: "y", scales: {x: {min: 0, max: 100}}, plugins: {legend: {display: false}}}
    });
  }

  var giveup = data("giveup-chart-data");
  if (giveup) {
    new Chart(document.getElementById("giveup-chart"), {
      type: "bar",
      data: {labels: giveup.labels, datasets: [
        {label: "Us (%)", data: giveup.ours, backgroundColor: colors("#0d6efd", giveup.few)},
        {label: "Industry (%)", data: giveup.industry, backgroundColor: "#adb5bd"}
      ]},
      options: {scales: {y: {min: 0, max: 100}}}
    });
  }

  var speed = data("speed-chart-data");
  if (speed && speed.labels.length) {
    new Chart(document.getElementById("speed-chart"), {
      type: "line",
      data: {labels: speed.labels, datasets: [
        {label: "First automated touch (h)", data: speed.auto_median_hours, borderColor: "#20c997", pointBackgroundColor: speed.auto_few.map(function (few) { return few ? "#fff" : "#20c997"; })},
        {label: "First call (h)", data: speed.call_median_hours, borderColor: "#0d6efd", pointBackgroundColor: speed.call_few.map(function (few) { return few ? "#fff" : "#0d6efd"; })},
        {label: "Industry average (h)", data: speed.labels.map(function () { return speed.industry_hours; }), borderColor: "#adb5bd", borderDash: [6, 4], pointRadius: 0}
      ]},
      options: {scales: {y: {beginAtZero: true}}}
    });
  }

  var coverage = data("coverage-chart-data");
  if (coverage) {
    new Chart(document.getElementById("coverage-chart"), {
      type: "bar",
      data: {labels: coverage.labels, datasets: [{label: "% of leads", data: coverage.shares, backgroundColor: coverage.few ? FEW : ["#0d6efd", "#6610f2", "#198754"]}]},
      options: {indexAxis: "y", scales: {x: {min: 0, max: 100}}, plugins: {legend: {display: false}}}
    });
  }

  var converts = data("converts-chart-data");
  if (converts) {
    var bar = function (id, labels, values, color, few) {
      return new Chart(document.getElementById(id), {
        type: "bar",
        data: {labels: labels, datasets: [{label: "Conversion (%)", data: values, backgroundColor: colors(color, few)}]},
        options: {scales: {y: {beginAtZero: true, max: 100}}, plugins: {legend: {display: false}}}
      });
    };
    bar("response-chart", converts.labels, converts.rates, "#0d6efd", converts.few);
    bar("attempts-chart", converts.attempt_labels, converts.attempt_rates, "#198754", converts.attempt_few);
  }
})();
