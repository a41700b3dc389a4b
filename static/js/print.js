// One click prints: a [data-print] button (hidden without JavaScript, where Ctrl+P is explained instead)
// opens the browser's print dialog.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
