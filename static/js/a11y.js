// Keyboard and screen reader users after an in-place htmx swap, on every page.
// Focus: an answer that replaces the element that had focus (the "Approve" button inside the card it swaps) would
// drop focus to <body>. After the request, if focus was lost, it goes back to the same control when the new content
// still has it (a live refresh), else to the nearest thing that was around it and is still there (the chore's row,
// its card; focusable with tabindex="-1"), else that card's heading.
// Words: the server says what an action did with an HX-Trigger `announce` event ({"message": "…"}, app/htmx.py);
// it is said in the page's polite status region (#announcer in base.html), so a screen reader hears
// "Approved: Dishes — 10 points to Maya" while the card changes silently.
(function () {
  "use strict";
  if (window.housePointsA11y) {
    return;
  }
  window.housePointsA11y = true;

  var remembered = new WeakMap(); // xhr → where focus was when its request started
  var SELF_FOCUS = "li, article, tr, [data-focus-self]";

  function labelOf(element) {
    return element.tagName + "|" + (element.getAttribute("aria-label") || element.textContent || "").trim() + "|" +
      (element.getAttribute("name") || "") + "|" + (element.getAttribute("href") || "");
  }

  // Focus was on this element: remember it and the ids of the elements around it, nearest first.
  function memoryOf(active) {
    var ids = [];
    for (var node = active; node && node !== document.body; node = node.parentElement) {
      if (node.id) {
        ids.push(node.id);
      }
    }
    return { element: active, label: labelOf(active), ids: ids };
  }

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
    element.focus({ preventScroll: false });
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

  function restore(memory) {
    if (!lost()) {
      return; // focus is where someone put it (or htmx kept it: the control had an id)
    }
    if (document.documentElement.contains(memory.element) && tryFocus(memory.element)) {
      return; // nothing was swapped (a refusal said elsewhere, an unchanged poll)
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

  document.addEventListener("htmx:beforeRequest", function (event) {
    var active = document.activeElement;
    if (event.detail.xhr && active && active !== document.body) {
      remembered.set(event.detail.xhr, memoryOf(active));
    }
  });
  function finish(event, swapped) {
    var xhr = event.detail.xhr;
    var memory = xhr && remembered.get(xhr);
    if (memory && Boolean(memory.swapped) === swapped) {
      remembered.delete(xhr); // htmx may say an event twice (on the element, then on a parent still there)
      restore(memory);
    }
  }
  // A swap is finished once it settled (htmx puts the new attributes back then); an answer not swapped at once.
  document.addEventListener("htmx:afterSwap", function (event) {
    var memory = event.detail.xhr && remembered.get(event.detail.xhr);
    if (memory) {
      memory.swapped = true;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    finish(event, true);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    finish(event, false);
  });

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
