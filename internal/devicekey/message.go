package devicekey

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Domain prefixes: the first line of every signed message names what it
// is, so a signature made for one kind of message is never valid as
// another (a signed API call cannot be passed off as an approval).
const (
	RequestDomain = "mfagate-device-v1"
	AnswerDomain  = "mfagate-answer-v1"
)

// The decisions an Answer may carry.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
	DecisionReport  = "report"
)

// Field limits. They keep messages small and, with the character sets
// below, make every field free of "\n", so the line-per-field encoding
// can be split back into exactly one set of fields.
const (
	maxMethodLen = 16
	maxHostLen   = 261 // a 253-character DNS name, ":", a 5-digit port, and slack for IPv6 brackets
	maxPathLen   = 4096
	maxIDLen     = 128
)

// ErrBadField means a message field is empty where it must not be, too
// long, or holds characters the signed encoding does not allow.
var ErrBadField = errors.New("devicekey: bad field in signed message")

// Request is one API call from a paired phone, as both sides see it.
type Request struct {
	// Method is the HTTP method, upper case (fetch upper-cases the
	// standard ones; send PATCH as "PATCH").
	Method string
	// Host is the Host header: host name and, when not the default for
	// the scheme, ":port" (r.Host on the server, location.host or
	// new URL(u).host in the page). Compared case-insensitively.
	Host string
	// Path is the request target as sent on the request line: the
	// escaped path and, when there is one, "?" and the query
	// (r.RequestURI on the server, url.pathname + url.search in the
	// page), so the query is signed too.
	Path string
	// DeviceID is the id the gateway gave the phone at pairing.
	DeviceID string
	// Nonce is single use: the server must refuse a nonce it has seen.
	Nonce string
	// Body is the request body exactly as sent; it may be empty.
	Body []byte
}

// SigningInput returns the bytes the phone signs for r:
//
//	"mfagate-device-v1\n" + Method + "\n" + lower-case Host + "\n" + Path + "\n" +
//	DeviceID + "\n" + Nonce + "\n" + base64url(SHA-256(Body))
//
// with no trailing newline, and base64url unpadded. It refuses fields that
// would make the encoding ambiguous (see ErrBadField).
func (r Request) SigningInput() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(r.Body)
	return joinLines(RequestDomain, r.Method, asciiLower(r.Host), r.Path, r.DeviceID, r.Nonce,
		base64.RawURLEncoding.EncodeToString(sum[:])), nil
}

// check validates every field of a Request.
func (r Request) check() error {
	return firstError(
		checkMethod(r.Method),
		checkVisible("Host", r.Host, maxHostLen),
		checkPath(r.Path),
		checkID("DeviceID", r.DeviceID),
		checkID("Nonce", r.Nonce),
	)
}

// Answer is a phone's answer to a sign-in request, signed on its own so
// the decision (and the number the user typed) is bound to the device key
// independently of the API call that carries it.
type Answer struct {
	// RequestID identifies the sign-in request being answered.
	RequestID string
	// Decision is DecisionApprove, DecisionDeny or DecisionReport.
	Decision string
	// Number is the digits the user typed to approve (2 to 8, as
	// push_number_digits sets, without grouping spaces); empty for deny
	// and report.
	Number string
	// DeviceID is the id the gateway gave the phone at pairing.
	DeviceID string
	// Nonce is single use, as in Request.
	Nonce string
}

// SigningInput returns the bytes the phone signs for a:
//
//	"mfagate-answer-v1\n" + RequestID + "\n" + Decision + "\n" + Number + "\n" +
//	DeviceID + "\n" + Nonce
//
// with no trailing newline. Number is an empty line for deny and report.
func (a Answer) SigningInput() ([]byte, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	return joinLines(AnswerDomain, a.RequestID, a.Decision, a.Number, a.DeviceID, a.Nonce), nil
}

// check validates every field of an Answer.
func (a Answer) check() error {
	return firstError(
		checkID("RequestID", a.RequestID),
		checkDecision(a.Decision, a.Number),
		checkID("DeviceID", a.DeviceID),
		checkID("Nonce", a.Nonce),
	)
}

// NewNonce returns 32 random bytes as unpadded base64url (43 characters).
func NewNonce() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("devicekey: nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// joinLines joins already-validated fields with "\n".
func joinLines(fields ...string) []byte {
	var buf bytes.Buffer
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte('\n')
		}
		buf.WriteString(f)
	}
	return buf.Bytes()
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkMethod allows 1 to 16 upper-case ASCII letters.
func checkMethod(m string) error {
	if m == "" || len(m) > maxMethodLen {
		return fmt.Errorf("%w: Method must be 1 to %d letters", ErrBadField, maxMethodLen)
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return fmt.Errorf("%w: Method must be upper-case ASCII letters", ErrBadField)
		}
	}
	return nil
}

// checkPath allows a request target that starts with "/".
func checkPath(p string) error {
	if err := checkVisible("Path", p, maxPathLen); err != nil {
		return err
	}
	if p[0] != '/' {
		return fmt.Errorf("%w: Path must start with /", ErrBadField)
	}
	return nil
}

// checkVisible allows 1 to maxLen visible ASCII characters (no space, no
// control characters, nothing outside ASCII): what a Host header or a
// request target holds once escaped. Non-ASCII is refused rather than
// normalised so that Go and JavaScript cannot disagree about it.
func checkVisible(field, s string, maxLen int) error {
	if s == "" || len(s) > maxLen {
		return fmt.Errorf("%w: %s must be 1 to %d characters", ErrBadField, field, maxLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return fmt.Errorf("%w: %s holds a space, control or non-ASCII character", ErrBadField, field)
		}
	}
	return nil
}

// checkID allows 1 to 128 characters from the URL-unreserved set
// (A-Z a-z 0-9 - . _ ~), which covers base64url, UUIDs and numbers and
// needs no quoting in a header.
func checkID(field, s string) error {
	if s == "" || len(s) > maxIDLen {
		return fmt.Errorf("%w: %s must be 1 to %d characters", ErrBadField, field, maxIDLen)
	}
	for i := 0; i < len(s); i++ {
		if !isIDChar(s[i]) {
			return fmt.Errorf("%w: %s may hold only A-Z a-z 0-9 - . _ ~", ErrBadField, field)
		}
	}
	return nil
}

// allDigits reports whether s is ASCII digits only.
func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isIDChar reports whether c is URL-unreserved.
func isIDChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// Lengths of an approval's Number (push_number_digits).
const (
	minNumberLen = 2
	maxNumberLen = 8
)

// checkDecision allows approve with 2 to 8 digits, and deny or report
// with no number.
func checkDecision(decision, number string) error {
	switch decision {
	case DecisionApprove:
		if !allDigits(number) || len(number) < minNumberLen || len(number) > maxNumberLen {
			return fmt.Errorf("%w: approve needs a Number of 2 to 8 digits", ErrBadField)
		}
	case DecisionDeny, DecisionReport:
		if number != "" {
			return fmt.Errorf("%w: %s takes no Number", ErrBadField, decision)
		}
	default:
		return fmt.Errorf("%w: Decision must be approve, deny or report", ErrBadField)
	}
	return nil
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// asciiLower lower-cases A-Z only. strings.ToLower would also map
// non-ASCII, which checkVisible has already refused, but keeping to ASCII
// says plainly that this matches the page's toLowerCase on the same input.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
