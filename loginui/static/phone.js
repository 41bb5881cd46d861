// mfagate phone pages, served on the portal origin: /phone/pair pairs this
// phone through the link in the Security info QR code, /phone/ shows the
// pending sign-in request and answers it.
//
// The phone's identity is an ECDSA P-256 key made here with WebCrypto
// (non-extractable) and kept in IndexedDB with the device id the server
// gives at pairing. Every API call after pairing is signed with it over a
// single-use nonce fetched just before (see internal/devicekey); there are
// no cookies. The pairing token comes in the URL fragment (#t=…) and is
// removed from the address bar at once.
(function () {
  'use strict';

  // The signing-input functions (mfagateRequestSigningInput, …) come
  // from signing-input.js, loaded before this file.

  const API = '/phone/api/';
  const APP_PATH = '/phone/';
  const PAIR_PATH = '/phone/pair';
  const MANIFEST = '/phone/manifest.webmanifest';
  const SIGN = { name: 'ECDSA', hash: 'SHA-256' };
  const POLL_MS = 2000;
  // How long a pairing link lives on the server (core.PairingTTL).
  const PAIRING_TTL_MS = 10 * 60 * 1000;
  const TOKEN_KEY = 'mfagate-pairing-token';
  const DB_NAME = 'mfagate-phone';
  const DB_STORE = 'device';
  const DB_KEY = 'this';
  const UNPAIRED = 'This phone is no longer paired: remove it in Security info and pair again';
  const GONE = 'This sign-in request was already answered, or has expired';
  const PUSH_OFF = 'Notifications are off: keep this page open to see requests';

  function $(id) { return document.getElementById(id); }

  // view shows the section named id and hides the page's other sections.
  let sections = [];
  function view(id) {
    sections.forEach(function (s) {
      const el = $(s);
      if (el) el.hidden = s !== id;
    });
  }

  function setError(msg) {
    const el = $('error');
    el.textContent = msg || '';
    el.hidden = !msg;
  }

  // ---- Storage: the key and device id live in IndexedDB (a CryptoKey is
  // structured-cloneable, so the private key never leaves WebCrypto).

  function idb(mode, fn) {
    return new Promise(function (resolve, reject) {
      const open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = function () { open.result.createObjectStore(DB_STORE); };
      open.onerror = function () { reject(open.error); };
      open.onsuccess = function () {
        const db = open.result;
        let req;
        try {
          const tx = db.transaction(DB_STORE, mode);
          req = fn(tx.objectStore(DB_STORE));
          tx.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
          tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
        } catch (e) {
          db.close();
          reject(e);
        }
      };
    });
  }
  function loadDevice() {
    return idb('readonly', function (s) { return s.get(DB_KEY); }).then(function (d) { return d || null; });
  }
  function saveDevice(d) { return idb('readwrite', function (s) { return s.put(d, DB_KEY); }); }
  function forgetDevice() {
    return idb('readwrite', function (s) { return s.delete(DB_KEY); }).catch(function () {});
  }

  // ---- API calls. Errors carry the server's sentence and its flags.

  function apiError(status, data) {
    const e = new Error((data && typeof data.error === 'string' && data.error) ||
      'The server could not answer (error ' + status + '). Try again in a moment.');
    e.status = status;
    e.unpaired = !!(data && data.unpaired);
    e.gone = !!(data && data.gone);
    e.pushRefused = !!(data && data.push_refused);
    return e;
  }

  async function send(path, body, headers) {
    let res;
    try {
      res = await fetch(path, {
        method: 'POST',
        headers: Object.assign({ 'Content-Type': 'application/json' }, headers || {}),
        body: body,
        credentials: 'omit',
        cache: 'no-store',
        redirect: 'error'
      });
    } catch (e) {
      const err = new Error('Cannot reach the server: check the connection');
      err.network = true;
      throw err;
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) throw apiError(res.status, data);
    return data || {};
  }

  function call(name, obj) { return send(API + name, JSON.stringify(obj || {})); }

  // signedSend signs body for path as deviceId with nonce and sends it.
  async function signedSend(privateKey, deviceId, nonce, name, body) {
    const url = new URL(API + name, location.href);
    const path = url.pathname + url.search;
    const input = await mfagateRequestSigningInput({
      method: 'POST', host: url.host, path: path, deviceId: deviceId, nonce: nonce, body: body
    });
    const sig = new Uint8Array(await crypto.subtle.sign(SIGN, privateKey, input));
    return send(path, body, { Authorization: mfagateAuthorization(deviceId, nonce, sig) });
  }

  // signed makes one signed call as the paired device: a fresh nonce, then
  // the call.
  async function signed(dev, name, obj) {
    const got = await call('nonce', { device_id: dev.deviceId });
    return signedSend(dev.privateKey, dev.deviceId, got.nonce, name, JSON.stringify(obj || {}));
  }

  // ---- Helpers.

  function base64urlBytes(s) {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function sameBytes(a, b) {
    if (!a || !b) return false;
    const x = new Uint8Array(a), y = new Uint8Array(b);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }

  function withTimeout(p, ms) {
    return new Promise(function (resolve, reject) {
      const t = setTimeout(function () { reject(new Error('timed out')); }, ms);
      Promise.resolve(p).then(function (v) { clearTimeout(t); resolve(v); },
        function (e) { clearTimeout(t); reject(e); });
    });
  }

  function isIOS() {
    return /iPhone|iPad|iPod/.test(navigator.userAgent) ||
      (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
  }

  function isStandalone() {
    return navigator.standalone === true ||
      (typeof matchMedia === 'function' && matchMedia('(display-mode: standalone)').matches);
  }

  function defaultName() {
    const ua = navigator.userAgent;
    if (/iPhone/.test(ua)) return 'iPhone';
    if (/iPad/.test(ua) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1)) return 'iPad';
    if (/Android/.test(ua)) return /Mobile/.test(ua) ? 'Android phone' : 'Android tablet';
    return 'Phone';
  }

  function headElement(tag, attr, value) {
    let el = document.head.querySelector(tag + '[' + attr + '="' + value + '"]');
    if (!el) {
      el = document.createElement(tag);
      el.setAttribute(attr, value);
      document.head.appendChild(el);
    }
    return el;
  }

  // setupHead links the web app manifest (the per-link one on iOS, see
  // the pairing page) and what iOS reads when adding to the Home Screen.
  function setupHead(manifest) {
    headElement('link', 'rel', 'manifest').href = manifest;
    headElement('link', 'rel', 'apple-touch-icon').href = '/phone/icon-180.png';
    headElement('meta', 'name', 'apple-mobile-web-app-capable').content = 'yes';
    headElement('meta', 'name', 'mobile-web-app-capable').content = 'yes';
    headElement('meta', 'name', 'theme-color').content = '#0067b8';
  }

  function canPush() {
    return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  }

  // askPermission must run in the click handler itself, before any await:
  // browsers (Safari above all) only prompt during a user gesture.
  function askPermission() {
    if (!canPush()) return Promise.resolve('denied');
    if (Notification.permission !== 'default') return Promise.resolve(Notification.permission);
    try {
      return Promise.resolve(Notification.requestPermission());
    } catch (e) {
      return Promise.resolve('denied');
    }
  }

  // pushSubscription registers the service worker and subscribes to push
  // with the server's VAPID key; it throws when anything is missing,
  // refused or too slow.
  async function pushSubscription(vapidKey, permission) {
    if (!vapidKey || !canPush()) throw new Error('push unavailable');
    const perm = await withTimeout(permission, 60000);
    if (perm !== 'granted') throw new Error('notifications not allowed');
    await withTimeout(navigator.serviceWorker.register('/phone/sw.js', { scope: '/phone/' }), 15000);
    const reg = await withTimeout(navigator.serviceWorker.ready, 15000);
    const key = base64urlBytes(vapidKey);
    let sub = await reg.pushManager.getSubscription();
    if (sub && !sameBytes(sub.options && sub.options.applicationServerKey, key)) {
      await sub.unsubscribe();
      sub = null;
    }
    if (!sub) {
      sub = await withTimeout(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }), 20000);
    }
    const j = sub.toJSON();
    if (!j.endpoint || !j.keys || !j.keys.p256dh || !j.keys.auth) throw new Error('incomplete subscription');
    return { endpoint: j.endpoint, p256dh: j.keys.p256dh, auth: j.keys.auth };
  }

  function supported() {
    return window.isSecureContext && window.crypto && crypto.subtle && window.indexedDB;
  }

  // ---- The pairing page.

  // takeToken reads the token from the fragment, removes it from the
  // address bar (and so from history) and keeps it for this tab.
  function takeToken() {
    let token = '';
    if (location.hash.indexOf('#t=') === 0) {
      const m = /^#t=([A-Za-z0-9._~-]{1,128})$/.exec(location.hash);
      history.replaceState(null, '', location.pathname + location.search);
      if (m) {
        token = m[1];
        try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* kept in memory only */ }
      }
    }
    if (!token) {
      try { token = sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { token = ''; }
    }
    return token;
  }

  function forgetToken() {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing kept */ }
  }

  async function pairPage() {
    sections = ['loading', 'no-link', 'ios-install', 'name-step', 'working', 'code-step', 'paired'];
    setupHead(MANIFEST);
    const token = takeToken();
    view('loading');
    if (!supported()) {
      view('');
      setError('This browser cannot pair: open the link in Safari or Chrome.');
      return;
    }
    let dev = null;
    try { dev = await loadDevice(); } catch (e) { dev = null; }
    if (dev && dev.deviceId) {
      try {
        const st = await signed(dev, 'status', {});
        if (st.active) {
          if (dev.code) {
            dev.code = '';
            await saveDevice(dev);
          }
          location.replace(APP_PATH);
          return;
        }
        if (dev.code && Date.now() - dev.registered < PAIRING_TTL_MS) {
          showCode(dev);
          return;
        }
        await forgetDevice();
      } catch (e) {
        if (!e.unpaired) {
          view('');
          setError(e.message);
          return;
        }
        await forgetDevice();
        if (!token) {
          view('no-link');
          setError(UNPAIRED);
          return;
        }
      }
    }
    if (!token) {
      view('no-link');
      return;
    }
    let config = {};
    try { config = await call('config', {}); } catch (e) { config = {}; }
    if (isIOS() && !isStandalone()) {
      // Safari tabs and Home Screen apps keep separate storage, and only
      // the app gets notifications: point the manifest at one whose
      // start_url carries this link, so the app opens it.
      try {
        const got = await call('install', { token: token });
        if (got.manifest) setupHead(got.manifest);
      } catch (e) { /* the generic manifest stays */ }
      view('ios-install');
      $('pair-in-tab').addEventListener('click', function () { askName(token, config); }, { once: true });
      return;
    }
    askName(token, config);
  }

  function askName(token, config) {
    view('name-step');
    const input = $('device-name');
    if (!input.value) input.value = defaultName();
    let busy = false;
    $('name-step').addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (busy) return;
      busy = true;
      setError('');
      const permission = config.vapid_public_key ? askPermission() : Promise.resolve('denied');
      register(token, input.value.trim(), config, permission).catch(function (e) {
        view('name-step');
        setError(e.message);
      }).finally(function () { busy = false; });
    });
  }

  function say(msg) {
    $('working').textContent = msg;
    view('working');
  }

  async function register(token, name, config, permission) {
    let sub = null;
    if (config.vapid_public_key) {
      say('Setting up notifications…');
      try { sub = await pushSubscription(config.vapid_public_key, permission); } catch (e) { sub = null; }
    }
    say('Pairing…');
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const dev = { privateKey: pair.privateKey, deviceId: '', code: '', registered: Date.now(), endpoint: '' };
    // Keep the key before the link is used: a browser that cannot store it
    // (private browsing) must fail here, not after pairing.
    try {
      await saveDevice(dev);
    } catch (e) {
      throw new Error('This browser cannot keep the phone\'s key: turn off private browsing and open the link again.');
    }
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
    // The registration is signed with the nonce derived from the token.
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
    const proof = mfagateBase64url(new Uint8Array(digest));
    const payload = { token: token, public_key: mfagateBase64url(spki), name: name };
    let got;
    try {
      if (sub) payload.subscription = sub;
      got = await signedSend(pair.privateKey, 'new', proof, 'register', JSON.stringify(payload));
    } catch (e) {
      if (!sub || !e.pushRefused) throw e;
      // The server refused this push service: pair without notifications.
      delete payload.subscription;
      sub = null;
      got = await signedSend(pair.privateKey, 'new', proof, 'register', JSON.stringify(payload));
    }
    dev.deviceId = String(got.device_id);
    dev.code = String(got.code);
    dev.endpoint = sub ? sub.endpoint : '';
    await saveDevice(dev);
    forgetToken();
    $('push-off').hidden = !!sub;
    showCode(dev);
  }

  function showCode(dev) {
    $('pair-code').textContent = dev.code;
    view('code-step');
    let busy = false;
    let timer = 0;
    async function tick() {
      if (busy) return;
      if (Date.now() - dev.registered > PAIRING_TTL_MS) {
        clearInterval(timer);
        await forgetDevice();
        view('');
        setError('This pairing link has expired: make a new one in Security info');
        return;
      }
      busy = true;
      try {
        const st = await signed(dev, 'status', {});
        setError('');
        if (st.active) {
          clearInterval(timer);
          dev.code = '';
          await saveDevice(dev);
          view('paired');
          setTimeout(function () { location.replace(APP_PATH); }, 1500);
        }
      } catch (e) {
        if (e.unpaired) {
          clearInterval(timer);
          await forgetDevice();
          view('');
          setError(UNPAIRED);
        } else {
          setError(e.message);
        }
      } finally {
        busy = false;
      }
    }
    timer = setInterval(tick, POLL_MS);
    tick();
  }

  // ---- The app page.

  async function appPage() {
    sections = ['loading', 'unpaired', 'idle', 'request', 'report-offer', 'result'];
    setupHead(MANIFEST);
    view('loading');
    if (!supported()) {
      view('');
      setError('This browser cannot answer sign-in requests: use Safari or Chrome.');
      return;
    }
    let dev = null;
    try { dev = await loadDevice(); } catch (e) { dev = null; }
    if (!dev || !dev.deviceId) {
      view('unpaired');
      return;
    }
    if (dev.code) {
      // Still waiting for its code to be entered.
      location.replace(PAIR_PATH);
      return;
    }
    let config = {};
    try { config = await call('config', {}); } catch (e) { config = {}; }
    runApp(dev, config);
  }

  // accountLabel names the account this phone is paired to, as status
  // tells it: "Carol Phone (carol) at Example Corp".
  function accountLabel(st, issuer) {
    const account = (st && st.account) || '';
    const name = (st && st.name) || '';
    let who = account;
    if (name && account && name !== account) who = name + ' (' + account + ')';
    else if (name) who = name;
    if (!who) return issuer || '';
    return issuer ? who + ' at ' + issuer : who;
  }

  // details fills the request's description list: label, then value, for
  // each value there is.
  function details(dl, rows) {
    dl.textContent = '';
    rows.forEach(function (row) {
      if (!row[1]) return;
      const dt = document.createElement('dt');
      dt.textContent = row[0];
      const dd = document.createElement('dd');
      dd.textContent = row[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
  }

  function runApp(dev, config) {
    let timer = 0;
    let busy = false;
    let answering = false;
    let stopped = false;
    let mode = 'loading';
    let current = null;
    // reportable is the request this phone just denied: "Report" may
    // still follow.
    let reportable = null;
    let account = accountLabel(null, config.issuer);
    const answered = new Set();

    // The account this phone answers for, shown on the page and in each
    // request.
    signed(dev, 'status', {}).then(function (st) {
      account = accountLabel(st, config.issuer) || account;
      const el = $('paired-account');
      el.textContent = 'Paired with ' + account;
      el.hidden = !account;
      if (mode === 'request' && current) describe(current);
    }, function (e) {
      if (e.unpaired) unpaired();
    });

    function unpaired() {
      stopped = true;
      clearInterval(timer);
      forgetDevice();
      setError('');
      view('unpaired');
      $('push-off').hidden = true;
      $('push-actions').hidden = true;
    }

    function showIdle() {
      mode = 'idle';
      current = null;
      reportable = null;
      view('idle');
    }

    function showResult(text, ok) {
      mode = 'result';
      current = null;
      reportable = null;
      const el = $('result-text');
      el.textContent = text;
      el.className = ok ? 'notice' : 'alert';
      view('result');
      $('result-done').focus();
    }

    // describe says which account, site, address, browser and time the
    // request is about (the address is the sign-in's, not this phone's).
    function describe(req) {
      const when = new Date(req.created);
      details($('request-details'), [
        ['Account', account || req.issuer || 'your account'],
        ['Site', req.site],
        ['IP address', req.ip],
        ['Browser', req.agent],
        ['Time', isNaN(when.getTime()) ? '' : when.toLocaleTimeString()]
      ]);
    }

    // digitsOf is how many digits the request's number has (the server
    // says how many, never which): push_number_digits, 2 to 8.
    function digitsOf(req) {
      const n = Number(req && req.digits);
      return Number.isInteger(n) && n >= 2 && n <= 8 ? n : 2;
    }

    // numberPrompt is "Enter the six-digit number shown on the sign-in
    // screen".
    function numberPrompt(digits) {
      const words = { 2: 'two', 3: 'three', 4: 'four', 5: 'five', 6: 'six', 7: 'seven', 8: 'eight' };
      return 'Enter the ' + words[digits] + '-digit number shown on the sign-in screen';
    }

    // fitNumber makes the input take the request's number: that many
    // digits, with the one space the sign-in screen shows in numbers of
    // six or more ("123 456") allowed but not needed.
    function fitNumber(input, digits) {
      const grouped = digits >= 6;
      input.maxLength = grouped ? digits + 1 : digits;
      input.minLength = digits;
      input.pattern = grouped ? '[0-9]{' + Math.ceil(digits / 2) + '} ?[0-9]{' + Math.floor(digits / 2) + '}' : '[0-9]{' + digits + '}';
      input.dataset.digits = String(digits);
      document.querySelector('label[for="number"]').textContent = numberPrompt(digits);
    }

    function showRequest(req) {
      mode = 'request';
      current = req;
      reportable = null;
      describe(req);
      const number = $('number');
      fitNumber(number, digitsOf(req));
      number.value = '';
      number.removeAttribute('aria-invalid');
      setError('');
      view('request');
      number.focus();
    }

    function update(req) {
      if (req && answered.has(req.id)) req = null;
      if (mode === 'report-offer') return; // the denied request stays on screen until Report or Don't report
      if (req) {
        if (current && current.id === req.id && mode === 'request') return;
        showRequest(req);
        return;
      }
      if (mode === 'request') {
        showResult(GONE, false);
      } else if (mode === 'loading') {
        showIdle();
      }
    }

    async function poll() {
      if (busy || answering || stopped || document.hidden) return;
      busy = true;
      try {
        const got = await signed(dev, 'pending', {});
        if (!answering) {
          setError('');
          update(got.request || null);
        }
      } catch (e) {
        if (e.unpaired) unpaired();
        else setError(e.message);
      } finally {
        busy = false;
      }
    }

    function start() {
      clearInterval(timer);
      if (stopped) return;
      poll();
      timer = setInterval(poll, POLL_MS);
    }

    function resultText(status) {
      switch (status) {
        case 'approved': return ['Approved: go back to the sign-in screen.', true];
        case 'denied': return ['Denied: nobody was signed in.', true];
        case 'reported': return ['Reported: nobody was signed in, and sign-ins to your account are blocked until your administrator unblocks it.', true];
        case 'wrong_number': return ['Wrong number: the request was cancelled', false];
      }
      return ['Answered: ' + status, true];
    }

    function disable(on) {
      ['approve', 'deny', 'report-skip', 'report'].forEach(function (id) { $(id).disabled = on; });
    }

    // offerReport follows "No, it's not me": the request is denied, and
    // the phone asks whether to report it, as Microsoft's app does.
    function offerReport(req) {
      mode = 'report-offer';
      current = null;
      reportable = req;
      view('report-offer');
      $('report').focus();
    }

    async function answer(decision, number) {
      const req = decision === 'report' ? reportable : current;
      if (!req || answering) return;
      answering = true;
      disable(true);
      setError('');
      try {
        const got = await signed(dev, 'answer', { request_id: req.id, decision: decision, number: number });
        answered.add(req.id);
        if (got.status === 'denied') {
          offerReport(req);
        } else {
          const r = resultText(got.status);
          showResult(r[0], r[1]);
        }
      } catch (e) {
        if (e.unpaired) {
          unpaired();
        } else if (e.gone) {
          answered.add(req.id);
          showResult(GONE, false);
        } else {
          setError(e.message);
        }
      } finally {
        answering = false;
        disable(false);
      }
    }

    $('request').addEventListener('submit', function (ev) {
      ev.preventDefault();
      const input = $('number');
      const digits = digitsOf(current);
      const n = input.value.replace(/\s+/g, '');
      if (n.length !== digits || !/^[0-9]+$/.test(n)) {
        input.setAttribute('aria-invalid', 'true');
        setError(numberPrompt(digits));
        input.focus();
        return;
      }
      answer('approve', n);
    });
    // "No, it's not me" denies at once, then offers to report.
    $('deny').addEventListener('click', function () { answer('deny', ''); });
    $('report').addEventListener('click', function () { answer('report', ''); });
    $('report-skip').addEventListener('click', function () {
      showIdle();
      poll();
    });
    $('result-done').addEventListener('click', function () {
      showIdle();
      poll();
    });

    document.addEventListener('visibilitychange', function () {
      if (document.hidden) clearInterval(timer);
      else start();
    });
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.addEventListener('message', function (ev) {
        if (ev.data && ev.data.type === 'mfagate-push') poll();
      });
      navigator.serviceWorker.startMessages();
    }

    setupPush(dev, config, unpaired);
    start();
  }

  // setupPush keeps the server's copy of this phone's push subscription
  // current (browsers rotate them; the server drops dead ones), or offers
  // to turn notifications on.
  function setupPush(dev, config, unpaired) {
    const vapid = config.vapid_public_key;
    const off = $('push-off');
    const actions = $('push-actions');
    const hint = $('idle-hint');
    off.textContent = PUSH_OFF;
    async function sync(permission) {
      try {
        const sub = await pushSubscription(vapid, permission);
        await signed(dev, 'subscription', { subscription: sub });
        dev.endpoint = sub.endpoint;
        await saveDevice(dev).catch(function () {});
        off.hidden = true;
        actions.hidden = true;
        hint.textContent = 'You get a notification for each request.';
      } catch (e) {
        if (e.unpaired) {
          unpaired();
          return;
        }
        off.hidden = false;
        actions.hidden = !(canPush() && Notification.permission === 'default');
      }
    }
    if (!vapid || !canPush() || Notification.permission === 'denied') {
      off.hidden = false;
      return;
    }
    if (Notification.permission === 'granted') {
      sync(Promise.resolve('granted'));
      return;
    }
    off.hidden = false;
    actions.hidden = false;
    $('push-on').addEventListener('click', function () { sync(askPermission()); });
  }

  function main() {
    const needsJS = $('needs-js');
    if (needsJS) needsJS.hidden = true;
    let run = null;
    if ($('phone-pair')) run = pairPage;
    else if ($('phone-app')) run = appPage;
    if (!run) return;
    run().catch(function (e) {
      view('');
      setError((e && e.message) || 'Something went wrong: reload the page.');
    });
  }

  main();
}());
