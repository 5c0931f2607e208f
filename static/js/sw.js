// The family tablet's service worker (served as /sw.js so its scope is the whole family site): our own static
// files from the cache, and the wall and the kid's today view from the network when it answers, else from their
// last good copy, so the tablet still shows the day while offline (the page says so with a banner); any other page
// opened offline gets a small page saying so, with a link to the wall.
"use strict";
// v2: static files are now pruned per path; the new name drops v1's cache, grown with every deploy's fingerprints.
var CACHE = "housepoints-v2";
var OFFLINE_PAGES = ["/wall", "/me", "/tablet"];
// Ending a turn ("I'm done", the idle timer that presses it) or a sign-out: the pages kept during the turn (the
// kid's own chores and points, the wall saying who is signed in) are forgotten, so the next kid, offline, never
// sees them; the picker the tablet goes back to is kept again as it loads.
var TURN_ENDS = ["/tablet/done", "/logout", "/account/sign-out-everywhere"];

// A page opened offline that the worker has no copy of (the kid's page after the turn ended, any other page) gets
// this small page instead of the browser's own error: it says so and links to the family wall. Kept at install.
var OFFLINE_FALLBACK = "/offline";

self.addEventListener("install", function (event) {
  self.skipWaiting();
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.add(new Request(OFFLINE_FALLBACK, { cache: "reload" }));
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE; }).map(function (name) {
      return caches.delete(name);
    }));
  }).then(function () { return self.clients.claim(); }));
});

function storable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

// Kept before the answer goes to the page, so what the page sees next (offline, or in a test) is already there.
function remember(request, response) {
  if (!storable(response)) {
    return Promise.resolve(response);
  }
  var copy = response.clone();
  return caches.open(CACHE).then(function (cache) {
    return cache.put(request, copy);
  }).then(function () { return response; }, function () { return response; });
}

// A static file's URL carries its content's fingerprint (?v=, app/assets.py): a deploy gives the same path a new
// one, so storing it drops the copies of that path under any other fingerprint (else the cache grows each deploy).
function rememberStatic(request, response) {
  if (!storable(response)) {
    return Promise.resolve(response);
  }
  var url = new URL(request.url);
  var copy = response.clone();
  return caches.open(CACHE).then(function (cache) {
    return cache.keys(url.origin + url.pathname, { ignoreSearch: true }).then(function (kept) {
      return Promise.all(kept.filter(function (old) { return old.url !== request.url; }).map(function (old) {
        return cache.delete(old);
      }));
    }).then(function () { return cache.put(request, copy); });
  }).then(function () { return response; }, function () { return response; });
}

function offlineFallback() {
  return caches.match(OFFLINE_FALLBACK).then(function (hit) {
    return hit || Response.error();
  });
}

function forgetTurn() {
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(OFFLINE_PAGES.map(function (path) {
      return cache.delete(new URL(path, self.location.origin).href, { ignoreSearch: true });
    }));
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method === "POST" && TURN_ENDS.indexOf(url.pathname) !== -1) {
    // A form's navigation or htmx's boosted request alike; forgotten before the request leaves (and even when it
    // cannot: an offline "I'm done", which the idle timer presses too, still ends the copy, and shows the offline
    // page with its way back to the wall).
    var leaving = forgetTurn().catch(function () {}).then(function () { return fetch(request); });
    event.respondWith(request.mode === "navigate" ? leaving.catch(offlineFallback) : leaving);
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) { return rememberStatic(request, response); });
    }));
    return;
  }
  if (request.mode !== "navigate") {
    return;
  }
  if (OFFLINE_PAGES.indexOf(url.pathname) !== -1) {
    event.respondWith(fetch(request).then(function (response) {
      if (url.pathname === "/me" && response.type === "opaqueredirect") {
        // The server sent the kid's page elsewhere: the turn is over (ended by the server's idle time).
        return forgetTurn().catch(function () {}).then(function () { return response; });
      }
      return remember(request, response);
    }).catch(function () {
      return caches.match(request).then(function (hit) {
        return hit || offlineFallback();
      });
    }));
    return;
  }
  event.respondWith(fetch(request).catch(offlineFallback));
});
