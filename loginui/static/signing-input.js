// Signing inputs for mfagate's paired phone, loaded by the phone pages
// before phone.js. They must build exactly the bytes that Go's
// devicekey.Request.SigningInput and devicekey.Answer.SigningInput build;
// internal/devicekey's tests check a vector made with this very file
// (internal/devicekey/testdata/webcrypto_vector.mjs, committed as
// webcrypto_vector.json, which records this file's SHA-256).
//
// Use in the page:
//
//   const input = await mfagateRequestSigningInput({method, host: location.host,
//     path: url.pathname + url.search, deviceId, nonce, body});
//   const sig = new Uint8Array(await crypto.subtle.sign(
//     {name: "ECDSA", hash: "SHA-256"}, privateKey, input));
//   headers.Authorization = mfagateAuthorization(deviceId, nonce, sig);
//
// and send `body` as the fetch body, byte for byte.

// mfagateBase64url encodes bytes as unpadded base64url.
function mfagateBase64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// mfagateCheck throws unless value matches re; the patterns are the Go
// package's field rules, so a request the gateway would refuse fails here.
function mfagateCheck(field, value, re) {
  if (typeof value !== "string" || !re.test(value)) {
    throw new Error("mfagate: bad " + field);
  }
}

// Field rules, shared by both messages. None admits "\n", which is what
// makes the one-field-per-line encoding unambiguous.
const MFAGATE_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const MFAGATE_METHOD = /^[A-Z]{1,16}$/;
const MFAGATE_HOST = /^[\x21-\x7e]{1,261}$/;
const MFAGATE_PATH = /^\/[\x21-\x7e]{0,4095}$/;

// mfagateBodyBytes turns a fetch body (string, Uint8Array, ArrayBuffer or
// nothing) into the bytes that are sent, strings as UTF-8.
function mfagateBodyBytes(body) {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (body instanceof Uint8Array) return body;
  throw new Error("mfagate: body must be a string, Uint8Array or ArrayBuffer");
}

// mfagateRequestSigningInput returns the bytes to sign for one API call:
//
//   "mfagate-device-v1\n" + method + "\n" + lower-case host + "\n" + path + "\n" +
//   deviceId + "\n" + nonce + "\n" + base64url(SHA-256(body))
//
// host is location.host (port only when not the default); path is the
// request target, url.pathname + url.search.
async function mfagateRequestSigningInput({method, host, path, deviceId, nonce, body}) {
  mfagateCheck("method", method, MFAGATE_METHOD);
  mfagateCheck("host", host, MFAGATE_HOST);
  mfagateCheck("path", path, MFAGATE_PATH);
  mfagateCheck("deviceId", deviceId, MFAGATE_ID);
  mfagateCheck("nonce", nonce, MFAGATE_ID);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", mfagateBodyBytes(body)));
  // host is ASCII here, so toLowerCase maps A-Z only, as Go does.
  const text = ["mfagate-device-v1", method, host.toLowerCase(), path, deviceId, nonce,
    mfagateBase64url(digest)].join("\n");
  return new TextEncoder().encode(text);
}

// mfagateAnswerSigningInput returns the bytes to sign for an answer to a
// sign-in request:
//
//   "mfagate-answer-v1\n" + requestId + "\n" + decision + "\n" + number + "\n" +
//   deviceId + "\n" + nonce
//
// decision is "approve" (number: the 2 to 8 digits typed, without
// grouping spaces), "deny" or "report"
// (number: "").
function mfagateAnswerSigningInput({requestId, decision, number, deviceId, nonce}) {
  mfagateCheck("requestId", requestId, MFAGATE_ID);
  if (decision === "approve") {
    mfagateCheck("number", number, /^[0-9]{2,8}$/);
  } else if (decision === "deny" || decision === "report") {
    if (number !== "") throw new Error("mfagate: " + decision + " takes no number");
  } else {
    throw new Error("mfagate: bad decision");
  }
  mfagateCheck("deviceId", deviceId, MFAGATE_ID);
  mfagateCheck("nonce", nonce, MFAGATE_ID);
  const text = ["mfagate-answer-v1", requestId, decision, number, deviceId, nonce].join("\n");
  return new TextEncoder().encode(text);
}

// mfagateAuthorization returns the Authorization header for a signed call;
// sig is the 64-byte r‖s that crypto.subtle.sign returns for ECDSA.
function mfagateAuthorization(deviceId, nonce, sig) {
  mfagateCheck("deviceId", deviceId, MFAGATE_ID);
  mfagateCheck("nonce", nonce, MFAGATE_ID);
  if (sig.length !== 64) throw new Error("mfagate: signature must be 64 bytes");
  return 'MFA-Device id="' + deviceId + '", nonce="' + nonce + '", sig="' + mfagateBase64url(sig) + '"';
}
