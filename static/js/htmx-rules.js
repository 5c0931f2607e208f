// The one rule for htmx error answers, on every page (app/htmx.py says the same for the server): htmx-config in
// base.html swaps 422 (a form re-rendered with its reasons) and leaves other 4xx/5xx unswapped; a 4xx whose answer
// names where it goes (HX-Retarget, set by app.htmx.reswap) is a refusal explained in place, so it is swapped too.
// And no answer replaces a field while someone is typing in it, unless that field or its form asked.
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

  var TYPING = "input:not([type=button]):not([type=submit]):not([type=checkbox]):not([type=radio]), textarea, select";

  // Never replace a field while someone is typing in it: an answer to a request the field (or its form) did not
  // make — a proposal from another field, a live refresh — waits; the person's own submit still re-renders.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var focused = document.activeElement;
    var target = event.detail.target;
    if (!focused || !target || !target.contains || !target.contains(focused) || !focused.matches(TYPING)) {
      return;
    }
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && (source === focused || (focused.form && source === focused.form))) {
      return;
    }
    event.detail.shouldSwap = false;
  });
})();
