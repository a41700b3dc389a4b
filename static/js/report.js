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

  // Back from the receipt: the browser may bring the sent form back, the reporter's name and phone with it,
  // for the next person on a shared phone to read (and to file twice). Empty it instead: now, and again at
  // pageshow, since Chromium puts restored values back after deferred scripts have run.
  var FILED = "tipoff-report-filed";
  function takeFiled() {
    try {
      var mark = sessionStorage.getItem(FILED);
      sessionStorage.removeItem(FILED);
      return Boolean(mark);
    } catch (e) { return false; }
  }
  // A fresh key for the emptied form: the old one belongs to the report just filed, and the server would
  // refuse a different report under it.
  function freshKey() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function emptyForm() {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name === "idempotency_key") { el.value = freshKey(); return; }
      if (el.type === "hidden" || el.type === "submit" || el.type === "button") { return; }
      if (el.type === "radio") {
        el.checked = el.value === "anonymous";
      } else if (el.type === "checkbox") {
        el.checked = false;
      } else if (el.tagName === "SELECT") {
        el.selectedIndex = 0;
      } else {
        el.value = "";
      }
    });
  }

  var filed = takeFiled();
  if (filed) { emptyForm(); }
  restoreDraft();
  showNamed();
  window.addEventListener("pageshow", function () {
    if (filed || takeFiled()) {
      filed = false;
      emptyForm();
      showNamed();
    }
  });
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", function () { saveDraft(); showNamed(); });
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
