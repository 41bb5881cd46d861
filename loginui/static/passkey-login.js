// Passwordless sign-in with a passkey on the login page (progressive
// enhancement: without WebAuthn or JavaScript the page is the password
// form alone). The options come from a POST to the form's data-options
// URL: a fresh challenge, which the server keeps only in a short-lived
// cookie (an anonymous page view stores nothing). When the browser can
// suggest passkeys in the username field (conditional mediation:
// autocomplete="username webauthn") a quiet request waits there; the
// "Sign in with a passkey" button asks at once. The authenticator's answer
// is posted with the form (field credential), so the server answers with
// a page or a redirect as for the password.
(function () {
  'use strict';

  var form = document.getElementById('passkey-form');
  var wa = window.mfagateWebAuthn; // webauthn.js, loaded before this
  if (!form || !wa || !wa.supported() || !window.fetch) {
    return;
  }
  var button = document.getElementById('passkey-button');
  var status = document.getElementById('passkey-status');
  var optionsURL = form.getAttribute('data-options');
  // Options are reused while their challenge is fresh (the cookie lives 5
  // minutes), so a click asks the authenticator without a round trip first.
  var freshFor = 4 * 60 * 1000;
  var options = null;
  var fetchedAt = 0;
  var waiting = null; // the AbortController of the conditional request

  function getOptions() {
    if (options && Date.now() - fetchedAt < freshFor) {
      return Promise.resolve(options);
    }
    return fetch(optionsURL, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' }
    }).then(function (res) {
      if (!res.ok) {
        throw new Error('options: ' + res.status);
      }
      return res.text();
    }).then(function (o) {
      options = o;
      fetchedAt = Date.now();
      return o;
    });
  }

  function submit(cred) {
    if (!cred) {
      return;
    }
    form.elements.credential.value = JSON.stringify(wa.toJSONGet(cred));
    status.textContent = 'Signing in…';
    form.submit();
  }

  function stopWaiting() {
    if (waiting) {
      waiting.abort();
      waiting = null;
    }
  }

  // ask asks the authenticator: quietly in the username field
  // (conditional), or at once.
  function ask(conditional) {
    return getOptions().then(function (o) {
      var req = { publicKey: wa.decodeGetOptions(o) }; // o: the JSON text, decoded afresh each time
      if (conditional) {
        waiting = new AbortController();
        req.mediation = 'conditional';
        req.signal = waiting.signal;
      }
      return navigator.credentials.get(req);
    }).then(submit);
  }

  button.addEventListener('click', function () {
    stopWaiting();
    status.textContent = '';
    button.disabled = true;
    ask(false).catch(function (err) {
      if (err && err.name === 'AbortError') {
        return;
      }
      status.textContent = 'No passkey was used. Try again, or sign in with your password.';
    }).then(function () {
      button.disabled = false;
    });
  });
  form.hidden = false;

  if (PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (ok) {
        return ask(true);
      }
      return null;
    }).catch(function () {
      // Dismissed, aborted by the button, or unavailable: the button stays.
    });
  }
}());
