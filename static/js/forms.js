// Forms on every page: a failed submission that htmx does not swap still says something; the sign-up page's
// small helpers (no inline script: the content
// security policy allows only our own files).
(function () {
  "use strict";
  if (window.housePointsForms) {
    return;
  }
  window.housePointsForms = true;

  // A form marked data-request-error shows its hidden .request-error notice when its answer is not swapped.
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-request-error]");
    var notice = form && form.querySelector(".request-error");
    if (!notice) {
      return;
    }
    // The page put both messages on the notice in its own language (data-too-many, data-failed).
    notice.textContent = event.detail.xhr.status === 429
      ? (notice.dataset.tooMany || "Too many tries from here. Please wait a minute, then try again.")
      : (notice.dataset.failed || "Something went wrong on our side. Please try again.");
    notice.hidden = false;
  });

  // A field marked data-marks-touched="#id" sets that hidden input once the person types in it (the sign-up
  // address stops following the family name).
  document.addEventListener("input", function (event) {
    var field = event.target;
    var selector = field && field.getAttribute && field.getAttribute("data-marks-touched");
    var marker = selector && document.querySelector(selector);
    if (marker) {
      marker.value = "1";
    }
  });

  // Phones fold the menu behind a "Menu" button; the button shows only once this script runs (without it the
  // menu simply stays open). On phones the "More" group is always open inside the folded menu.
  function setUpMenu() {
    var toggle = document.querySelector(".menu-toggle");
    var bar = toggle && toggle.closest(".topbar");
    if (!bar || bar.classList.contains("menu-ready") || !document.querySelector("#site-nav .nav-link")) {
      return;
    }
    bar.classList.add("menu-ready");
    toggle.hidden = false;
    var more = bar.querySelector(".nav-more");
    var phone = window.matchMedia("(max-width: 760px)");
    function fit() {
      if (more) {
        more.open = phone.matches;
      }
    }
    fit();
    phone.addEventListener("change", fit);
    toggle.addEventListener("click", function () {
      var open = !bar.classList.contains("menu-open");
      bar.classList.toggle("menu-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // The desktop's "More" closes when the person clicks elsewhere or presses Escape.
  document.addEventListener("click", function (event) {
    var more = document.querySelector(".nav-more[open]");
    if (more && !more.contains(event.target) && !window.matchMedia("(max-width: 760px)").matches) {
      more.open = false;
    }
  });
  document.addEventListener("keydown", function (event) {
    var more = document.querySelector(".nav-more[open]");
    if (event.key === "Escape" && more && !window.matchMedia("(max-width: 760px)").matches) {
      more.open = false;
      more.querySelector("summary").focus();
    }
  });

  // Preselect this browser's time zone on a fresh sign-up form; the parent can still change it.
  function guessTimezone() {
    var select = document.querySelector("select[data-guess-from-browser]");
    if (!select) {
      return;
    }
    select.removeAttribute("data-guess-from-browser");
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) {
        select.selectedIndex = i;
        break;
      }
    }
  }
  function setUp() {
    guessTimezone();
    setUpMenu();
  }
  document.addEventListener("htmx:load", setUp);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
