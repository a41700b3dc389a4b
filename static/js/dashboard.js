// The dashboard's charts (Chart.js, self-hosted). The numbers come from the JSON the page embeds and are
// also printed in the tables beside each chart, so nothing here is the only way to read them.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var labels = data.labels || {};
  var blue = "#1f5c99", red = "#b3261e", green = "#2e7d32";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false;

  function make(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  make("chart-trend", {
    type: "line",
    data: {
      labels: data.trend.map(function (r) { return r.month; }),
      datasets: [
        { label: labels.received || "收到", data: data.trend.map(function (r) { return r.received; }), borderColor: blue, backgroundColor: blue, tension: 0.2 },
        { label: labels.concluded || "办结", data: data.trend.map(function (r) { return r.concluded; }), borderColor: green, backgroundColor: green, tension: 0.2 }
      ]
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });

  make("chart-departments", {
    type: "bar",
    data: {
      labels: data.departments.map(function (r) { return r.name; }),
      datasets: [
        { label: labels.received || "收到", data: data.departments.map(function (r) { return r.received; }), backgroundColor: blue },
        { label: labels.overdue || "当前逾期", data: data.departments.map(function (r) { return r.overdue; }), backgroundColor: red }
      ]
    },
    options: { indexAxis: "y", maintainAspectRatio: false, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
  });

  make("chart-categories", {
    type: "bar",
    data: {
      labels: data.categories.map(function (r) { return r.name; }),
      datasets: [{ label: labels.received || "收到", data: data.categories.map(function (r) { return r.received; }), backgroundColor: blue }]
    },
    options: { maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
})();
