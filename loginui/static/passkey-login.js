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
  if (!form || !window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
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

  // Base64url <-> ArrayBuffer (as webauthn.js has them; folded there at
  // merge).
  function toBuffer(s) {
    var b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) {
      b64 += '=';
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

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
      return res.json();
    }).then(function (o) {
      options = o;
      fetchedAt = Date.now();
      return o;
    });
  }

  // publicKey is the server's options with their binary fields decoded.
  function publicKey(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = toBuffer(pk.challenge);
    if (pk.allowCredentials) {
      pk.allowCredentials = pk.allowCredentials.map(function (c) {
        return Object.assign({}, c, { id: toBuffer(c.id) });
      });
    }
    return pk;
  }

  function encode(cred) {
    var r = cred.response;
    return JSON.stringify({
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {
        authenticatorData: toBase64url(r.authenticatorData),
        clientDataJSON: toBase64url(r.clientDataJSON),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : undefined
      }
    });
  }

  function submit(cred) {
    if (!cred) {
      return;
    }
    form.elements.credential.value = encode(cred);
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
      var req = { publicKey: publicKey(o) };
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
