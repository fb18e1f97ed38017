// The reports' charts, drawn from the data each page embeds with json_script (no inline script:
// the Content-Security-Policy allows only our own files). Each chart is drawn when its data is on the page.
(function () {
  if (!window.Chart) return;

  function data(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var friday = data("friday-chart-data");
  if (friday && friday.labels.length) {
    new Chart(document.getElementById("followed-chart"), {
      type: "bar",
      data: {labels: friday.labels, datasets: [{label: "% followed up", data: friday.followed_up, backgroundColor: "#0d6efd"}]},
      options: {indexAxis: "y", scales: {x: {min: 0, max: 100}}, plugins: {legend: {display: false}}}
    });
  }

  var giveup = data("giveup-chart-data");
  if (giveup) {
    new Chart(document.getElementById("giveup-chart"), {
      type: "bar",
      data: {labels: giveup.labels, datasets: [
        {label: "Us (%)", data: giveup.ours, backgroundColor: "#0d6efd"},
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
        {label: "Automated first touch (h)", data: speed.auto_median_hours, borderColor: "#20c997"},
        {label: "First human call (h)", data: speed.call_median_hours, borderColor: "#0d6efd"},
        {label: "Industry average (h)", data: speed.labels.map(function () { return speed.industry_hours; }), borderColor: "#adb5bd", borderDash: [6, 4], pointRadius: 0}
      ]},
      options: {scales: {y: {beginAtZero: true}}}
    });
  }

  var coverage = data("coverage-chart-data");
  if (coverage) {
    new Chart(document.getElementById("coverage-chart"), {
      type: "bar",
      data: {labels: coverage.labels, datasets: [{label: "% of leads", data: coverage.shares, backgroundColor: ["#0d6efd", "#6610f2", "#198754"]}]},
      options: {indexAxis: "y", scales: {x: {min: 0, max: 100}}, plugins: {legend: {display: false}}}
    });
  }

  var converts = data("converts-chart-data");
  if (converts) {
    var bar = function (id, labels, values, color) {
      return new Chart(document.getElementById(id), {
        type: "bar",
        data: {labels: labels, datasets: [{label: "Conversion (%)", data: values, backgroundColor: color}]},
        options: {scales: {y: {beginAtZero: true, max: 100}}, plugins: {legend: {display: false}}}
      });
    };
    bar("response-chart", converts.labels, converts.rates, "#0d6efd");
    bar("attempts-chart", converts.attempt_labels, converts.attempt_rates, "#198754");
  }
})();
