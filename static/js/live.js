// Live pages without a live stream: while no Server-Sent Events stream is open (no Redis, the stream refused or
// broken), fire `livePoll` on <body> every few seconds; every live widget listens for it as well as for its SSE
// events. Polls send the fragment's last ETag (If-None-Match), so an unchanged fragment costs a bodiless 304 and
// no swap. When a stream (re)opens after a break, one poll catches up with what was missed meanwhile. Every htmx
// request no person made is marked X-Background-Request, so it never keeps a kid's turn on the tablet going.
(function () {
  "use strict";
  if (window.housePointsLive) {
    return;
  }
  window.housePointsLive = true;

  var POLL_MS = 2000;
  var GRACE_MS = 3000; // a page with a stream gives it this long to open before polling
  var started = Date.now();
  var streaming = false;
  var broken = false;
  var etags = {};

  document.addEventListener("htmx:sseOpen", function () {
    streaming = true;
    if (broken) {
      broken = false;
      poll();
    }
  });
  ["htmx:sseError", "htmx:sseClose"].forEach(function (name) {
    document.addEventListener(name, function () {
      streaming = false;
      broken = true;
    });
  });

  function poll() {
    if (document.hidden || !window.htmx || !document.body) {
      return;
    }
    htmx.trigger(document.body, "livePoll");
  }

  window.setInterval(function () {
    if (streaming) {
      return;
    }
    if (!broken && document.querySelector("[sse-connect]") && Date.now() - started < GRACE_MS) {
      return;
    }
    poll();
  }, POLL_MS);
  // Back to a hidden tab: catch up at once.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !streaming) {
      poll();
    }
  });

  function etagKey(detail) {
    var elt = detail.elt || (detail.requestConfig && detail.requestConfig.elt);
    return (elt && elt.id ? elt.id : "") + " " + (detail.path || (detail.requestConfig && detail.requestConfig.path));
  }

  function isPoll(detail) {
    var cause = detail.triggeringEvent;
    return Boolean(cause && cause.type === "livePoll");
  }

  // Offline: say so (the service worker shows the last saved wall or today view); back online, catch up at once.
  function showConnection() {
    var banner = document.querySelector("[data-offline-banner]");
    if (banner) {
      banner.hidden = navigator.onLine;
    }
  }
  window.addEventListener("offline", showConnection);
  window.addEventListener("online", function () {
    showConnection();
    poll();
  });
  document.addEventListener("htmx:load", showConnection);
  if (document.readyState !== "loading") {
    showConnection();
  } else {
    document.addEventListener("DOMContentLoaded", showConnection);
  }
  // The family site is installable: its service worker (scope: the whole family host) keeps pages for offline.
  if ("serviceWorker" in navigator && document.querySelector('link[rel="manifest"]')) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }

  // A request no person made (a poll, a refresh after a live event or an HX-Trigger event, a widget loading
  // itself) says so: the server does not count it as a kid still being at the family tablet (app/auth).
  function isBackground(detail) {
    var cause = detail.triggeringEvent;
    return !(cause && cause.isTrusted);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    if (isBackground(detail)) {
      detail.headers["X-Background-Request"] = "1";
    }
    if (detail.verb === "get" && isPoll(detail)) {
      var etag = etags[etagKey(detail)];
      if (etag) {
        detail.headers["If-None-Match"] = etag;
      }
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    var config = detail.requestConfig;
    if (!config || config.verb !== "get" || !detail.xhr) {
      return;
    }
    var etag = detail.xhr.getResponseHeader("ETag");
    if (etag && detail.xhr.status === 200) {
      etags[(config.elt && config.elt.id ? config.elt.id : "") + " " + config.path] = etag;
    }
  });
})();
