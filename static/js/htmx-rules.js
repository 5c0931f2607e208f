// The one rule for htmx error answers, on every page (app/htmx.py says the same for the server): htmx-config in
// base.html swaps 422 (a form re-rendered with its reasons) and leaves other 4xx/5xx unswapped; a 4xx whose answer
// names where it goes (HX-Retarget, set by app.htmx.reswap) is a refusal explained in place, so it is swapped too.
(function () {
  "use strict";
  if (window.housePointsHtmxRules) {
    return;
  }
  window.housePointsHtmxRules = true;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
