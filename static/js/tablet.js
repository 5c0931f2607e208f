// The family tablet: the on-screen PIN keypad, the idle timer that ends a kid's turn, and the kid's chore cards
// (the points counter that counts up, failures said on the card tapped, a photo that is too big caught early).
// Loaded on every family page of the accounts area (a no-op elsewhere); listeners are delegated to the document,
// so pages swapped in by htmx need no re-binding, and loading the file twice changes nothing.
(function () {
  "use strict";
  if (window.housePointsTablet) {
    window.housePointsTablet.armIdleTimer();
    return;
  }

  var MIN_DOTS = 4;

  // What the script says on its own, in the page's language (base.html's #script-words; English if missing).
  function say(name, english) {
    var words = document.getElementById("script-words");
    return (words && words.dataset[name]) || english;
  }
  var idleTimer = null;
  var idleRoot = null;

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
      // The page gives the words in its language: data-none, data-of ("{n} of {min}") and data-many ("{n}").
      var words = status.dataset;
      status.textContent = typed === 0 ? (words.none || "No digits entered yet")
        : typed <= MIN_DOTS
          ? (words.of || "{n} of {min} digits entered").replace("{n}", typed).replace("{min}", MIN_DOTS)
          : (words.many || "{n} digits entered").replace("{n}", typed);
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

  // The keys come disabled (templates/tablet/keypad.html): a tap before this script listens would be lost, and an
  // early OK would send an empty PIN that counts towards the lockout. Listening now: they work.
  function readyKeypads() {
    document.querySelectorAll("[data-keypad] button[disabled]").forEach(function (button) {
      button.disabled = false;
    });
  }
  document.addEventListener("htmx:load", readyKeypads);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", readyKeypads);
  } else {
    readyKeypads();
  }

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

  // After the family's number of seconds without a touch during a kid's turn, end the turn (back to the wall);
  // the last COUNTDOWN seconds are counted down on the turn bar, and any touch starts the time again.
  var COUNTDOWN = 10;
  var countdownTimer = null;

  function countdownNote() {
    return idleRoot && idleRoot.querySelector("[data-idle-countdown]");
  }

  function stopCountdown() {
    window.clearInterval(countdownTimer);
    countdownTimer = null;
    var note = countdownNote();
    if (note) {
      note.hidden = true;
      note.textContent = "";
    }
  }

  function startCountdown(form) {
    var left = COUNTDOWN;
    var note = countdownNote();
    function tick() {
      if (left <= 0) {
        stopCountdown();
        form.submit();
        return;
      }
      if (note) {
        note.hidden = false;
        // The page gives the words in its language: data-one and data-many ("{n}" is the seconds left).
        var template = left === 1 ? note.dataset.one : note.dataset.many;
        note.textContent = template ? template.replace("{n}", left) : "Still there? Your turn ends in " + left +
          (left === 1 ? " second." : " seconds.") + " Touch the screen to stay.";
      }
      left -= 1;
    }
    tick();
    countdownTimer = window.setInterval(tick, 1000);
  }

  function armIdleTimer() {
    window.clearTimeout(idleTimer);
    idleTimer = null;
    stopCountdown();
    var root = document.querySelector("[data-idle-seconds]");
    idleRoot = root;
    if (!root) {
      return;
    }
    var seconds = parseInt(root.dataset.idleSeconds, 10);
    var form = document.getElementById(root.dataset.idleForm);
    if (!form || !(seconds > 0)) {
      return;
    }
    idleTimer = window.setTimeout(function () {
      startCountdown(form);
    }, Math.max(0, seconds - COUNTDOWN) * 1000);
  }

  // The server ends the turn too, after the same idle time without a request from the kid (app/auth; polls and
  // live refreshes do not count). A touch that asks for nothing (scrolling, reading a reward) tells it "still
  // here", at most every STILL_HERE_MS; the kid's own requests tell it by themselves. An ended turn goes back to
  // the picker, which says why.
  var STILL_HERE_MS = 5000;
  var lastTold = Date.now(); // this page's own load

  document.addEventListener("htmx:configRequest", function (event) {
    var cause = event.detail.triggeringEvent;
    if (cause && cause.isTrusted) {
      lastTold = Date.now();
    }
  });

  function tellStillHere() {
    var bar = document.querySelector("[data-still-here]");
    if (!bar || Date.now() - lastTold < STILL_HERE_MS || !window.fetch) {
      return;
    }
    lastTold = Date.now();
    window.fetch(bar.dataset.stillHere, { credentials: "same-origin", cache: "no-store",
                                          headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401 && bar.dataset.picker) {
          window.location.assign(bar.dataset.picker);
        }
      })
      .catch(function () { /* offline: the turn is the browser's to end */ });
  }

  function touched() {
    armIdleTimer();
    tellStillHere();
  }

  ["pointerdown", "touchstart", "keydown", "wheel"].forEach(function (name) {
    document.addEventListener(name, touched, { passive: true });
  });
  // New content re-arms the timer only when it brought a new page: live refreshes of a widget (a parent approved,
  // the bell rang) are not the kid touching the tablet, so they must not keep a forgotten turn open.
  document.addEventListener("htmx:load", function () {
    if (idleTimer === null || document.querySelector("[data-idle-seconds]") !== idleRoot) {
      armIdleTimer();
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", armIdleTimer);
  } else {
    armIdleTimer();
  }

  // --- the kid's chore cards -------------------------------------------------------------------------------------

  var COUNT_MS = 700;

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  // Count the points shown from `from` up (or down) to `to`.
  function animateCounter(counter, from, to) {
    if (!counter || isNaN(from) || isNaN(to) || from === to || reducedMotion()) {
      if (counter && !isNaN(to)) {
        counter.textContent = String(to);
      }
      return;
    }
    var started = null;
    counter.classList.add("counting");
    function step(now) {
      if (started === null) {
        started = now;
      }
      var progress = Math.min(1, (now - started) / COUNT_MS);
      var eased = 1 - Math.pow(1 - progress, 3);
      counter.textContent = String(Math.round(from + (to - from) * eased));
      if (progress < 1) {
        window.requestAnimationFrame(step);
      } else {
        counter.classList.remove("counting");
      }
    }
    window.requestAnimationFrame(step);
  }

  // The server answers a tap with HX-Trigger {"pointsChanged": {"points": <new balance>}}.
  document.addEventListener("pointsChanged", function (event) {
    var counter = document.querySelector("[data-points-counter]");
    var points = event.detail && parseInt(event.detail.points, 10);
    if (counter && !isNaN(points)) {
      animateCounter(counter, parseInt(counter.textContent, 10), points);
    }
  });

  // A live refresh of the stats (a parent approved) counts up from the number shown before.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var counter = target && target.querySelector && target.querySelector("[data-points-counter]");
    if (counter) {
      target.dataset.pointsBefore = counter.textContent;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.dataset && target.dataset.pointsBefore !== undefined) {
      var counter = target.querySelector("[data-points-counter]");
      var before = parseInt(target.dataset.pointsBefore, 10);
      delete target.dataset.pointsBefore;
      if (counter) {
        var after = parseInt(counter.textContent, 10);
        counter.textContent = String(before);
        animateCounter(counter, before, after);
      }
    }
  });

  // Any other failure (signed out, the server unreachable, a body over the limit) is said on the card tapped.
  function sayOnCard(element, message) {
    var card = element && element.closest && element.closest("[data-chore-card]");
    if (!card) {
      return;
    }
    var note = card.querySelector(".chore-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "chore-error";
      note.setAttribute("role", "alert");
      (card.querySelector(".chore-info") || card).appendChild(note);
    }
    note.textContent = message;
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    sayOnCard(event.detail.elt, status === 413 ? say("photoTooBig", "That photo is too big. Try again with a smaller one.")
      : status === 401 ? say("turnEnded", "Your turn has ended. Sign in again.") : say("failed", "That didn't work. Please try again."));
  });
  // Offline, a tap on a chore is kept on the tablet and sent when the connection returns; a photo chosen for it waits
  // in IndexedDB (localStorage holds only text) and goes with it, as the same form would have sent it. A replay is
  // harmless: the server completes an assignment once, and answers a repeat by the same kid with the card as it is
  // (no second credit, the first photo kept); the Idempotency-Key names the tap.
  // A kept tap is its kid's: it records whose page it was tapped on and is sent only while that kid is signed in on
  // the tablet again (this page's "Signed in as", data-member-id), naming them (X-Tapped-By: the server refuses it with
  // 403 for anyone else). Offline longer than the turn's idle time, the kid's turn has ended on the server: the tap
  // waits for the kid's next turn instead of being lost, and never goes to a sibling signed in meanwhile.
  // It counts for the family's day it was tapped on (the kid's page, data-family-day): once a page shows a later day,
  // that day's chores are over (done, or missed by the server) and a tap still waiting is dropped unsent.
  var QUEUE_KEY = "housepoints.offlineTaps";
  var PHOTO_DB = "housepoints-offline";
  var PHOTO_STORE = "photos";
  var replaying = false;

  function queuedTaps() {
    try {
      return JSON.parse(window.localStorage.getItem(QUEUE_KEY) || "[]");
    } catch (e) {
      return [];
    }
  }

  function keepTaps(taps) {
    try {
      window.localStorage.setItem(QUEUE_KEY, JSON.stringify(taps));
    } catch (e) { /* private mode: the tap is lost, as it would be without a queue */ }
  }

  // The member this page was rendered for (null: nobody signed in).
  function signedInMember() {
    var who = document.querySelector("[data-member-id]");
    return who ? who.dataset.memberId : null;
  }

  // The family's day an element's page shows (YYYY-MM-DD), else null.
  function familyDay(element) {
    var shown = (element && element.closest && element.closest("[data-family-day]")) ||
      document.querySelector("[data-family-day]");
    return shown ? shown.dataset.familyDay : null;
  }

  // The tablet's own date: only for a tap on a page that does not show the family's day.
  function tabletDay() {
    var now = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" + two(now.getDate());
  }

  // Sent only during its own kid's turn (a tap kept before taps named their kid: during anyone's).
  function tapOfThisPage(tap) {
    var who = signedInMember();
    return Boolean(who) && (!tap.member || tap.member === who);
  }

  // One request on the store of waiting photos (keyed by the tap's key), resolved with its result once committed.
  function withPhotos(mode, act) {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) {
        reject(new Error("no IndexedDB"));
        return;
      }
      var opening = window.indexedDB.open(PHOTO_DB, 1);
      opening.onupgradeneeded = function () { opening.result.createObjectStore(PHOTO_STORE); };
      opening.onerror = function () { reject(opening.error); };
      opening.onsuccess = function () {
        var db = opening.result;
        var done = db.transaction(PHOTO_STORE, mode);
        var request = act(done.objectStore(PHOTO_STORE));
        done.oncomplete = function () { db.close(); resolve(request.result); };
        done.onerror = done.onabort = function () { db.close(); reject(done.error); };
      };
    });
  }

  function forgetPhoto(tap) {
    return tap.photo ? withPhotos("readwrite", function (store) { return store.delete(tap.key); })
      .catch(function () {}) : Promise.resolve();
  }

  // Taps from a day before the one this page shows are over: dropped with their photos.
  function dropPastDays() {
    var today = familyDay(null);
    var taps = queuedTaps();
    var past = taps.filter(function (tap) { return today && tap.day && tap.day < today; });
    if (past.length) {
      keepTaps(taps.filter(function (tap) { return past.indexOf(tap) === -1; }));
      past.forEach(forgetPhoto);
    }
  }

  // The current page's CSRF token (a new turn has a new session): the tap's own is only the fallback.
  function csrfToken(tap) {
    var field = document.querySelector("input[name=csrf_token]");
    return (field && field.value) || tap.csrf;
  }

  // The tap's body: its CSRF token, and its photo when it has one (null: the photo is gone, nothing left to send).
  function tapBody(tap, csrf) {
    if (!tap.photo) {
      return Promise.resolve(new URLSearchParams({ csrf_token: csrf }));
    }
    return withPhotos("readonly", function (store) { return store.get(tap.key); }).then(function (file) {
      if (!file) {
        return null;
      }
      var form = new FormData();
      form.append("csrf_token", csrf);
      form.append("photo", file, file.name || "photo.jpg");
      return form;
    });
  }

  // Over for good for its kid: done (2xx), refused for this chore (a 4xx that brings the card back in place, HX-Retarget:
  // already done, missed, not open yet), gone (404: another kid gets 403 first) or its photo too big (413). Signed out
  // (401), someone else (403), a token refused (400 without a card), too many taps (429), 5xx: kept for next time.
  function answeredForGood(response) {
    var status = response.status;
    return (status >= 200 && status < 300) || status === 404 || status === 413 ||
      (status >= 400 && status < 500 && response.headers.has("HX-Retarget"));
  }

  // Resolves with the server's status once it answered the tap for good, -status when it is kept (0: no answer).
  function sendTap(tap) {
    var csrf = csrfToken(tap);
    return tapBody(tap, csrf).then(function (body) {
      if (body === null) {
        return 200;
      }
      var headers = { "HX-Request": "true", "X-CSRFToken": csrf, "Idempotency-Key": tap.key };
      if (tap.member) {
        headers["X-Tapped-By"] = tap.member;
      }
      return window.fetch(tap.action, { method: "POST", credentials: "same-origin", body: body, headers: headers })
        .then(function (response) { return answeredForGood(response) ? response.status : -response.status; });
    }).catch(function () {
      return 0;
    });
  }

  // "Saved on the tablet" on each card whose tap is still waiting (after a reload, or a refresh of the cards).
  function showWaitingTaps() {
    dropPastDays();
    queuedTaps().filter(tapOfThisPage).forEach(function (tap) {
      var forms = document.querySelectorAll("form.chore-action");
      for (var i = 0; i < forms.length; i++) {
        if (forms[i].getAttribute("action") === tap.action) {
          sayOnCard(forms[i], say("savedOffline", "Saved on the tablet. It will be sent when the connection is back."));
        }
      }
    });
  }

  function replayTaps() {
    dropPastDays();
    var taps = queuedTaps().filter(tapOfThisPage);
    if (replaying || !taps.length || !navigator.onLine) {
      return;
    }
    replaying = true;
    var turnOver = false;
    Promise.all(taps.map(sendTap)).then(function (answers) {
      var sent = taps.filter(function (tap, i) { return answers[i] > 0; }).map(function (tap) { return tap.key; });
      turnOver = answers.indexOf(-401) !== -1;
      keepTaps(queuedTaps().filter(function (tap) { return sent.indexOf(tap.key) === -1; }));
      return Promise.all(taps.filter(function (tap) { return sent.indexOf(tap.key) !== -1; }).map(forgetPhoto));
    }).catch(function () { /* what was not sent stays queued */ }).then(function () {
      replaying = false;
      var bar = document.querySelector("[data-still-here]");
      if (turnOver && bar && bar.dataset.picker) {
        // The server ended this turn while the tablet was offline: the tap waits for the kid's next one.
        window.location.assign(bar.dataset.picker);
      } else if (window.htmx && document.body) {
        htmx.trigger(document.body, "livePoll");
      }
    });
  }

  // Keep a tap (and its photo first: a tap whose photo could not be kept is not queued at all).
  function queueTap(form, csrf) {
    var action = form.getAttribute("action");
    var input = form.classList.contains("with-photo") ? form.querySelector("input[type=file]") : null;
    var file = input && input.files && input.files[0];
    if (input && !file) {
      return Promise.reject(new Error("no photo"));
    }
    var tap = { action: action, csrf: csrf, key: action + "@" + Date.now(), photo: Boolean(file),
                member: signedInMember(), day: familyDay(form) || tabletDay() };
    var kept = file ? withPhotos("readwrite", function (store) { return store.put(file, tap.key); })
      : Promise.resolve();
    return kept.then(function () {
      var taps = queuedTaps();
      keepTaps(taps.filter(function (old) { return old.action !== action; }).concat([tap]));
      taps.filter(function (old) { return old.action === action; }).forEach(forgetPhoto);
      if (input) {
        // The photo is safe on the tablet: an emptied picker lets the cards refresh when the tap has been sent.
        input.value = "";
        var picker = input.closest(".photo-picker");
        if (picker) {
          picker.classList.remove("chosen");
        }
      }
    });
  }

  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form.chore-action");
    var csrf = form && form.querySelector("[name=csrf_token]");
    var input = form && form.querySelector("input[type=file][data-max-bytes]");
    var file = input && input.files && input.files[0];
    if (file && file.size > parseInt(input.dataset.maxBytes, 10)) {
      // Never kept to be refused later: the kid can take a smaller one now.
      sayOnCard(form, say("photoTooBig", "That photo is too big. Try again with a smaller one."));
      return;
    }
    if (!form || !csrf) {
      sayOnCard(event.detail.elt, say("noConnection", "No connection. Please try again."));
      return;
    }
    queueTap(form, csrf.value).then(function () {
      sayOnCard(form, say("savedOffline", "Saved on the tablet. It will be sent when the connection is back."));
    }, function () {
      sayOnCard(form, say("noConnection", "No connection. Please try again."));
    });
  });
  window.addEventListener("online", replayTaps);
  // New content: its cards say which taps still wait; a page swapped in for a member (a boosted navigation) may be
  // the turn of a kid whose taps wait.
  document.addEventListener("htmx:load", function (event) {
    var content = event.target;
    showWaitingTaps();
    if (content && content.querySelector &&
        (content.matches("[data-member-id]") || content.querySelector("[data-member-id]"))) {
      replayTaps();
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showWaitingTaps);
  } else {
    showWaitingTaps();
  }
  replayTaps();

  // A photo over the limit is refused before it is sent (the server refuses it too).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) {
      return;
    }
    var limit = parseInt(input.dataset.maxBytes, 10);
    var file = input.files && input.files[0];
    var tooBig = file && file.size > limit;
    input.setCustomValidity(tooBig ? say("photoTooBig", "That photo is too big. Try again with a smaller one.") : "");
    var picker = input.closest(".photo-picker");
    if (picker) {
      picker.classList.toggle("chosen", Boolean(file) && !tooBig);
    }
    if (tooBig) {
      sayOnCard(input, say("photoTooBig", "That photo is too big. Try again with a smaller one."));
      input.reportValidity();
    }
  });

  // A live refresh of the cards waits while a photo is chosen but not yet sent, so the choice is not lost.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (!element.hasAttribute || !element.hasAttribute("data-keep-while-choosing")) {
      return;
    }
    var inputs = element.querySelectorAll("input[type=file]");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].files && inputs[i].files.length) {
        event.preventDefault();
        return;
      }
    }
  });

  window.housePointsTablet = { armIdleTimer: armIdleTimer };
})();
