// mfagate: WebAuthn helpers shared by the passkey pages (no dependencies,
// no inline script: CSP). The server speaks JSON with binary fields as
// base64url (go-webauthn's format); the browser's API speaks
// ArrayBuffers. Exported as window.mfagateWebAuthn:
//
//   decodeCreateOptions(json) -> PublicKeyCredentialCreationOptions
//       (json: the server's {"publicKey": {...}} for credentials.create)
//   decodeGetOptions(json)    -> PublicKeyCredentialRequestOptions
//       (json: the server's {"publicKey": {...}} for credentials.get)
//   toJSONCreate(cred)        -> object to send back after create
//   toJSONGet(cred)           -> object to send back after get
//   create(json), get(json)   -> Promise of the answer as a JSON string
//   errorText(err, ceremony)  -> words for the page when the browser
//       refused, the user cancelled, or the answer could not be made
//   supported()               -> whether this browser can use passkeys
//   toBuffer(b64url), toBase64url(buffer): the conversions themselves
(function () {
  'use strict';

  function toBuffer(s) {
    var b64 = String(s).replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toBase64url(buf) {
    if (!buf) return undefined;
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function publicKey(json) {
    var o = typeof json === 'string' ? JSON.parse(json) : json;
    return o.publicKey || o;
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      var d = { type: c.type, id: toBuffer(c.id) };
      if (c.transports) d.transports = c.transports;
      return d;
    });
  }

  function decodeCreateOptions(json) {
    var pk = publicKey(json);
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    if (pk.excludeCredentials) pk.excludeCredentials = descriptors(pk.excludeCredentials);
    return pk;
  }

  function decodeGetOptions(json) {
    var pk = publicKey(json);
    pk.challenge = toBuffer(pk.challenge);
    if (pk.allowCredentials) pk.allowCredentials = descriptors(pk.allowCredentials);
    return pk;
  }

  function common(cred) {
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function toJSONCreate(cred) {
    var out = common(cred);
    var r = cred.response;
    out.response = {
      clientDataJSON: toBase64url(r.clientDataJSON),
      attestationObject: toBase64url(r.attestationObject),
      transports: r.getTransports ? r.getTransports() : undefined
    };
    return out;
  }

  function toJSONGet(cred) {
    var out = common(cred);
    var r = cred.response;
    out.response = {
      clientDataJSON: toBase64url(r.clientDataJSON),
      authenticatorData: toBase64url(r.authenticatorData),
      signature: toBase64url(r.signature),
      userHandle: toBase64url(r.userHandle)
    };
    return out;
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.create);
  }

  function create(json) {
    return navigator.credentials.create({ publicKey: decodeCreateOptions(json) }).then(function (cred) {
      if (!cred) throw new Error('no credential');
      return JSON.stringify(toJSONCreate(cred));
    });
  }

  function get(json) {
    return navigator.credentials.get({ publicKey: decodeGetOptions(json) }).then(function (cred) {
      if (!cred) throw new Error('no credential');
      return JSON.stringify(toJSONGet(cred));
    });
  }

  function errorText(err, ceremony) {
    var name = err && err.name;
    if (name === 'NotAllowedError' || name === 'AbortError') {
      return 'The passkey request was cancelled or timed out. Try again' +
        (ceremony === 'get' ? ', or sign in another way.' : '.');
    }
    if (name === 'InvalidStateError' && ceremony === 'create') {
      return 'This passkey or security key is registered already.';
    }
    if (name === 'SecurityError') {
      return 'This browser refused to use a passkey on this site address.';
    }
    if (name === 'NotSupportedError') {
      return 'This browser or security key does not support the kind of passkey this site asks for.';
    }
    return 'The passkey could not be used' + (err && err.message ? ' (' + err.message + ')' : '') + '. Try again.';
  }

  window.mfagateWebAuthn = {
    toBuffer: toBuffer,
    toBase64url: toBase64url,
    decodeCreateOptions: decodeCreateOptions,
    decodeGetOptions: decodeGetOptions,
    toJSONCreate: toJSONCreate,
    toJSONGet: toJSONGet,
    create: create,
    get: get,
    errorText: errorText,
    supported: supported
  };
})();
