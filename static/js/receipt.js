// The tip is stored: the draft kept while writing it is no longer needed, and the report form must not
// show what was sent if the browser goes Back to it (report.js clears it when it sees this mark).
(function () {
  "use strict";
  try {
    sessionStorage.removeItem("tipoff-report-draft");
    sessionStorage.setItem("tipoff-report-filed", "1");
  } catch (e) { /* storage may be off */ }
})();
