// Keyboard and screen reader users after an in-place htmx swap, on every page.
// Focus: an answer that replaces the element that had focus (the "Approve" button inside the card it swaps), or a
// live refresh of the card around it, would drop focus to <body>. After any request, if focus was lost moments ago,
// it goes back to the same control when the new content still has it (a live refresh), else to the nearest thing
// that was around it and is still there (the chore's row, its card; focusable with tabindex="-1"), else that
// card's heading.
// Words: the server says what an action did with an HX-Trigger `announce` event ({"message": "…"}, app/htmx.py);
// it is said in the page's polite status region (#announcer in base.html), so a screen reader hears
// "Approved: Dishes — 10 points to Maya" while the card changes silently.
(function () {
  "use strict";
  if (window.housePointsA11y) {
    return;
  }
  window.housePointsA11y = true;

  var SELF_FOCUS = "li, article, tr, [data-focus-self]";
  var LOST_FOR_MS = 10000; // focus lost longer ago than this was left on purpose (a click on the page's background)
  var last = null; // where focus last was: the element, its label, the ids around it (nearest first)
  var lostAt = 0;

  function labelOf(element) {
    return element.tagName + "|" + (element.getAttribute("aria-label") || element.textContent || "").trim() + "|" +
      (element.getAttribute("name") || "") + "|" + (element.getAttribute("href") || "");
  }

  function memoryOf(active) {
    var ids = [];
    for (var node = active; node && node !== document.body; node = node.parentElement) {
      if (node.id) {
        ids.push(node.id);
      }
    }
    return { element: active, label: labelOf(active), ids: ids };
  }

  document.addEventListener("focusin", function (event) {
    if (event.target && event.target !== document.body && event.target.tagName) {
      last = memoryOf(event.target);
      lostAt = 0;
    }
  });
  // A control disabled while its request runs, or swapped away, loses focus to <body> with no element to go to.
  document.addEventListener("focusout", function (event) {
    if (!event.relatedTarget) {
      lostAt = Date.now();
    }
  });

  function focusable(element) {
    return element && !element.disabled && element.getClientRects().length > 0;
  }

  function tryFocus(element) {
    if (!focusable(element)) {
      return false;
    }
    if (!element.matches("a[href], button, input, select, textarea, summary, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus({ preventScroll: true });
    return document.activeElement === element;
  }

  function sameControlIn(container, memory) {
    var candidates = container.querySelectorAll("a[href], button, input, select, textarea, summary");
    for (var i = 0; i < candidates.length; i++) {
      if (labelOf(candidates[i]) === memory.label) {
        return candidates[i];
      }
    }
    return null;
  }

  function lost() {
    var active = document.activeElement;
    return !active || active === document.body || !document.documentElement.contains(active);
  }

  function restore() {
    var memory = last;
    if (!memory || !lost() || !lostAt || Date.now() - lostAt > LOST_FOR_MS) {
      return; // focus is where someone put it (htmx keeps a control that has an id), or was let go of
    }
    if (document.documentElement.contains(memory.element) && tryFocus(memory.element)) {
      return; // nothing was swapped (a refusal said elsewhere, an unchanged poll): the control is back
    }
    for (var i = 0; i < memory.ids.length; i++) {
      var around = document.getElementById(memory.ids[i]);
      if (!around) {
        continue;
      }
      var same = sameControlIn(around, memory);
      if (same && tryFocus(same)) {
        return;
      }
      if (around.matches(SELF_FOCUS) && tryFocus(around)) {
        return;
      }
      var heading = around.querySelector("h1, h2, h3, h4");
      if (heading && tryFocus(heading)) {
        return;
      }
      if (tryFocus(around)) {
        return;
      }
    }
  }

  // After any swap has settled (htmx puts the new attributes back then), and after an answer that was not swapped
  // (the control is enabled again): whatever request it was, a live refresh included.
  document.addEventListener("htmx:afterSettle", restore);
  document.addEventListener("htmx:afterRequest", restore);

  // --- words -----------------------------------------------------------------------------------------------------

  var clearing = null;

  function say(message) {
    var region = document.getElementById("announcer");
    if (!region || !message) {
      return;
    }
    // Emptied first and filled a moment later, so the same words twice are said twice.
    region.textContent = "";
    window.clearTimeout(clearing);
    clearing = window.setTimeout(function () {
      region.textContent = message;
    }, 100);
  }

  document.addEventListener("announce", function (event) {
    say(event.detail && event.detail.message);
  });
  window.housePointsSay = say;
})();
