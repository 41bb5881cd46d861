// mfagate sign-in portal: progressive enhancement only. Nothing here is
// needed to sign in.
(function () {
  'use strict';

  // Strip spaces from one-time-code fields before submitting ("123 456").
  var forms = document.querySelectorAll('form');
  Array.prototype.forEach.call(forms, function (form) {
    var code = form.querySelector('input[name="code"]');
    if (!code) return;
    form.addEventListener('submit', function () {
      code.value = code.value.replace(/\s+/g, '');
    });
  });

  // Copy buttons: <button data-copy="text" data-copy-what="password"
  // aria-describedby="status-id" hidden>; data-copy-what defaults to "key".
  function fallbackCopy(text) {
    var ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.className = 'visually-hidden';
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }

  var buttons = document.querySelectorAll('button[data-copy]');
  Array.prototype.forEach.call(buttons, function (btn) {
    var status = document.getElementById(btn.getAttribute('aria-describedby') || '');
    var timer;
    function say(msg) {
      if (!status) return;
      status.textContent = msg;
      clearTimeout(timer);
      timer = setTimeout(function () { status.textContent = ''; }, 4000);
    }
    btn.hidden = false;
    btn.addEventListener('click', function () {
      var text = btn.getAttribute('data-copy') || '';
      var what = btn.getAttribute('data-copy-what') || 'key';
      var done = function () { say(what.charAt(0).toUpperCase() + what.slice(1) + ' copied to clipboard.'); };
      var fail = function () {
        if (fallbackCopy(text)) { done(); } else { say('Copy failed. Select the ' + what + ' and copy it manually.'); }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fail);
      } else {
        fail();
      }
    });
  });

  // Sign-in approval: wait for the phone's answer without reloading, then
  // let the server complete (or explain) the sign-in. A denied request's
  // page keeps listening: the phone may still report it. Without JavaScript
  // the page refreshes itself instead. An answer with a message (a report:
  // the session has ended, so a reload would only show the login page) is
  // shown here instead, and the ways on ([data-approval-next]: checking
  // again, a verification code) go, as the blocked sign-in has none.
  var wait = document.querySelector('[data-approval-wait]');
  if (wait && window.fetch) {
    var url = wait.getAttribute('data-approval-wait');
    var done = wait.getAttribute('data-approval-done');
    // The state the page shows: pending, or denied (a report may follow).
    var shown = wait.getAttribute('data-approval-while') || 'pending';
    var ended = function (msg) {
      var alert = document.createElement('div');
      alert.className = 'alert';
      alert.setAttribute('role', 'alert');
      alert.textContent = msg;
      Array.prototype.forEach.call(document.querySelectorAll('[data-approval-next]'), function (el) {
        el.hidden = true;
      });
      var heading = document.querySelector('main h1');
      if (heading) heading.textContent = 'Sign-in blocked';
      wait.parentNode.replaceChild(alert, wait);
    };
    // A re-verification's page has no address to open: it submits its
    // check form, which posts the step's fields again.
    var finish = function () {
      var check = document.querySelector('form[data-approval-check]');
      if (!done && check) {
        check.submit();
      } else {
        window.location.replace(done);
      }
    };
    var poll = function () {
      fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
        if (!res.ok) throw new Error('status ' + res.status);
        return res.json();
      }).then(function (body) {
        if (body.status === shown) {
          poll();
        } else if (typeof body.message === 'string' && body.message) {
          ended(body.message);
        } else {
          finish();
        }
      }).catch(function () {
        setTimeout(finish, 2000);
      });
    };
    poll();
  }
}());
