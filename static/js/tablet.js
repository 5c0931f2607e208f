// The family tablet: the on-screen PIN keypad and the idle timer that ends a kid's turn.
// Loaded on every family page of the accounts area (a no-op elsewhere); listeners are delegated to the document,
// so pages swapped in by htmx need no re-binding, and loading the file twice changes nothing.
(function () {
  "use strict";
  if (window.housePointsTablet) {
    window.housePointsTablet.armIdleTimer();
    return;
  }

  var MIN_DOTS = 4;
  var idleTimer = null;

  function pinInput(keypad) {
    return keypad.querySelector("[data-pin-input]");
  }

  // Dots show how many digits were typed (never the digits): at least four slots, filled as the kid types.
  function showDots(keypad) {
    var typed = pinInput(keypad).value.length;
    var dots = keypad.querySelector("[data-pin-dots]");
    var status = keypad.querySelector("[data-pin-status]");
    if (dots) {
      dots.replaceChildren();
      for (var i = 0; i < Math.max(MIN_DOTS, typed); i++) {
        var dot = document.createElement("span");
        dot.className = i < typed ? "pin-dot filled" : "pin-dot";
        dots.appendChild(dot);
      }
    }
    if (status) {
      status.textContent = typed === 0 ? "No digits typed" : typed + (typed === 1 ? " digit typed" : " digits typed");
    }
  }

  function press(keypad, key) {
    var input = pinInput(keypad);
    var maxLength = parseInt(keypad.dataset.maxLength || "6", 10);
    if (key === "back") {
      input.value = input.value.slice(0, -1);
    } else if (/^[0-9]$/.test(key) && input.value.length < maxLength) {
      input.value += key;
    }
    showDots(keypad);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-key]");
    var keypad = button && button.closest("[data-keypad]");
    if (keypad) {
      press(keypad, button.dataset.key);
    }
  });

  // A keyboard is never needed, but one that is there works too.
  document.addEventListener("keydown", function (event) {
    var keypad = document.querySelector("[data-keypad]");
    if (!keypad || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (/^[0-9]$/.test(event.key)) {
      press(keypad, event.key);
    } else if (event.key === "Backspace") {
      press(keypad, "back");
    } else {
      return;
    }
    event.preventDefault();
  });

  // After the server-set number of seconds without a touch during a kid's turn, end the turn (back to the wall).
  function armIdleTimer() {
    window.clearTimeout(idleTimer);
    idleTimer = null;
    var root = document.querySelector("[data-idle-seconds]");
    if (!root) {
      return;
    }
    var seconds = parseInt(root.dataset.idleSeconds, 10);
    var form = document.getElementById(root.dataset.idleForm);
    if (!form || !(seconds > 0)) {
      return;
    }
    idleTimer = window.setTimeout(function () {
      form.submit();
    }, seconds * 1000);
  }

  ["pointerdown", "touchstart", "keydown", "wheel"].forEach(function (name) {
    document.addEventListener(name, armIdleTimer, { passive: true });
  });
  document.addEventListener("htmx:load", armIdleTimer);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", armIdleTimer);
  } else {
    armIdleTimer();
  }

  window.housePointsTablet = { armIdleTimer: armIdleTimer };
})();
