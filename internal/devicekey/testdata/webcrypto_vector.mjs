// Makes webcrypto_vector.json: a key pair made and used exactly as the phone
// page does (WebCrypto, ECDSA P-256, non-extractable private key) and the
// signing inputs built by loginui/static/signing-input.js, so the Go tests can check that
// Go and the page agree byte for byte. Needs Node 20 or later (for
// globalThis.crypto.subtle); the Go tests only read the JSON.
//
//   node internal/devicekey/testdata/webcrypto_vector.mjs > internal/devicekey/testdata/webcrypto_vector.json

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const here = new URL(".", import.meta.url);
const js = readFileSync(new URL("../../../loginui/static/signing-input.js", here), "utf8");
// Evaluate the page's file as the page would: a plain script, no module.
const page = new Function(js + `
  return {mfagateRequestSigningInput, mfagateAnswerSigningInput, mfagateAuthorization, mfagateBase64url};`)();

const subtle = globalThis.crypto.subtle;
const ECDSA = { name: "ECDSA", hash: "SHA-256" };
// P-256 group order, to pick a signature with a high s.
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const text = (bytes) => new TextDecoder().decode(bytes);
const b64 = (buf) => Buffer.from(buf).toString("base64");
const bigOf = (bytes) => BigInt("0x" + Buffer.from(bytes).toString("hex"));

// The fixed messages. The host has upper case to check lower-casing, the
// path has a query, the body has non-ASCII text to check UTF-8.
const request = {
  method: "POST",
  host: "MFA.Example.com:8443",
  path: "/phone/api/v1/answer?lang=de",
  deviceId: "dev_7Hq-2~x.y",
  nonce: "q5Vx0Zc0fWmI4sQ3u8r2l1VbqJ9w0yKcJmE1uXo2p9A",
  body: '{"note":"grüß dich","n":1}',
};
const answer = {
  requestId: "req_4f2a",
  decision: "approve",
  number: "07",
  deviceId: request.deviceId,
  nonce: "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg",
};

// Variants to check that both sides accept and refuse the same fields and
// build the same bytes when they accept.
const requestCases = {
  "empty body": { ...request, body: "" },
  "no query": { ...request, path: "/phone/api/v1/pending" },
  "GET": { ...request, method: "GET", body: "" },
  "IPv6 host": { ...request, host: "[::1]:8443" },
  "long id": { ...request, deviceId: "a".repeat(128) },
  "too long id": { ...request, deviceId: "a".repeat(129) },
  "newline in path": { ...request, path: "/a\n/b" },
  "space in path": { ...request, path: "/a b" },
  "relative path": { ...request, path: "a" },
  "lower-case method": { ...request, method: "post" },
  "empty nonce": { ...request, nonce: "" },
  "quote in nonce": { ...request, nonce: 'a"b' },
  "non-ASCII host": { ...request, host: "bücher.example" },
};
const answerCases = {
  "deny": { ...answer, decision: "deny", number: "" },
  "report": { ...answer, decision: "report", number: "" },
  "approve without number": { ...answer, number: "" },
  "approve one digit": { ...answer, number: "7" },
  "approve six digits": { ...answer, number: "123456" },
  "approve eight digits": { ...answer, number: "12345678" },
  "approve nine digits": { ...answer, number: "123456789" },
  "approve grouped": { ...answer, number: "123 456" },
  "deny with number": { ...answer, decision: "deny" },
  "unknown decision": { ...answer, decision: "Approve" },
  "newline in request id": { ...answer, requestId: "r\n1" },
};

// outcome runs one signing-input builder: the input text, or null if refused.
async function outcome(build, msg) {
  try {
    return text(await build(msg));
  } catch {
    return null;
  }
}

async function outcomes(build, cases) {
  const out = {};
  for (const [name, msg] of Object.entries(cases)) {
    out[name] = { message: msg, input: await outcome(build, msg) };
  }
  return out;
}

// signHighS signs until WebCrypto returns a signature with s > N/2, to show
// that Go accepts the signatures WebCrypto makes without normalising s.
async function signHighS(privateKey, input) {
  for (;;) {
    const sig = new Uint8Array(await subtle.sign(ECDSA, privateKey, input));
    if (bigOf(sig.subarray(32)) > N / 2n) return sig;
  }
}

const { privateKey, publicKey } = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
const requestInput = await page.mfagateRequestSigningInput(request);
const requestSig = await signHighS(privateKey, requestInput);
const answerInput = page.mfagateAnswerSigningInput(answer);
const answerSig = new Uint8Array(await subtle.sign(ECDSA, privateKey, answerInput));

const vector = {
  comment: "Made by webcrypto_vector.mjs; see that file. Do not edit by hand.",
  generator: "Node.js " + process.version + " WebCrypto",
  // The file the page loads, as it was when this vector was made.
  signingInputSHA256: createHash("sha256").update(js).digest("hex"),
  spki: b64(await subtle.exportKey("spki", publicKey)),
  raw: page.mfagateBase64url(new Uint8Array(await subtle.exportKey("raw", publicKey))),
  request,
  requestInput: text(requestInput),
  requestSig: page.mfagateBase64url(requestSig),
  authorization: page.mfagateAuthorization(request.deviceId, request.nonce, requestSig),
  answer,
  answerInput: text(answerInput),
  answerSig: page.mfagateBase64url(answerSig),
  requestCases: await outcomes(page.mfagateRequestSigningInput, requestCases),
  answerCases: await outcomes(page.mfagateAnswerSigningInput, answerCases),
};
process.stdout.write(JSON.stringify(vector, null, 2) + "\n");
