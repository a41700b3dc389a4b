// The tip is stored: the draft kept while writing it is no longer needed.
(function () {
  "use strict";
  try { sessionStorage.removeItem("tipoff-report-draft"); } catch (e) { /* storage may be off */ }
})();
