package devicekey

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// AuthScheme is the HTTP authentication scheme of a phone's signed call:
//
//	Authorization: MFA-Device id="<DeviceID>", nonce="<Nonce>", sig="<base64url r‖s>"
//
// The three parameters are required, each exactly once, in any order;
// values are quoted; names and the scheme are case-insensitive (RFC 9110).
// The signature is unpadded base64url of the 64-byte r‖s.
const AuthScheme = "MFA-Device"

// maxAuthorizationLen caps the header before parsing. The largest valid
// header (two 128-character ids and an 86-character signature) is under
// 400 bytes.
const maxAuthorizationLen = 1024

// ErrBadAuthorization means an Authorization header is not a well-formed
// MFA-Device credential.
var ErrBadAuthorization = errors.New("devicekey: malformed MFA-Device authorization")

// FormatAuthorization returns the Authorization header value for a signed
// call. It refuses ids the signed message would refuse and signatures that
// are not 64 bytes.
func FormatAuthorization(deviceID, nonce string, sig []byte) (string, error) {
	if err := firstError(checkID("DeviceID", deviceID), checkID("Nonce", nonce)); err != nil {
		return "", err
	}
	if len(sig) != SignatureSize {
		return "", fmt.Errorf("%w: signature is %d bytes, want %d", ErrBadAuthorization, len(sig), SignatureSize)
	}
	return fmt.Sprintf(`%s id="%s", nonce="%s", sig="%s"`,
		AuthScheme, deviceID, nonce, base64.RawURLEncoding.EncodeToString(sig)), nil
}

// ParseAuthorization reads an Authorization header value made by
// FormatAuthorization (or the phone page). The values it returns are
// checked for form only; the signature still has to be verified against
// the device's key and the nonce against the ones already used.
//
// Callers should refuse a request that carries more than one
// Authorization header rather than pick one.
func ParseAuthorization(h string) (deviceID, nonce string, sig []byte, err error) {
	params, err := authParams(h)
	if err != nil {
		return "", "", nil, err
	}
	deviceID, nonce = params["id"], params["nonce"]
	if err := firstError(checkID("id", deviceID), checkID("nonce", nonce)); err != nil {
		return "", "", nil, fmt.Errorf("%w: %w", ErrBadAuthorization, err)
	}
	sig, err = decodeSignature(params["sig"])
	if err != nil {
		return "", "", nil, err
	}
	return deviceID, nonce, sig, nil
}

// decodeSignature decodes strict unpadded base64url to exactly 64 bytes.
// Strict decoding refuses non-zero trailing bits, so one signature has
// one textual form.
func decodeSignature(s string) ([]byte, error) {
	sig, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: sig is not unpadded base64url", ErrBadAuthorization)
	}
	if len(sig) != SignatureSize {
		return nil, fmt.Errorf("%w: sig is %d bytes, want %d", ErrBadAuthorization, len(sig), SignatureSize)
	}
	return sig, nil
}

// authParams checks the scheme and returns the id, nonce and sig
// parameters, refusing unknown, duplicate and missing ones.
func authParams(h string) (map[string]string, error) {
	if len(h) > maxAuthorizationLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrBadAuthorization, maxAuthorizationLen)
	}
	rest, ok := cutScheme(strings.Trim(h, " \t"))
	if !ok {
		return nil, fmt.Errorf("%w: scheme is not %s", ErrBadAuthorization, AuthScheme)
	}
	params := make(map[string]string, 3)
	p := paramScanner{s: rest}
	for !p.done() {
		name, value, err := p.next()
		if err != nil {
			return nil, err
		}
		if err := addParam(params, name, value); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"id", "nonce", "sig"} {
		if _, ok := params[name]; !ok {
			return nil, fmt.Errorf("%w: missing %s", ErrBadAuthorization, name)
		}
	}
	return params, nil
}

// cutScheme removes the case-insensitive scheme and the spaces after it.
// A space must follow the scheme, so "MFA-Devicex" is not this scheme.
func cutScheme(h string) (string, bool) {
	if len(h) < len(AuthScheme) || !strings.EqualFold(h[:len(AuthScheme)], AuthScheme) {
		return "", false
	}
	rest := h[len(AuthScheme):]
	if rest != "" && rest[0] != ' ' {
		return "", false
	}
	return strings.TrimLeft(rest, " "), true
}

// addParam records one known parameter once.
func addParam(params map[string]string, name, value string) error {
	name = strings.ToLower(name)
	switch name {
	case "id", "nonce", "sig":
	default:
		return fmt.Errorf("%w: unknown parameter %.20q", ErrBadAuthorization, name)
	}
	if _, dup := params[name]; dup {
		return fmt.Errorf("%w: %s given twice", ErrBadAuthorization, name)
	}
	params[name] = value
	return nil
}

// paramScanner reads auth-params: name OWS "=" OWS quoted-value, separated
// by OWS "," OWS. Quoted values may not contain backslashes or quotes:
// none of the values this scheme carries needs them, so escapes are
// refused rather than interpreted.
type paramScanner struct {
	s   string
	pos int
	// seen counts the parameters read so far, to require commas between.
	seen int
}

// done reports whether only the end of the header is left.
func (p *paramScanner) done() bool { return p.pos >= len(p.s) }

// next reads one parameter, and the comma before it if it is not the
// first.
func (p *paramScanner) next() (name, value string, err error) {
	if p.seen > 0 {
		p.skipOWS()
		if !p.consume(',') {
			return "", "", fmt.Errorf("%w: expected a comma between parameters", ErrBadAuthorization)
		}
	}
	p.skipOWS()
	name = p.token()
	if name == "" {
		return "", "", fmt.Errorf("%w: expected a parameter name", ErrBadAuthorization)
	}
	p.skipOWS()
	if !p.consume('=') {
		return "", "", fmt.Errorf("%w: expected = after %.20q", ErrBadAuthorization, name)
	}
	p.skipOWS()
	value, err = p.quoted()
	if err != nil {
		return "", "", err
	}
	p.seen++
	p.skipOWS()
	return name, value, nil
}

// skipOWS skips spaces and tabs.
func (p *paramScanner) skipOWS() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// consume skips c if it is next.
func (p *paramScanner) consume(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// token reads a parameter name: letters, digits, "-" and "_", a subset of
// RFC 9110's tchar that covers every name this scheme uses.
func (p *paramScanner) token() string {
	start := p.pos
	for p.pos < len(p.s) && isNameChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// isNameChar reports whether c may appear in a parameter name.
func isNameChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// quoted reads a double-quoted value of visible ASCII other than
// backslash.
func (p *paramScanner) quoted() (string, error) {
	if !p.consume('"') {
		return "", fmt.Errorf("%w: parameter values must be quoted", ErrBadAuthorization)
	}
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] != '"' {
		if c := p.s[p.pos]; c < 0x21 || c > 0x7e || c == '\\' {
			return "", fmt.Errorf("%w: unexpected character in a quoted value", ErrBadAuthorization)
		}
		p.pos++
	}
	if p.pos >= len(p.s) {
		return "", fmt.Errorf("%w: unterminated quoted value", ErrBadAuthorization)
	}
	value := p.s[start:p.pos]
	p.pos++ // closing quote
	return value, nil
}
