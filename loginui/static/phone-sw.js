// mfagate phone service worker. Served at /phone/sw.js (scope /phone/),
// where the server puts `'use strict'; self.MFAGATE_ISSUER = "…";` before
// this file. It
// shows a notification for each sign-in request pushed to the phone (the
// payload is {request, text}: the request id and a short text, never the
// number to type) and tells open phone pages to look for the request now.
// A notice (payload {notice: true, text}: the account was recovered with a
// recovery code or a Temporary Access Pass) is shown as a notification
// only: there is nothing to answer.
'use strict';

var MFAGATE_TITLE = self.MFAGATE_ISSUER || 'Sign-in request';

self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

// tellPages asks every open phone page to check for a request now.
function tellPages(request) {
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (list) {
    list.forEach(function (client) {
      client.postMessage({ type: 'mfagate-push', request: request });
    });
  });
}

self.addEventListener('push', function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  if (!data || typeof data !== 'object') data = {};
  if (data.notice === true) {
    var notice = typeof data.text === 'string' && data.text ? data.text : 'Your account was recovered.';
    event.waitUntil(self.registration.showNotification(MFAGATE_TITLE, {
      body: notice,
      tag: 'recovery-notice',
      icon: '/phone/icon-192.png',
      data: { notice: true }
    }));
    return;
  }
  var request = typeof data.request === 'string' ? data.request : '';
  var text = typeof data.text === 'string' && data.text ? data.text : 'Sign-in request: open to answer it';
  // Every push must show a notification (Safari revokes the subscription
  // of a worker that does not).
  event.waitUntil(Promise.all([
    self.registration.showNotification(MFAGATE_TITLE, {
      body: text,
      tag: 'signin',
      renotify: true,
      icon: '/phone/icon-192.png',
      data: { request: request }
    }),
    tellPages(request)
  ]));
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var request = (event.notification.data && event.notification.data.request) || '';
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      var client = list[i];
      if (new URL(client.url).pathname === '/phone/' && 'focus' in client) {
        client.postMessage({ type: 'mfagate-push', request: request });
        return client.focus();
      }
    }
    return self.clients.openWindow('/phone/');
  }));
});
