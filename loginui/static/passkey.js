// mfagate: the passkey ceremonies of the sign-in's passkey step and of
// Security info's "Passkey or security key" (needs webauthn.js first).
//
// <form data-passkey="get|create" data-passkey-options="URL" method="post">
//   <input type="hidden" name="response">
//   <button type="button" data-passkey-start>…</button>
//   <p data-passkey-status role="alert"></p>
// </form>
// The button fetches the options (POST, same origin; the form's other
// fields, such as the passkey's name, are sent along), asks the browser,
// puts the answer in the hidden field and submits the form.
(function () {
  'use strict';
  var wa = window.mfagateWebAuthn;
  var forms = document.querySelectorAll('form[data-passkey]');
  Array.prototype.forEach.call(forms, function (form) {
    var ceremony = form.getAttribute('data-passkey');
    var button = form.querySelector('[data-passkey-start]');
    var status = form.querySelector('[data-passkey-status]');
    var answer = form.querySelector('input[name="response"]');
    if (!button || !answer) return;
    button.hidden = false;
    function say(msg) {
      if (!status) return;
      status.textContent = msg;
      status.hidden = !msg;
    }
    if (!wa || !wa.supported()) {
      button.disabled = true;
      say('This browser does not support passkeys or security keys.');
      return;
    }
    button.addEventListener('click', function () {
      button.disabled = true;
      say('');
      var body = new URLSearchParams(new FormData(form));
      body.delete('response');
      fetch(form.getAttribute('data-passkey-options'), {
        method: 'POST', credentials: 'same-origin', body: body,
        headers: { 'Accept': 'application/json' }
      }).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (data) {
          if (!res.ok || !data.publicKey) {
            throw { name: 'ServerError', message: data.error || 'Reload the page and try again.' };
          }
          return ceremony === 'create' ? wa.create(data) : wa.get(data);
        });
      }).then(function (json) {
        answer.value = json;
        form.submit();
      }).catch(function (err) {
        button.disabled = false;
        say(err && err.name === 'ServerError' ? err.message : wa.errorText(err, ceremony));
      });
    });
  });
})();
