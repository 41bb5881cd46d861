package phoneportal

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/devicekey"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/web"
)

// MaxBodyBytes bounds an API call's body; the real ones are under 2 KiB.
const MaxBodyBytes = 16 << 10

// maxIDLen bounds tokens and request ids, as devicekey bounds ids.
const maxIDLen = 128

// Sentences of the API's errors.
const (
	msgUnpaired    = "This phone is no longer paired: remove it in Security info and pair again"
	msgBadCall     = "The phone's request could not be verified. Reload the page and try again."
	msgUnavailable = "Something went wrong on the server. Try again in a moment."
)

// apiError is an error answer: {"error": msg} and its flags.
type apiError struct {
	status int
	msg    string
	// unpaired tells the page that this device is gone (or was never
	// confirmed): it forgets its key.
	unpaired bool
	// gone: the sign-in request was already answered or expired.
	gone bool
	// pushRefused: the push subscription was refused; the page may
	// register again without one.
	pushRefused bool
}

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"error": e.msg}
	if e.unpaired {
		body["unpaired"] = true
	}
	if e.gone {
		body["gone"] = true
	}
	if e.pushRefused {
		body["push_refused"] = true
	}
	switch e.status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", devicekey.AuthScheme)
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(int(nonceWindow.Seconds())))
	}
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"`+msgUnavailable+`"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// call is one API request, read and checked for form.
type call struct {
	r    *http.Request
	body []byte
}

// endpoint serves one API call: a result to send as JSON, or an error.
type endpoint func(ctx context.Context, c *call) (any, *apiError)

// endpoints names the API calls (POST /phone/api/NAME).
func (h *Handler) endpoints() map[string]endpoint {
	return map[string]endpoint{
		"config":       h.apiConfig,
		"install":      h.apiInstall,
		"register":     h.apiRegister,
		"nonce":        h.apiNonce,
		"status":       h.apiStatus,
		"pending":      h.apiPending,
		"answer":       h.apiAnswer,
		"subscription": h.apiSubscription,
	}
}

// api reads an API call (POST, JSON, at most MaxBodyBytes) and runs its
// endpoint.
func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request) {
	ep, ok := h.api[r.PathValue("name")]
	if !ok {
		h.apiNotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, errorf(http.StatusMethodNotAllowed, "This address takes POST requests only."))
		return
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, errorf(http.StatusUnsupportedMediaType, "The request must be JSON (Content-Type: application/json)."))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, errorf(http.StatusRequestEntityTooLarge, "The request is too large."))
			return
		}
		writeError(w, errorf(http.StatusBadRequest, "The request could not be read."))
		return
	}
	res, e := ep(r.Context(), &call{r: r, body: body})
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *Handler) apiNotFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, errorf(http.StatusNotFound, "There is no such API call."))
}

// isJSON accepts application/json with any parameters (charset=utf-8).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// decode reads the body as exactly one JSON value into v, refusing
// unknown fields and anything after the value.
func (c *call) decode(v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "The request is not valid: %s.", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "The request is not valid: it has more than one JSON value.")
	}
	return nil
}

// jsonProblem says what is wrong with a body without echoing it.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "it is empty"
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return "it is not JSON"
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%.40q has the wrong type", typ.Field)
		}
		return "it is not a JSON object"
	}
	// DisallowUnknownFields: `json: unknown field "x"`.
	return "it has a field this call does not take"
}

// internal logs err and gives the calm 500.
func (h *Handler) internal(c *call, what string, err error) *apiError {
	h.log.Error("phone API: "+what, zap.Error(err), zap.String("path", c.r.URL.Path))
	return errorf(http.StatusInternalServerError, msgUnavailable)
}

// validID checks a token or request id: 1 to 128 URL-unreserved
// characters, as devicekey's ids.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// signature reads the request's one MFA-Device Authorization header and
// the call it signs: method, Host, request target, and the body as sent.
func (c *call) signature() (devicekey.Request, []byte, *apiError) {
	values := c.r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return devicekey.Request{}, nil, errorf(http.StatusUnauthorized, "This request must be signed by the phone.")
	case len(values) > 1:
		return devicekey.Request{}, nil, errorf(http.StatusBadRequest, "The request has more than one Authorization header.")
	}
	id, nonce, sig, err := devicekey.ParseAuthorization(values[0])
	if err != nil {
		return devicekey.Request{}, nil, errorf(http.StatusUnauthorized, msgBadCall)
	}
	target := c.r.RequestURI
	if target == "" {
		target = c.r.URL.RequestURI()
	}
	return devicekey.Request{Method: c.r.Method, Host: c.r.Host, Path: target, DeviceID: id, Nonce: nonce, Body: c.body}, sig, nil
}

// authenticate checks a signed call of a paired device (or, with
// allowInactive, of one waiting for its confirmation code).
func (h *Handler) authenticate(ctx context.Context, c *call, allowInactive bool) (*model.Device, *apiError) {
	req, sig, e := c.signature()
	if e != nil {
		return nil, e
	}
	d, err := h.core.Phones.Authenticate(ctx, req, sig, allowInactive)
	switch {
	case errors.Is(err, core.ErrNotPaired):
		return nil, &apiError{status: http.StatusUnauthorized, msg: msgUnpaired, unpaired: true}
	case errors.Is(err, core.ErrBadDeviceCall):
		return nil, errorf(http.StatusUnauthorized, msgBadCall)
	case err != nil:
		return nil, h.internal(c, "authenticate", err)
	}
	return d, nil
}

// checkPush refuses a subscription the core would refuse, before anything
// is stored.
func (h *Handler) checkPush(sub *push.Subscription) *apiError {
	if err := h.core.Phones.CheckPush(sub); err != nil {
		return &apiError{status: http.StatusBadRequest, pushRefused: true,
			msg: "Notifications could not be set up: the phone's push subscription was refused (" + pushReason(err) + ")."}
	}
	return nil
}

// pushReason is the validation error without its package prefix.
func pushReason(err error) string {
	s := err.Error()
	for _, prefix := range []string{core.ErrBadPush.Error() + ": ", push.ErrInvalidSubscription.Error() + ": "} {
		s = strings.TrimPrefix(s, prefix)
	}
	return s
}

// POST /phone/api/config → {vapid_public_key, issuer}
func (h *Handler) apiConfig(_ context.Context, c *call) (any, *apiError) {
	var in struct{}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	return map[string]string{"vapid_public_key": h.cfg.VAPIDPublicKey, "issuer": h.cfg.Issuer}, nil
}

// POST /phone/api/install {token} → {manifest}: the per-link manifest an
// iOS Home Screen app starts from.
func (h *Handler) apiInstall(ctx context.Context, c *call) (any, *apiError) {
	var in struct {
		Token string `json:"token"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if !validID(in.Token) {
		return nil, errorf(http.StatusBadRequest, "The pairing link is incomplete: scan the QR code in Security info again.")
	}
	handle, err := h.core.Phones.ManifestHandle(ctx, core.PairingToken(in.Token))
	switch {
	case errors.Is(err, core.ErrPairingInvalid):
		return nil, errorf(http.StatusNotFound, "This pairing link is not valid any more: make a new one in Security info.")
	case err != nil:
		return nil, h.internal(c, "manifest handle", err)
	}
	return map[string]string{"manifest": Prefix + "manifest/" + handle + manifestExt}, nil
}

// POST /phone/api/register {token, public_key, name, subscription?},
// signed by the new key as device "new" with the token's proof nonce
// → {device_id, code}
func (h *Handler) apiRegister(ctx context.Context, c *call) (any, *apiError) {
	var in struct {
		Token        string             `json:"token"`
		PublicKey    string             `json:"public_key"`
		Name         string             `json:"name"`
		Subscription *push.Subscription `json:"subscription"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if !validID(in.Token) {
		return nil, errorf(http.StatusBadRequest, "The pairing link is incomplete: scan the QR code in Security info again.")
	}
	pub, err := base64.RawURLEncoding.DecodeString(in.PublicKey)
	if err != nil || len(pub) == 0 {
		return nil, errorf(http.StatusBadRequest, "The phone's key could not be read.")
	}
	req, sig, e := c.signature()
	if e != nil {
		return nil, e
	}
	if in.Subscription != nil {
		if e := h.checkPush(in.Subscription); e != nil {
			return nil, e
		}
	}
	// The subscription is stored after the registration, not by it: a
	// subscription refused there would leave a registered device and a
	// used link, and the phone without its code.
	d, code, err := h.core.Phones.Register(ctx, core.Registration{
		Token: core.PairingToken(in.Token), PublicKey: pub, Name: in.Name, Call: req, Sig: sig,
	})
	if err != nil {
		return nil, h.registerError(c, err)
	}
	out := map[string]any{"device_id": strconv.FormatInt(d.ID, 10), "code": code, "push": false}
	if in.Subscription != nil {
		if err := h.core.Phones.SetPush(ctx, d, in.Subscription); err != nil {
			// Paired all the same: the phone sees requests while open.
			h.log.Warn("phone API: push subscription refused after registration", zap.Error(err), zap.Int64("device", d.ID))
		} else {
			out["push"] = true
		}
	}
	return out, nil
}

// msgTooManyPhones refuses a registration past model.MaxDevices phones.
const msgTooManyPhones = "You have %d phones paired already: remove one in Security info first."

func (h *Handler) registerError(c *call, err error) *apiError {
	switch {
	case errors.Is(err, core.ErrPairingInvalid):
		return errorf(http.StatusNotFound, "This pairing link is not valid any more: make a new one in Security info.")
	case errors.Is(err, core.ErrTooManyDevices):
		return errorf(http.StatusConflict, msgTooManyPhones, model.MaxDevices)
	case errors.Is(err, devicekey.ErrBadKey):
		return errorf(http.StatusBadRequest, "The phone's key was refused: it must be an ECDSA P-256 key.")
	case errors.Is(err, core.ErrBadDeviceCall):
		return errorf(http.StatusUnauthorized, msgBadCall)
	case errors.Is(err, safetext.ErrNameEmpty):
		return errorf(http.StatusBadRequest, "Enter a name for this phone.")
	case errors.Is(err, safetext.ErrNameTooLong):
		return errorf(http.StatusBadRequest, "Choose a shorter name for this phone.")
	case errors.Is(err, safetext.ErrNameEncoding):
		return errorf(http.StatusBadRequest, "The phone's name is not valid text.")
	case errors.Is(err, safetext.ErrNameInvisible):
		var ce *safetext.CharError
		if errors.As(err, &ce) {
			return errorf(http.StatusBadRequest, "The phone's name contains an invisible or control character (%U): remove it.", ce.Rune)
		}
		return errorf(http.StatusBadRequest, "The phone's name contains an invisible or control character: remove it.")
	case errors.Is(err, core.ErrBadPush):
		return &apiError{status: http.StatusBadRequest, pushRefused: true, msg: sentence(err) + "."}
	}
	return h.internal(c, "register", err)
}

// sentence capitalises an error's first letter.
func sentence(err error) string {
	s := err.Error()
	if s != "" && 'a' <= s[0] && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// POST /phone/api/nonce {device_id} → {nonce}: for any well-formed id,
// so the answer tells nobody which phones exist; the signed call that
// uses the nonce finds out whether the device is still paired.
func (h *Handler) apiNonce(_ context.Context, c *call) (any, *apiError) {
	var in struct {
		DeviceID string `json:"device_id"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	id, err := strconv.ParseInt(in.DeviceID, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != in.DeviceID {
		return nil, errorf(http.StatusBadRequest, "The request is not valid: device_id must be the phone's number.")
	}
	if !h.nonces.allow(h.clientIP(c.r), h.now()) {
		return nil, errorf(http.StatusTooManyRequests, "Too many requests from this network: wait a minute and try again.")
	}
	nonce, err := h.core.Phones.IssueNonce(id)
	if err != nil {
		return nil, h.internal(c, "nonce", err)
	}
	return map[string]string{"nonce": nonce}, nil
}

// POST /phone/api/status (signed; also before confirmation) → {active,
// name, account, device}: the account's display name and username, only
// once the phone is active (the app page says which account it answers
// for).
func (h *Handler) apiStatus(ctx context.Context, c *call) (any, *apiError) {
	var in struct{}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	d, e := h.authenticate(ctx, c, true)
	if e != nil {
		return nil, e
	}
	out := map[string]any{"active": d.Active, "name": "", "account": "", "device": d.Name}
	if d.Active {
		u, err := h.core.Accounts.ByID(ctx, d.UserID)
		if err != nil {
			if errors.Is(err, model.ErrNotFound) {
				return nil, &apiError{status: http.StatusUnauthorized, msg: msgUnpaired, unpaired: true}
			}
			return nil, h.internal(c, "account", err)
		}
		out["name"] = web.DisplayName(u)
		out["account"] = u.Username
	}
	return out, nil
}

// pendingRequest is a sign-in request as the phone sees it: never the
// number, only how many digits it has (for the phone's input).
type pendingRequest struct {
	ID      string `json:"id"`
	Digits  int    `json:"digits"`
	Issuer  string `json:"issuer"`
	Site    string `json:"site"`
	IP      string `json:"ip"`
	Agent   string `json:"agent"`
	Created string `json:"created"`
	Expires string `json:"expires"`
}

// POST /phone/api/pending (signed) → {request: null | {…}}
func (h *Handler) apiPending(ctx context.Context, c *call) (any, *apiError) {
	var in struct{}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	d, e := h.authenticate(ctx, c, false)
	if e != nil {
		return nil, e
	}
	ap, err := h.core.Approvals.Pending(ctx, d)
	if err != nil {
		return nil, h.internal(c, "pending request", err)
	}
	out := struct {
		Request *pendingRequest `json:"request"`
	}{}
	if ap != nil {
		out.Request = &pendingRequest{
			ID: ap.ID, Digits: ap.Digits(), Issuer: h.cfg.Issuer, Site: ap.Site, IP: ap.RemoteIP, Agent: web.AgentName(ap.UserAgent),
			Created: ap.CreatedAt.UTC().Format(time.RFC3339), Expires: ap.ExpiresAt.UTC().Format(time.RFC3339),
		}
	}
	return out, nil
}

// POST /phone/api/answer (signed) {request_id, decision, number} →
// {status}
func (h *Handler) apiAnswer(ctx context.Context, c *call) (any, *apiError) {
	var in struct {
		RequestID string `json:"request_id"`
		Decision  string `json:"decision"`
		Number    string `json:"number"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if !validID(in.RequestID) {
		return nil, errorf(http.StatusBadRequest, "The request is not valid: request_id is missing or malformed.")
	}
	switch in.Decision {
	case core.DecisionApprove:
		// The digits may come grouped as the sign-in screen shows them
		// ("123 456"); the core compares them without the spaces.
		if !typedNumber(in.Number) {
			return nil, errorf(http.StatusBadRequest, "Enter the number shown on the sign-in screen.")
		}
	case core.DecisionDeny, core.DecisionReport:
		if in.Number != "" {
			return nil, errorf(http.StatusBadRequest, "The request is not valid: only approve takes a number.")
		}
	default:
		return nil, errorf(http.StatusBadRequest, "The request is not valid: decision must be approve, deny or report.")
	}
	d, e := h.authenticate(ctx, c, false)
	if e != nil {
		return nil, e
	}
	status, err := h.core.Approvals.Answer(ctx, d, in.RequestID, in.Decision, in.Number)
	var format *core.NumberFormatError
	switch {
	case errors.As(err, &format):
		return nil, errorf(http.StatusBadRequest, "Enter the %s number shown on the sign-in screen.", web.DigitsWord(format.Digits))
	case errors.Is(err, core.ErrApprovalGone):
		return nil, &apiError{status: http.StatusConflict, msg: "This sign-in request was already answered, or has expired.", gone: true}
	case err != nil:
		return nil, h.internal(c, "answer", err)
	}
	return map[string]string{"status": string(status)}, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// typedNumber reports whether s is a number as a phone may send it:
// core.MinNumberDigits to core.MaxNumberDigits digits, perhaps grouped
// by spaces.
func typedNumber(s string) bool {
	if len(s) > 2*core.MaxNumberDigits {
		return false
	}
	digits := core.UngroupNumber(s)
	if len(digits) < core.MinNumberDigits || len(digits) > core.MaxNumberDigits {
		return false
	}
	for i := range len(digits) {
		if !isDigit(digits[i]) {
			return false
		}
	}
	return true
}

// POST /phone/api/subscription (signed) {subscription} → {ok: true}
func (h *Handler) apiSubscription(ctx context.Context, c *call) (any, *apiError) {
	var in struct {
		Subscription *push.Subscription `json:"subscription"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if in.Subscription == nil {
		return nil, errorf(http.StatusBadRequest, "The request is not valid: subscription is missing.")
	}
	if e := h.checkPush(in.Subscription); e != nil {
		return nil, e
	}
	d, e := h.authenticate(ctx, c, false)
	if e != nil {
		return nil, e
	}
	err := h.core.Phones.SetPush(ctx, d, in.Subscription)
	switch {
	case errors.Is(err, core.ErrBadPush):
		return nil, &apiError{status: http.StatusBadRequest, pushRefused: true, msg: sentence(err) + "."}
	case err != nil:
		return nil, h.internal(c, "push subscription", err)
	}
	return map[string]bool{"ok": true}, nil
}
