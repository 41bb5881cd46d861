package core

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"sync"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/devicekey"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
)

// Limits of pairing and of phones' signed calls.
const (
	// PairingTTL is how long a pairing link is valid.
	PairingTTL = 10 * time.Minute
	// maxConfirmAttempts wrong confirmation codes void a pairing.
	maxConfirmAttempts = 5
	// nonceTTL is how long a phone has to use a nonce it fetched.
	nonceTTL = 2 * time.Minute
	// maxDeviceName bounds a device's name, in runes.
	maxDeviceName = 64
)

// Errors of pairing and of phones' calls, worded for the person concerned.
var (
	ErrPairingInvalid = errors.New("this pairing link is not valid any more: make a new one in Security info")
	ErrTooManyDevices = fmt.Errorf("you have %d phones paired already: remove one in Security info first", model.MaxDevices)
	ErrWrongPairCode  = errors.New("that is not the code shown on your phone")
	ErrNoPairing      = errors.New("no phone has opened the pairing link yet, or it has expired")
	ErrNotPaired      = errors.New("this phone is no longer paired: remove it in Security info and pair again")
	ErrBadDeviceCall  = errors.New("the phone's request could not be verified")
	ErrBadPush        = errors.New("the phone's push subscription was refused")
)

// Phones pairs users' phones and authenticates the calls they sign with
// their device keys.
type Phones struct {
	store    store.Store
	box      *secrets.Box
	codeKey  []byte
	nonceKey []byte
	// manifestKey makes the handles of links' install manifests.
	manifestKey []byte
	audit       *audit.Log
	events      *Events
	pushHosts   []string
	// pushResolver resolves a subscription's push host when it is
	// registered (nil: not resolved; the sender checks every address it
	// connects to either way).
	pushResolver push.Resolver
	now          func() time.Time
	// endpoints maps push endpoints to devices, so the push service's
	// "gone" (which names only the endpoint) marks the right device.
	endpoints sync.Map
}

// PairingToken is the secret of a pairing link, carried in the link's
// fragment. It does reach a request line once in the link's life, on iOS,
// where the install manifest's start_url holds it: the manifest is named
// by an opaque handle, but whoever reads that address (from an access log,
// say) can fetch the manifest while the link lives. So a link takes
// several phones (model.MaxPairingPhones) and only the code the user
// types activates one.
type PairingToken string

func (t PairingToken) hash() []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// ProofNonce is the nonce a phone signs its registration with: derived
// from the single-use token, so the registration proves the phone holds
// the key it registers without a server round trip.
func (t PairingToken) ProofNonce() string {
	return base64.RawURLEncoding.EncodeToString(t.hash())
}

// ProofDeviceID is the device id a registration is signed with (the
// device has none yet).
const ProofDeviceID = "new"

// StartPairing makes a pairing link token for u, bound to the Security
// info session sessionHash; it voids u's earlier links.
func (p *Phones) StartPairing(ctx context.Context, u *model.User, sessionHash []byte) (PairingToken, error) {
	raw, err := secrets.RandomBytes(32)
	if err != nil {
		return "", err
	}
	token := PairingToken(base64.RawURLEncoding.EncodeToString(raw))
	pr := &model.Pairing{TokenHash: token.hash(), UserID: u.ID, SessionHash: sessionHash, ExpiresAt: p.now().Add(PairingTTL)}
	if err := p.store.CreatePairing(ctx, pr); err != nil {
		return "", fmt.Errorf("core: start pairing: %w", err)
	}
	return token, nil
}

// PairingFor returns the pairing the session started (nil when none).
func (p *Phones) PairingFor(ctx context.Context, userID int64, sessionHash []byte) (*model.Pairing, error) {
	pr, err := p.store.PairingBySession(ctx, userID, sessionHash)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: pairing: %w", err)
	}
	return pr, nil
}

// Registration is what a phone sends through a pairing link.
type Registration struct {
	Token     PairingToken
	PublicKey []byte // SPKI DER or raw point of the phone's P-256 key
	Name      string
	Push      *push.Subscription // nil: notifications not granted
	// Call and Sig prove the phone holds the key: the call is signed with
	// DeviceID ProofDeviceID and Nonce Token.ProofNonce().
	Call devicekey.Request
	Sig  []byte
}

// Register stores the phone, inactive, and returns it with the
// confirmation code the phone shows; the device becomes active only when
// the session that made the link enters the code (Confirm). A link takes
// up to model.MaxPairingPhones phones, each with its own code.
func (p *Phones) Register(ctx context.Context, reg Registration) (*model.Device, string, error) {
	pub, err := devicekey.ParsePublicKey(reg.PublicKey)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrBadDeviceCall, err)
	}
	call := reg.Call
	if call.DeviceID != ProofDeviceID || call.Nonce != reg.Token.ProofNonce() {
		return nil, "", ErrBadDeviceCall
	}
	input, err := call.SigningInput()
	if err != nil || devicekey.Verify(pub, input, reg.Sig) != nil {
		return nil, "", ErrBadDeviceCall
	}
	name, err := deviceName(reg.Name)
	if err != nil {
		return nil, "", err
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, "", err
	}
	if reg.Push != nil {
		if err := p.CheckPush(reg.Push); err != nil {
			return nil, "", err
		}
	}
	d := &model.Device{Name: name, PublicKey: spki}
	code, err := p.registerWithCode(ctx, reg.Token, d)
	if err != nil {
		return nil, "", err
	}
	if reg.Push != nil {
		if err := p.SetPush(ctx, d, reg.Push); err != nil {
			return nil, "", err
		}
	}
	return d, code, nil
}

// registerWithCode stores d through the link token with a fresh
// confirmation code, one no other phone waiting on the link shows, and
// returns the code.
func (p *Phones) registerWithCode(ctx context.Context, token PairingToken, d *model.Device) (string, error) {
	for range 3 {
		code, err := randomDigits(6)
		if err != nil {
			return "", err
		}
		err = p.store.RegisterDevice(ctx, token.hash(), d, p.codeHash(token.hash(), code), p.now(), model.MaxDevices, model.MaxPairingPhones)
		switch {
		case err == nil:
			return code, nil
		case errors.Is(err, model.ErrConflict):
			continue // another phone shows this code: draw again
		case errors.Is(err, model.ErrNotFound):
			return "", ErrPairingInvalid // used up, expired or voided
		case errors.Is(err, model.ErrLimit):
			return "", ErrTooManyDevices
		default:
			return "", fmt.Errorf("core: register device: %w", err)
		}
	}
	return "", fmt.Errorf("core: register device: no free confirmation code")
}

// deviceName checks a phone's chosen name; empty gives "Phone".
func deviceName(s string) (string, error) {
	if s == "" {
		return "Phone", nil
	}
	name, err := safetext.ValidName(s, maxDeviceName)
	if err != nil {
		return "", fmt.Errorf("device name: %w", err)
	}
	return name, nil
}

// codeHash keys the confirmation code to its pairing, so a copy of the
// database does not give the code.
func (p *Phones) codeHash(tokenHash []byte, code string) []byte {
	m := hmac.New(sha256.New, p.codeKey)
	m.Write(tokenHash)
	m.Write([]byte(code))
	return m.Sum(nil)
}

// Confirm activates, of the phones registered through the pairing this
// session made, the one that shows code; the others are dropped. Wrong
// codes count; five void the pairing and its phones.
func (p *Phones) Confirm(ctx context.Context, u *model.User, sessionHash []byte, code, ip string) (*model.Device, error) {
	pr, err := p.PairingFor(ctx, u.ID, sessionHash)
	if err != nil {
		return nil, err
	}
	if pr == nil || pr.Waiting == 0 {
		return nil, ErrNoPairing
	}
	d, err := p.confirm(ctx, u, sessionHash, p.codeHash(pr.TokenHash, code), ip)
	switch {
	case errors.Is(err, model.ErrConflict):
		return nil, ErrWrongPairCode
	case errors.Is(err, model.ErrNotFound):
		return nil, ErrNoPairing
	case err != nil:
		return nil, fmt.Errorf("core: confirm pairing: %w", err)
	}
	return d, nil
}

// confirm activates the phone showing the code whose hash is codeHash in
// one transaction, with the rule that a registered method makes an
// Enabled user Enforced (promoteOnNewMethod) and the audit rows. A wrong
// code is model.ErrConflict, and counts: its transaction commits.
func (p *Phones) confirm(ctx context.Context, u *model.User, sessionHash, codeHash []byte, ip string) (*model.Device, error) {
	var d *model.Device
	var wrong bool
	var rows []model.AuditEvent
	err := p.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		d, wrong, rows = nil, false, nil
		// The link is locked first (by ConfirmPairing), then the user.
		var err error
		d, err = tx.ConfirmPairing(ctx, u.ID, sessionHash, codeHash, p.now(), maxConfirmAttempts)
		if errors.Is(err, model.ErrConflict) {
			wrong = true
			return nil // the wrong code's attempt is kept
		}
		if err != nil {
			return err
		}
		locked, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		promoted, err := promoteOnNewMethod(ctx, tx, locked)
		if err != nil {
			return err
		}
		events := []model.AuditEvent{{UserID: u.ID, Username: u.Username, Event: audit.DevicePaired, RemoteIP: ip, Detail: d.Name}}
		if promoted {
			events = append(events, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.MFAStateChanged,
				RemoteIP: ip, Detail: "enabled -> enforced (method registered)"})
		}
		for _, e := range events {
			ev, err := auditIn(ctx, tx, e)
			if err != nil {
				return err
			}
			rows = append(rows, ev)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if wrong {
		return nil, fmt.Errorf("%w: wrong confirmation code", model.ErrConflict)
	}
	for _, ev := range rows {
		p.audit.Logged(ev)
	}
	if len(rows) > 1 {
		// Promoted: what nodes cache of the user is out of date.
		p.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	}
	return d, nil
}

// Devices lists u's phones, oldest first (inactive ones too).
func (p *Phones) Devices(ctx context.Context, userID int64) ([]model.Device, error) {
	ds, err := p.store.Devices(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("core: devices: %w", err)
	}
	return ds, nil
}

// Remove deletes phone id of u and ends u's sessions but keepSession (the
// one removing it; see removeMethod); with keepOne not u's last method
// (model.ErrLimit).
func (p *Phones) Remove(ctx context.Context, u *model.User, id int64, keepOne bool, keepSession []byte, ip string) error {
	err := removeMethod(ctx, p.store, p.audit, p.events, methodRemoval{user: u, kind: kindPhone, id: id, keepOne: keepOne,
		keepSession: keepSession, ip: ip})
	if err != nil {
		return fmt.Errorf("core: remove device: %w", err)
	}
	return nil
}

// IssueNonce gives a device id a nonce for its next signed call. Issuing
// stores nothing and reads nothing (so nobody can exhaust a device's
// nonces by asking for them, nor learn which devices exist): the nonce
// carries its time and a MAC binding it to the id; a signed call checks
// that the device exists and records its nonce as used, once.
func (p *Phones) IssueNonce(deviceID int64) (string, error) {
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(p.now().UnixMilli()))
	if _, err := rand.Read(b[8:24]); err != nil {
		return "", err
	}
	copy(b[24:], p.nonceMAC(deviceID, b[:24]))
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// nonceLen is a nonce's size: issue time (8), random (16), MAC (16).
const nonceLen = 40

func (p *Phones) nonceMAC(deviceID int64, head []byte) []byte {
	m := hmac.New(sha256.New, p.nonceKey)
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(deviceID))
	m.Write(id[:])
	m.Write(head)
	return m.Sum(nil)[:16]
}

// nonceExpiry checks that nonce was issued to the device within nonceTTL
// and returns when it expires.
func (p *Phones) nonceExpiry(deviceID int64, nonce string) (time.Time, bool) {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceLen || !hmac.Equal(b[24:], p.nonceMAC(deviceID, b[:24])) {
		return time.Time{}, false
	}
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(b[:8])))
	expires := issued.Add(nonceTTL)
	now := p.now()
	return expires, !issued.After(now.Add(time.Second)) && now.Before(expires)
}

// maxUsedNonces bounds the used nonces one device keeps on record (within
// their lifetime): far above what a phone polling every 2 s uses.
const maxUsedNonces = 1000

// Authenticate checks a phone's signed call: the device exists (and is
// active unless allowInactive: a phone waiting for its confirmation asks
// whether it is paired yet), the signature verifies with its key, and the
// nonce was issued to it and is used for the first time.
func (p *Phones) Authenticate(ctx context.Context, call devicekey.Request, sig []byte, allowInactive bool) (*model.Device, error) {
	id, err := strconv.ParseInt(call.DeviceID, 10, 64)
	if err != nil || id <= 0 {
		return nil, ErrBadDeviceCall
	}
	d, err := p.store.DeviceByID(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, ErrNotPaired
	}
	if err != nil {
		return nil, fmt.Errorf("core: device: %w", err)
	}
	if !d.Active && !allowInactive {
		return nil, ErrNotPaired
	}
	pub, err := devicekey.ParsePublicKey(d.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("core: stored device key: %w", err)
	}
	input, err := call.SigningInput()
	if err != nil || devicekey.Verify(pub, input, sig) != nil {
		return nil, ErrBadDeviceCall
	}
	if err := p.useNonce(ctx, d.ID, call.Nonce); err != nil {
		return nil, err
	}
	if err := p.store.TouchDevice(ctx, d.ID, p.now()); err != nil && !errors.Is(err, model.ErrNotFound) {
		return nil, fmt.Errorf("core: device use: %w", err)
	}
	return d, nil
}

// useNonce records a signed call's nonce as used: a nonce not issued to
// this device, expired, or used before is refused.
func (p *Phones) useNonce(ctx context.Context, deviceID int64, nonce string) error {
	expires, ok := p.nonceExpiry(deviceID, nonce)
	if !ok {
		return ErrBadDeviceCall
	}
	err := p.store.UseNonce(ctx, deviceID, nonceHash(nonce), p.now(), expires, maxUsedNonces)
	switch {
	case errors.Is(err, model.ErrConflict), errors.Is(err, model.ErrLimit):
		return ErrBadDeviceCall
	case errors.Is(err, model.ErrNotFound):
		return ErrNotPaired
	case err != nil:
		return fmt.Errorf("core: nonce: %w", err)
	}
	return nil
}

// pushAAD binds a sealed subscription to its device.
func pushAAD(deviceID int64) []byte {
	return []byte("mfagate/push/" + strconv.FormatInt(deviceID, 10))
}

// SetPush checks a phone's push subscription against the allowed push
// services (no requests to other hosts) and stores it sealed.
func (p *Phones) SetPush(ctx context.Context, d *model.Device, sub *push.Subscription) error {
	if err := p.CheckPush(sub); err != nil {
		return err
	}
	raw, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	sealed, err := p.box.Seal(raw, pushAAD(d.ID))
	if err != nil {
		return err
	}
	if err := p.store.SetDevicePush(ctx, d.ID, sealed); err != nil {
		return fmt.Errorf("core: device push: %w", err)
	}
	d.Push, d.PushDead = sealed, false
	return nil
}

// CheckPush refuses a subscription that is malformed or points anywhere
// but an allowed push service, including a name that resolves where its
// allow-list entry may not reach (ErrBadPush wrapping why).
func (p *Phones) CheckPush(sub *push.Subscription) error {
	if err := sub.Validate(p.pushHosts); err != nil {
		return fmt.Errorf("%w: %w", ErrBadPush, err)
	}
	if p.pushResolver != nil {
		ctx, cancel := context.WithTimeout(context.Background(), pushLookupTimeout)
		defer cancel()
		if err := sub.CheckAddresses(ctx, p.pushHosts, p.pushResolver); err != nil {
			return fmt.Errorf("%w: %w", ErrBadPush, err)
		}
	}
	return nil
}

// pushLookupTimeout bounds resolving a push host at registration.
const pushLookupTimeout = 2 * time.Second

// subscription opens a device's sealed subscription; nil when it has none
// or the push service said it is gone.
func (p *Phones) subscription(d *model.Device) *push.Subscription {
	if d.Push == nil || d.PushDead {
		return nil
	}
	raw, err := p.box.Open(d.Push, pushAAD(d.ID))
	if err != nil {
		return nil
	}
	var sub push.Subscription
	if json.Unmarshal(raw, &sub) != nil {
		return nil
	}
	p.endpoints.Store(sub.Endpoint, d.ID)
	return &sub
}

// PushGone marks the device whose subscription the push service says is
// gone: the device stays paired and works while its app is open.
func (p *Phones) PushGone(ctx context.Context, endpoint string) error {
	id, ok := p.endpoints.LoadAndDelete(endpoint)
	if !ok {
		return nil
	}
	if err := p.store.MarkPushDead(ctx, id.(int64)); err != nil {
		return fmt.Errorf("core: push gone: %w", err)
	}
	return nil
}

// randomDigits returns n uniformly random decimal digits.
func randomDigits(n int) (string, error) {
	b := make([]byte, n)
	for i := range b {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return "", err
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b), nil
}

// nonceHash is what the store keeps of a used nonce.
func nonceHash(nonce string) []byte {
	h := sha256.Sum256([]byte(nonce))
	return h[:]
}
