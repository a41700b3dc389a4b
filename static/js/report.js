// Progressive enhancement for the report form; the form works without it.
// Keeps a draft of the non-identity fields in this tab's sessionStorage so a lost page (a dropped
// connection, an over-large upload) does not lose what was written; identity fields are never stored.
(function () {
  "use strict";
  var form = document.querySelector("form.report-form");
  if (!form) { return; }
  var KEY = "tipoff-report-draft";
  var DRAFT_FIELDS = ["category", "sector", "township", "subject_name", "subject_credit_code", "address",
    "occurred_on", "description"];

  function saveDraft() {
    var draft = {};
    DRAFT_FIELDS.forEach(function (name) {
      var el = form.elements[name];
      if (el && el.value) { draft[name] = el.value; }
    });
    try { sessionStorage.setItem(KEY, JSON.stringify(draft)); } catch (e) { /* storage may be off */ }
  }

  function restoreDraft() {
    var raw;
    try { raw = sessionStorage.getItem(KEY); } catch (e) { return; }
    if (!raw) { return; }
    var draft = JSON.parse(raw);
    DRAFT_FIELDS.forEach(function (name) {
      var el = form.elements[name];
      if (el && !el.value && draft[name]) { el.value = draft[name]; }
    });
  }

  var named = document.getElementById("named-fields");
  function showNamed() {
    var choice = form.querySelector("input[name=identity]:checked");
    if (named) { named.hidden = !(choice && choice.value === "named"); }
  }

  restoreDraft();
  showNamed();
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", function () { saveDraft(); showNamed(); });
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
