package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// Conformance cases for paired phones, pairing links, device nonces,
// sign-in approval requests and blocked accounts.

// --- helpers ---

// phoneHash is a distinct 32-byte value per kind and i, standing for the
// hashes of tokens, sessions, codes and nonces.
func phoneHash(kind string, i int) []byte { return fmt.Appendf(nil, "%-8.8s%024d", kind, i) }

func tokenHash(i int) []byte   { return phoneHash("token", i) }
func pairSession(i int) []byte { return phoneHash("session", i) }
func codeHash(i int) []byte    { return phoneHash("code", i) }
func nonceHash(i int) []byte   { return phoneHash("nonce", i) }

// maxCodeAttempts is the maxAttempts the cases pass to ConfirmPairing.
const maxCodeAttempts = 3

func newDevice(i int) *model.Device {
	return &model.Device{Name: fmt.Sprintf("phone %d", i), PublicKey: fmt.Appendf(nil, "spki-der-%d", i)}
}

// mustCreatePairing makes pairing link i (token i, session i) for the
// user, expiring at expires.
func mustCreatePairing(t *testing.T, s store.Store, userID int64, i int, expires time.Time) *model.Pairing {
	t.Helper()
	p := &model.Pairing{TokenHash: tokenHash(i), UserID: userID, SessionHash: pairSession(i), ExpiresAt: expires}
	noErr(t, "CreatePairing", s.CreatePairing(t.Context(), p))
	return p
}

// mustRegister registers device i through link i with code i at now.
func mustRegister(t *testing.T, s store.Store, i int, now time.Time) *model.Device {
	t.Helper()
	d := newDevice(i)
	noErr(t, "RegisterDevice", s.RegisterDevice(t.Context(), tokenHash(i), d, codeHash(i), now, model.MaxDevices, model.MaxPairingPhones))
	return d
}

// mustPairDevice pairs device i to the user through link i and confirms
// it: an active device.
func mustPairDevice(t *testing.T, s store.Store, userID int64, i int) *model.Device {
	t.Helper()
	now := ms(base())
	mustCreatePairing(t, s, userID, i, now.Add(10*time.Minute))
	d := mustRegister(t, s, i, now)
	got, err := confirmPairing(s, t.Context(), userID, pairSession(i), codeHash(i), now, maxCodeAttempts)
	noErr(t, "ConfirmPairing", err)
	if got.ID != d.ID || !got.Active {
		t.Fatalf("ConfirmPairing = %+v, want device %d active", got, d.ID)
	}
	return got
}

func mustAddTOTP(t *testing.T, s store.Store, userID int64) *model.TOTPAuthenticator {
	t.Helper()
	a := &model.TOTPAuthenticator{UserID: userID, Name: "app", SealedSecret: []byte("sealed")}
	noErr(t, "AddTOTP", addTOTP(s, t.Context(), a))
	return a
}

func mustDevice(t *testing.T, s store.Store, id int64) *model.Device {
	t.Helper()
	d, err := s.DeviceByID(t.Context(), id)
	noErr(t, fmt.Sprintf("DeviceByID(%d)", id), err)
	return d
}

func deviceGone(t *testing.T, s store.Store, what string, id int64) {
	t.Helper()
	_, err := s.DeviceByID(t.Context(), id)
	wantErr(t, what+": DeviceByID", err, model.ErrNotFound)
}

func pairingGone(t *testing.T, s store.Store, what string, userID int64, i int) {
	t.Helper()
	_, err := s.PairingBySession(t.Context(), userID, pairSession(i))
	wantErr(t, what+": PairingBySession", err, model.ErrNotFound)
}

// methods counts the user's authenticators and active devices.
func methods(t *testing.T, s store.Store, userID int64) int {
	t.Helper()
	totps, err := s.TOTPAuthenticators(t.Context(), userID)
	noErr(t, "TOTPAuthenticators", err)
	devs, err := s.Devices(t.Context(), userID)
	noErr(t, "Devices", err)
	n := len(totps)
	for _, d := range devs {
		if d.Active {
			n++
		}
	}
	return n
}

// aboutNow checks that tm is as stored (UTC, milliseconds) and between
// before and about now.
func aboutNow(t *testing.T, what string, tm, before time.Time) {
	t.Helper()
	checkUTC(t, what, tm)
	if tm.Before(before.Add(-time.Second)) || tm.After(time.Now().Add(time.Second)) {
		t.Errorf("%s = %v, not about now", what, tm)
	}
}

func checkDevice(t *testing.T, got, want *model.Device) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Name != want.Name || !bytes.Equal(got.PublicKey, want.PublicKey) ||
		!bytes.Equal(got.Push, want.Push) || (got.Push == nil) != (len(want.Push) == 0) ||
		got.PushDead != want.PushDead || got.Active != want.Active {
		t.Errorf("device = %+v, want %+v", got, want)
	}
	sameTime(t, "device CreatedAt", got.CreatedAt, ms(want.CreatedAt))
	sameTime(t, "device ActivatedAt", got.ActivatedAt, ms(want.ActivatedAt))
	sameTime(t, "device LastUsedAt", got.LastUsedAt, ms(want.LastUsedAt))
}

func newApproval(id string, userID int64, sessionHash []byte, expires time.Time) *model.Approval {
	return &model.Approval{
		ID:          id,
		UserID:      userID,
		SessionHash: sessionHash,
		Number:      42,
		ExpiresAt:   expires,
		Site:        "app.example.com",
		RemoteIP:    "192.0.2.9",
		UserAgent:   "Firefox/140",
	}
}

// createApproval stores a unless its user created limit or more requests
// since since (model.ErrLimit), in one transaction as the core makes it:
// the user's lock, the count, the insert (Tx.LockUser,
// CountApprovalsSince, AddApproval).
func createApproval(ctx context.Context, s store.Store, a *model.Approval, since time.Time, limit int) error {
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.LockUser(ctx, a.UserID); err != nil {
			return err
		}
		n, err := tx.CountApprovalsSince(ctx, a.UserID, since)
		if err != nil {
			return err
		}
		if n >= limit {
			return fmt.Errorf("%w: %d sign-in requests since %s", model.ErrLimit, n, since.Format(time.RFC3339))
		}
		return tx.AddApproval(ctx, a)
	})
}

// mustCreateApproval creates request id for the user and session, expiring
// in a minute, with no effective limit.
func mustCreateApproval(t *testing.T, s store.Store, id string, userID int64, sessionHash []byte) *model.Approval {
	t.Helper()
	a := newApproval(id, userID, sessionHash, time.Now().Add(time.Minute))
	noErr(t, "CreateApproval("+id+")", createApproval(t.Context(), s, a, time.Now().Add(-time.Hour), 1000))
	return a
}

func mustApproval(t *testing.T, s store.Store, id string) *model.Approval {
	t.Helper()
	a, err := s.ApprovalByID(t.Context(), id)
	noErr(t, "ApprovalByID("+id+")", err)
	return a
}

func wantStatus(t *testing.T, s store.Store, id string, want model.ApprovalStatus) {
	t.Helper()
	if got := mustApproval(t, s, id); got.Status != want {
		t.Errorf("request %s status = %q, want %q", id, got.Status, want)
	}
}

func checkApproval(t *testing.T, got, want *model.Approval) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || !bytes.Equal(got.SessionHash, want.SessionHash) ||
		got.Number != want.Number || got.Status != want.Status || got.DeviceID != want.DeviceID ||
		got.Site != want.Site || got.RemoteIP != want.RemoteIP || got.UserAgent != want.UserAgent {
		t.Errorf("request = %+v, want %+v", got, want)
	}
	sameTime(t, "request CreatedAt", got.CreatedAt, ms(want.CreatedAt))
	sameTime(t, "request ExpiresAt", got.ExpiresAt, ms(want.ExpiresAt))
	sameTime(t, "request AnsweredAt", got.AnsweredAt, ms(want.AnsweredAt))
}

func sessionGone(t *testing.T, s store.Store, what string, idHash []byte) {
	t.Helper()
	_, err := s.SessionByHash(t.Context(), idHash)
	wantErr(t, what+": SessionByHash", err, model.ErrNotFound)
}

func sessionKept(t *testing.T, s store.Store, what string, idHash []byte) {
	t.Helper()
	if _, err := s.SessionByHash(t.Context(), idHash); err != nil {
		t.Errorf("%s: SessionByHash: %v, want the session kept", what, err)
	}
}

// msLater sleeps until the store clock (milliseconds) has moved on, so
// that rows created before and after have different CreatedAt.
func msLater() { time.Sleep(3 * time.Millisecond) }

// --- pairing ---

// testPairingCreateRegister: a link is stored with its hashes and expiry,
// and takes up to maxWaiting phones, which start inactive, each with its
// own code.
func testPairingCreateRegister(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	now := ms(base())
	expires := base().Add(10 * time.Minute) // sub-millisecond digits, non-UTC zone
	before := time.Now()
	p := &model.Pairing{TokenHash: tokenHash(1), UserID: u.ID, SessionHash: pairSession(1), ExpiresAt: expires}
	noErr(t, "CreatePairing", s.CreatePairing(ctx, p))
	aboutNow(t, "pairing CreatedAt", p.CreatedAt, before)

	check := func(what string, waiting int) {
		t.Helper()
		got, err := s.PairingBySession(ctx, u.ID, pairSession(1))
		noErr(t, what+": PairingBySession", err)
		if !bytes.Equal(got.TokenHash, tokenHash(1)) || got.UserID != u.ID || !bytes.Equal(got.SessionHash, pairSession(1)) ||
			got.Waiting != waiting || got.Attempts != 0 || got.ManifestToken != nil {
			t.Errorf("%s: pairing = %+v, want %d waiting, no attempts, no manifest", what, got, waiting)
		}
		sameTime(t, what+": CreatedAt", got.CreatedAt, p.CreatedAt)
		sameTime(t, what+": ExpiresAt", got.ExpiresAt, ms(expires))
	}
	check("before registration", 0)
	_, err := s.PairingBySession(ctx, v.ID, pairSession(1))
	wantErr(t, "PairingBySession(other user)", err, model.ErrNotFound)
	_, err = s.PairingBySession(ctx, u.ID, pairSession(2))
	wantErr(t, "PairingBySession(other session)", err, model.ErrNotFound)
	wantErr(t, "CreatePairing(unknown user)", s.CreatePairing(ctx, &model.Pairing{
		TokenHash: tokenHash(9), UserID: u.ID + v.ID + 1000, SessionHash: pairSession(9), ExpiresAt: expires,
	}), model.ErrNotFound)

	d := newDevice(1)
	d.Push = []byte("sealed-subscription")
	d.Active = true // ignored: a registered device waits for its code
	before = time.Now()
	noErr(t, "RegisterDevice", s.RegisterDevice(ctx, tokenHash(1), d, codeHash(1), now, model.MaxDevices, 3))
	if d.ID == 0 || d.UserID != u.ID || d.Active {
		t.Fatalf("registered device = %+v, want an ID, user %d, inactive", d, u.ID)
	}
	aboutNow(t, "device CreatedAt", d.CreatedAt, before)
	check("after registration", 1)
	checkDevice(t, mustDevice(t, s, d.ID), d)
	list, err := s.Devices(ctx, u.ID)
	noErr(t, "Devices", err)
	if len(list) != 1 || list[0].ID != d.ID || list[0].Active {
		t.Errorf("Devices = %+v, want only inactive device %d", list, d.ID)
	}

	// A code a waiting phone has already is refused: the caller makes
	// another.
	dup := newDevice(2)
	wantErr(t, "RegisterDevice(same code)", s.RegisterDevice(ctx, tokenHash(1), dup, codeHash(1), now, model.MaxDevices, 3), model.ErrConflict)
	if dup.ID != 0 {
		t.Errorf("refused RegisterDevice set ID %d", dup.ID)
	}
	check("after a refused code", 1)

	// Up to maxWaiting phones, then the link takes no more.
	mustRegisterCode(t, s, 1, 2, now)
	mustRegisterCode(t, s, 1, 3, now)
	check("after three registrations", 3)
	fourth := newDevice(4)
	wantErr(t, "RegisterDevice(link full)", s.RegisterDevice(ctx, tokenHash(1), fourth, codeHash(4), now, model.MaxDevices, 3), model.ErrNotFound)
	if fourth.ID != 0 {
		t.Errorf("refused RegisterDevice set ID %d", fourth.ID)
	}
	check("after a fourth registration", 3)
	wantErr(t, "RegisterDevice(unknown link)", s.RegisterDevice(ctx, tokenHash(99), newDevice(5), codeHash(5), now, model.MaxDevices, 3), model.ErrNotFound)
	if list, _ := s.Devices(ctx, u.ID); len(list) != 3 {
		t.Errorf("%d devices stored, want the 3 registered", len(list))
	}
}

// mustRegisterCode registers a new device through link i with code
// code.
func mustRegisterCode(t *testing.T, s store.Store, i, code int, now time.Time) *model.Device {
	t.Helper()
	d := newDevice(100*i + code)
	noErr(t, fmt.Sprintf("RegisterDevice(link %d, code %d)", i, code),
		s.RegisterDevice(t.Context(), tokenHash(i), d, codeHash(code), now, model.MaxDevices, model.MaxPairingPhones))
	return d
}

// testPairingVoidsOld: a new link voids the user's earlier links and the
// inactive devices registered through them, nothing else.
func testPairingVoidsOld(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	now := ms(base())
	expires := now.Add(10 * time.Minute)
	active := mustPairDevice(t, s, u.ID, 1)
	mustCreatePairing(t, s, u.ID, 2, expires)
	inactive := mustRegister(t, s, 2, now)
	mustCreatePairing(t, s, v.ID, 3, expires)
	others := mustRegister(t, s, 3, now)

	mustCreatePairing(t, s, u.ID, 4, expires)
	pairingGone(t, s, "registered link after a new one", u.ID, 2)
	deviceGone(t, s, "inactive device of a voided link", inactive.ID)
	_, err := confirmPairing(s, ctx, u.ID, pairSession(2), codeHash(2), now, maxCodeAttempts)
	wantErr(t, "ConfirmPairing(voided link)", err, model.ErrNotFound)

	// An unregistered link is voided too: its token pairs nothing.
	mustCreatePairing(t, s, u.ID, 5, expires)
	pairingGone(t, s, "unregistered link after a new one", u.ID, 4)
	wantErr(t, "RegisterDevice(voided link)", s.RegisterDevice(ctx, tokenHash(4), newDevice(4), codeHash(4), now, model.MaxDevices, model.MaxPairingPhones), model.ErrNotFound)

	// Active devices and other users' links stay; the newest link works.
	if d := mustDevice(t, s, active.ID); !d.Active {
		t.Errorf("active device after new links = %+v", d)
	}
	if _, err := s.PairingBySession(ctx, v.ID, pairSession(3)); err != nil {
		t.Errorf("other user's link: %v", err)
	}
	mustDevice(t, s, others.ID)
	d := mustRegister(t, s, 5, now)
	if list, _ := s.Devices(ctx, u.ID); len(list) != 2 || list[0].ID != active.ID || list[1].ID != d.ID {
		t.Errorf("Devices = %+v, want %d and %d", list, active.ID, d.ID)
	}
}

// testRegisterExpired: a link pairs nothing from its expiry on.
func testRegisterExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	expires := ms(base()).Add(time.Minute)
	mustCreatePairing(t, s, u.ID, 1, expires)
	for _, at := range []time.Time{expires, expires.Add(time.Hour)} {
		wantErr(t, fmt.Sprintf("RegisterDevice(at %v, expires %v)", at, expires),
			s.RegisterDevice(ctx, tokenHash(1), newDevice(1), codeHash(1), at, model.MaxDevices, model.MaxPairingPhones), model.ErrNotFound)
	}
	if p, err := s.PairingBySession(ctx, u.ID, pairSession(1)); err != nil || p.Waiting != 0 {
		t.Errorf("after refused registrations: pairing %+v, %v", p, err)
	}
	if list, _ := s.Devices(ctx, u.ID); len(list) != 0 {
		t.Errorf("refused registrations stored devices: %+v", list)
	}
	mustRegister(t, s, 1, expires.Add(-time.Millisecond))
}

// testRegisterLimit: a user holds at most limit active devices; phones
// waiting on a link do not count (the confirmation keeps one of them);
// a refused registration leaves its link unused.
func testRegisterLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	now := ms(base())
	expires := now.Add(10 * time.Minute)
	var devs []*model.Device
	for i := range model.MaxDevices {
		devs = append(devs, mustPairDevice(t, s, u.ID, 10+i))
	}
	mustCreatePairing(t, s, u.ID, 20, expires)
	over := newDevice(20)
	wantErr(t, "RegisterDevice(over the limit)", s.RegisterDevice(ctx, tokenHash(20), over, codeHash(20), now, model.MaxDevices, model.MaxPairingPhones), model.ErrLimit)
	if over.ID != 0 {
		t.Errorf("refused RegisterDevice set ID %d", over.ID)
	}
	if list, _ := s.Devices(ctx, u.ID); len(list) != model.MaxDevices {
		t.Errorf("%d devices stored, want %d", len(list), model.MaxDevices)
	}
	if p, err := s.PairingBySession(ctx, u.ID, pairSession(20)); err != nil || p.Waiting != 0 {
		t.Errorf("link after a refused registration: %+v, %v; want unused", p, err)
	}
	// The limit is per user.
	v := mustCreateUser(t, s, "bob")
	mustPairDevice(t, s, v.ID, 30)

	// After a delete one more active device fits: every phone of the link
	// may wait for its code, and the confirmation activates one.
	noErr(t, "DeleteDevice", deleteDevice(s, ctx, u.ID, devs[0].ID, false, nil))
	first := mustRegisterCode(t, s, 20, 1, now)
	mustRegisterCode(t, s, 20, 2, now)
	got, err := confirmPairing(s, ctx, u.ID, pairSession(20), codeHash(1), now, maxCodeAttempts)
	noErr(t, "ConfirmPairing", err)
	if got.ID != first.ID || got.UserID != u.ID {
		t.Errorf("confirmed %+v, want device %d of user %d", got, first.ID, u.ID)
	}
	if list, _ := s.Devices(ctx, u.ID); len(list) != model.MaxDevices {
		t.Errorf("%d devices after the confirmation, want %d", len(list), model.MaxDevices)
	}

	// The limit is the caller's.
	noErr(t, "DeleteDevice", deleteDevice(s, ctx, u.ID, devs[1].ID, false, nil))
	mustCreatePairing(t, s, u.ID, 21, expires)
	wantErr(t, "RegisterDevice(smaller limit)",
		s.RegisterDevice(ctx, tokenHash(21), newDevice(21), codeHash(21), now, model.MaxDevices-1, model.MaxPairingPhones), model.ErrLimit)
	noErr(t, "RegisterDevice(limit MaxDevices)", s.RegisterDevice(ctx, tokenHash(21), newDevice(21), codeHash(21), now, model.MaxDevices, model.MaxPairingPhones))
}

// testConfirmPicksThePhone: of the phones waiting on a link, the code
// activates the one that showed it; the others go with the link. Too many
// wrong codes take every waiting phone.
func testConfirmPicksThePhone(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	now := ms(base())
	mustCreatePairing(t, s, u.ID, 1, now.Add(10*time.Minute))
	reader := mustRegisterCode(t, s, 1, 1, now) // registered first, from a log
	own := mustRegisterCode(t, s, 1, 2, now)
	third := mustRegisterCode(t, s, 1, 3, now)
	_, err := confirmPairing(s, ctx, u.ID, pairSession(1), codeHash(9), now, maxCodeAttempts)
	wantErr(t, "ConfirmPairing(no phone's code)", err, model.ErrConflict)
	got, err := confirmPairing(s, ctx, u.ID, pairSession(1), codeHash(2), now, maxCodeAttempts)
	noErr(t, "ConfirmPairing(the own phone's code)", err)
	if got.ID != own.ID || !got.Active {
		t.Fatalf("ConfirmPairing = %+v, want device %d active", got, own.ID)
	}
	deviceGone(t, s, "phone registered first", reader.ID)
	deviceGone(t, s, "third phone", third.ID)
	pairingGone(t, s, "confirmed link", u.ID, 1)
	if list, _ := s.Devices(ctx, u.ID); len(list) != 1 || list[0].ID != own.ID {
		t.Errorf("Devices = %+v, want only %d", list, own.ID)
	}

	mustCreatePairing(t, s, u.ID, 2, now.Add(10*time.Minute))
	a, b := mustRegisterCode(t, s, 2, 4, now), mustRegisterCode(t, s, 2, 5, now)
	for i := range maxCodeAttempts {
		_, err := confirmPairing(s, ctx, u.ID, pairSession(2), codeHash(90+i), now, maxCodeAttempts)
		wantErr(t, "ConfirmPairing(wrong code)", err, model.ErrConflict)
	}
	pairingGone(t, s, "link after too many wrong codes", u.ID, 2)
	deviceGone(t, s, "first waiting phone after too many wrong codes", a.ID)
	deviceGone(t, s, "second waiting phone after too many wrong codes", b.ID)
	mustDevice(t, s, own.ID)
}

// testPairingManifest: a link holds its install manifest's handle hash
// and sealed token until it goes; an expired link takes none.
func testPairingManifest(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	now := ms(base())
	expires := now.Add(10 * time.Minute)
	mustCreatePairing(t, s, u.ID, 1, expires)
	handle := phoneHash("manifest", 1)
	_, err := s.PairingByManifest(ctx, handle)
	wantErr(t, "PairingByManifest(none yet)", err, model.ErrNotFound)
	noErr(t, "SetPairingManifest", s.SetPairingManifest(ctx, tokenHash(1), handle, []byte("sealed-1"), now))
	noErr(t, "SetPairingManifest(again)", s.SetPairingManifest(ctx, tokenHash(1), handle, []byte("sealed-2"), now))
	got, err := s.PairingByManifest(ctx, handle)
	noErr(t, "PairingByManifest", err)
	if !bytes.Equal(got.TokenHash, tokenHash(1)) || string(got.ManifestToken) != "sealed-2" || got.UserID != u.ID {
		t.Errorf("PairingByManifest = %+v", got)
	}
	sameTime(t, "manifest's link ExpiresAt", got.ExpiresAt, expires)
	if p, _ := s.PairingBySession(ctx, u.ID, pairSession(1)); string(p.ManifestToken) != "sealed-2" {
		t.Errorf("PairingBySession ManifestToken = %q", p.ManifestToken)
	}
	wantErr(t, "SetPairingManifest(unknown link)", s.SetPairingManifest(ctx, tokenHash(2), phoneHash("manifest", 2), []byte("x"), now), model.ErrNotFound)
	wantErr(t, "SetPairingManifest(expired)", s.SetPairingManifest(ctx, tokenHash(1), handle, []byte("x"), expires), model.ErrNotFound)

	// The handle lives as long as its link.
	mustCreatePairing(t, s, u.ID, 3, expires)
	_, err = s.PairingByManifest(ctx, handle)
	wantErr(t, "PairingByManifest(voided link)", err, model.ErrNotFound)
}

// testReplaceSessionMovesPairing: a rotated session keeps its link: the
// code is entered under the new identifier; nothing moves when the old
// session is gone.
func testReplaceSessionMovesPairing(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	now := ms(base())
	old := newSession(60, u.ID, base())
	old.Stage = model.StageComplete
	mustCreateSession(t, s, old)
	noErr(t, "CreatePairing", s.CreatePairing(ctx, &model.Pairing{TokenHash: tokenHash(1), UserID: u.ID, SessionHash: hash(60), ExpiresAt: now.Add(time.Minute)}))
	d := mustRegisterCode(t, s, 1, 1, now)
	next := newSession(61, u.ID, base())
	noErr(t, "ReplaceSession", s.ReplaceSession(ctx, hash(60), next))
	_, err := s.PairingBySession(ctx, u.ID, hash(60))
	wantErr(t, "PairingBySession(old identifier)", err, model.ErrNotFound)
	got, err := confirmPairing(s, ctx, u.ID, hash(61), codeHash(1), now, maxCodeAttempts)
	noErr(t, "ConfirmPairing(new identifier)", err)
	if got.ID != d.ID || !got.Active {
		t.Errorf("ConfirmPairing = %+v, want device %d active", got, d.ID)
	}

	// A replace that fails (old session gone) moves nothing.
	noErr(t, "CreatePairing", s.CreatePairing(ctx, &model.Pairing{TokenHash: tokenHash(2), UserID: u.ID, SessionHash: hash(62), ExpiresAt: now.Add(time.Minute)}))
	wantErr(t, "ReplaceSession(gone)", s.ReplaceSession(ctx, hash(62), newSession(63, u.ID, base())), model.ErrNotFound)
	if _, err := s.PairingBySession(ctx, u.ID, hash(62)); err != nil {
		t.Errorf("link of a failed replace: %v", err)
	}
}

// --- confirmation ---

// testConfirmPairing: only the linking session, with the phone's code,
// before expiry, activates the device; wrong codes are counted.
func testConfirmPairing(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice") // Enabled
	v := mustCreateUser(t, s, "bob")
	now := ms(base())
	mustCreatePairing(t, s, u.ID, 1, now.Add(10*time.Minute))
	_, err := confirmPairing(s, ctx, u.ID, pairSession(1), codeHash(1), now, maxCodeAttempts)
	wantErr(t, "ConfirmPairing(nothing registered)", err, model.ErrNotFound)
	d := mustRegister(t, s, 1, now)

	_, err = confirmPairing(s, ctx, u.ID, pairSession(2), codeHash(1), now, maxCodeAttempts)
	wantErr(t, "ConfirmPairing(other session)", err, model.ErrNotFound)
	_, err = confirmPairing(s, ctx, v.ID, pairSession(1), codeHash(1), now, maxCodeAttempts)
	wantErr(t, "ConfirmPairing(other user)", err, model.ErrNotFound)

	for i := 1; i < maxCodeAttempts; i++ {
		got, err := confirmPairing(s, ctx, u.ID, pairSession(1), codeHash(99), now, maxCodeAttempts)
		wantErr(t, "ConfirmPairing(wrong code)", err, model.ErrConflict)
		if got != nil {
			t.Errorf("wrong code returned %+v", got)
		}
		p, err := s.PairingBySession(ctx, u.ID, pairSession(1))
		noErr(t, "PairingBySession after a wrong code", err)
		if p.Attempts != i || p.Waiting != 1 {
			t.Errorf("after %d wrong codes: pairing %+v", i, p)
		}
		if dev := mustDevice(t, s, d.ID); dev.Active {
			t.Errorf("a wrong code activated the device")
		}
	}
	if got, _ := s.UserByID(ctx, u.ID); got.MFAState != model.MFAEnabled {
		t.Errorf("wrong codes changed the state to %s", got.MFAState)
	}

	before := time.Now()
	got, err := confirmPairing(s, ctx, u.ID, pairSession(1), codeHash(1), now, maxCodeAttempts)
	noErr(t, "ConfirmPairing(right code)", err)
	if got.ID != d.ID || got.UserID != u.ID || !got.Active {
		t.Errorf("ConfirmPairing = %+v; want device %d active", got, d.ID)
	}
	aboutNow(t, "ActivatedAt", got.ActivatedAt, before)
	want := *d
	want.Active, want.ActivatedAt = true, got.ActivatedAt
	checkDevice(t, mustDevice(t, s, d.ID), &want)
	// (Promoting the Enabled user is the core's rule: core's
	// TestConfirmingAPhonePromotesEnabled.)
	pairingGone(t, s, "confirmed link", u.ID, 1)
	_, err = confirmPairing(s, ctx, u.ID, pairSession(1), codeHash(1), now, maxCodeAttempts)
	wantErr(t, "ConfirmPairing(again)", err, model.ErrNotFound)
	wantErr(t, "RegisterDevice(confirmed link)", s.RegisterDevice(ctx, tokenHash(1), newDevice(2), codeHash(2), now, model.MaxDevices, model.MaxPairingPhones), model.ErrNotFound)
}

// testConfirmMaxAttempts: the last allowed wrong code voids the link and
// its device.
func testConfirmMaxAttempts(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	now := ms(base())
	mustCreatePairing(t, s, u.ID, 1, now.Add(10*time.Minute))
	d := mustRegister(t, s, 1, now)
	for i := range maxCodeAttempts {
		_, err := confirmPairing(s, ctx, u.ID, pairSession(1), codeHash(100+i), now, maxCodeAttempts)
		wantErr(t, fmt.Sprintf("ConfirmPairing(wrong code %d)", i+1), err, model.ErrConflict)
	}
	pairingGone(t, s, "link after too many wrong codes", u.ID, 1)
	deviceGone(t, s, "device after too many wrong codes", d.ID)
	_, err := confirmPairing(s, ctx, u.ID, pairSession(1), codeHash(1), now, maxCodeAttempts)
	wantErr(t, "ConfirmPairing(right code, too late)", err, model.ErrNotFound)
	if usr, _ := s.UserByID(ctx, u.ID); usr.MFAState != model.MFAEnabled {
		t.Errorf("state = %s, want enabled", usr.MFAState)
	}
	if list, _ := s.Devices(ctx, u.ID); len(list) != 0 {
		t.Errorf("devices left: %+v", list)
	}
}

// testConfirmExpired: from its expiry on, a link confirms nothing and
// counts no codes.
func testConfirmExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	now := ms(base())
	expires := now.Add(10 * time.Minute)
	mustCreatePairing(t, s, u.ID, 1, expires)
	d := mustRegister(t, s, 1, now)
	for _, code := range [][]byte{codeHash(1), codeHash(99)} {
		_, err := confirmPairing(s, ctx, u.ID, pairSession(1), code, expires, maxCodeAttempts)
		wantErr(t, "ConfirmPairing(expired)", err, model.ErrNotFound)
	}
	if dev := mustDevice(t, s, d.ID); dev.Active {
		t.Error("an expired link activated its device")
	}
	if p, err := s.PairingBySession(ctx, u.ID, pairSession(1)); err == nil && p.Attempts != 0 {
		t.Errorf("an expired link counted %d attempts", p.Attempts)
	}
	got, err := confirmPairing(s, ctx, u.ID, pairSession(1), codeHash(1), expires.Add(-time.Millisecond), maxCodeAttempts)
	noErr(t, "ConfirmPairing(last millisecond)", err)
	if !got.Active {
		t.Errorf("device = %+v, want active", got)
	}
}

// testConfirmPromotesEnabled: pairing a phone makes an Enabled user

// --- devices ---

func testDevicesListPushTouch(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	d1 := mustPairDevice(t, s, u.ID, 1)
	d2 := mustPairDevice(t, s, u.ID, 2)
	dv := mustPairDevice(t, s, v.ID, 3)
	d3 := mustPairDevice(t, s, u.ID, 4)
	list, err := s.Devices(ctx, u.ID)
	noErr(t, "Devices", err)
	if len(list) != 3 {
		t.Fatalf("Devices = %+v, want 3", list)
	}
	for i, want := range []*model.Device{d1, d2, d3} {
		checkDevice(t, &list[i], want)
	}
	if l, err := s.Devices(ctx, v.ID); err != nil || len(l) != 1 || l[0].ID != dv.ID {
		t.Errorf("bob's devices = %+v, %v", l, err)
	}
	if l, err := s.Devices(ctx, u.ID+v.ID+1000); err != nil || len(l) != 0 {
		t.Errorf("Devices(unknown user) = %+v, %v; want none", l, err)
	}
	missing := d3.ID + dv.ID + 1000
	_, err = s.DeviceByID(ctx, missing)
	wantErr(t, "DeviceByID(unknown)", err, model.ErrNotFound)

	// Push subscriptions.
	noErr(t, "SetDevicePush", s.SetDevicePush(ctx, d1.ID, []byte("sub-1")))
	want := *d1
	want.Push = []byte("sub-1")
	checkDevice(t, mustDevice(t, s, d1.ID), &want)
	noErr(t, "MarkPushDead", s.MarkPushDead(ctx, d1.ID))
	want.PushDead = true
	checkDevice(t, mustDevice(t, s, d1.ID), &want)
	checkDevice(t, mustDevice(t, s, d2.ID), d2)
	noErr(t, "SetDevicePush(new)", s.SetDevicePush(ctx, d1.ID, []byte("sub-2")))
	want.Push, want.PushDead = []byte("sub-2"), false
	checkDevice(t, mustDevice(t, s, d1.ID), &want)
	noErr(t, "MarkPushDead", s.MarkPushDead(ctx, d1.ID))
	noErr(t, "SetDevicePush(nil)", s.SetDevicePush(ctx, d1.ID, nil))
	want.Push = nil
	checkDevice(t, mustDevice(t, s, d1.ID), &want)
	wantErr(t, "SetDevicePush(unknown)", s.SetDevicePush(ctx, missing, []byte("x")), model.ErrNotFound)

	// Uses.
	t0 := base() // sub-millisecond digits, non-UTC zone
	noErr(t, "TouchDevice", s.TouchDevice(ctx, d2.ID, t0))
	if got := mustDevice(t, s, d2.ID); !got.LastUsedAt.Equal(time.Date(2025, 3, 14, 9, 39, 26, 535000000, time.UTC)) || got.LastUsedAt.Location() != time.UTC {
		t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, ms(t0))
	}
	noErr(t, "TouchDevice(later)", s.TouchDevice(ctx, d2.ID, t0.Add(time.Hour)))
	want2 := *d2
	want2.LastUsedAt = t0.Add(time.Hour)
	checkDevice(t, mustDevice(t, s, d2.ID), &want2)
	checkDevice(t, mustDevice(t, s, d3.ID), d3)
	wantErr(t, "TouchDevice(unknown)", s.TouchDevice(ctx, missing, t0), model.ErrNotFound)
}

// testDeleteDeviceKeepOne: with keepOne a device goes unless it is the
// user's last method; authenticators and active devices count, inactive
// devices neither count nor are kept.
func testDeleteDeviceKeepOne(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := ms(base())

	// The only method.
	a := mustCreateUser(t, s, "a")
	da := mustPairDevice(t, s, a.ID, 1)
	wantErr(t, "DeleteDevice(keepOne, last method)", deleteDevice(s, ctx, a.ID, da.ID, true, nil), model.ErrLimit)
	mustDevice(t, s, da.ID)
	other := mustCreateUser(t, s, "other")
	wantErr(t, "DeleteDevice(other user)", deleteDevice(s, ctx, other.ID, da.ID, false, nil), model.ErrNotFound)
	wantErr(t, "DeleteDevice(other user, keepOne)", deleteDevice(s, ctx, other.ID, da.ID, true, nil), model.ErrNotFound)
	wantErr(t, "DeleteDevice(unknown)", deleteDevice(s, ctx, a.ID, da.ID+1000, false, nil), model.ErrNotFound)
	mustDevice(t, s, da.ID)
	noErr(t, "DeleteDevice(without keepOne)", deleteDevice(s, ctx, a.ID, da.ID, false, nil))
	deviceGone(t, s, "deleted device", da.ID)
	wantErr(t, "DeleteDevice(again)", deleteDevice(s, ctx, a.ID, da.ID, false, nil), model.ErrNotFound)

	// An authenticator and an active device: either may go, then the
	// other is the last.
	b := mustCreateUser(t, s, "b")
	tb := mustAddTOTP(t, s, b.ID)
	db := mustPairDevice(t, s, b.ID, 2)
	noErr(t, "DeleteDevice(keepOne, authenticator left)", deleteDevice(s, ctx, b.ID, db.ID, true, nil))
	wantErr(t, "DeleteTOTP(keepOne, last method)", deleteTOTP(s, ctx, b.ID, tb.ID, true, nil), model.ErrLimit)
	c := mustCreateUser(t, s, "c")
	tc := mustAddTOTP(t, s, c.ID)
	dc := mustPairDevice(t, s, c.ID, 3)
	noErr(t, "DeleteTOTP(keepOne, active device left)", deleteTOTP(s, ctx, c.ID, tc.ID, true, nil))
	wantErr(t, "DeleteDevice(keepOne, last method)", deleteDevice(s, ctx, c.ID, dc.ID, true, nil), model.ErrLimit)
	if n := methods(t, s, c.ID); n != 1 {
		t.Errorf("c has %d methods, want 1", n)
	}

	// An inactive device is no method.
	e := mustCreateUser(t, s, "e")
	te := mustAddTOTP(t, s, e.ID)
	mustCreatePairing(t, s, e.ID, 4, now.Add(time.Minute))
	de := mustRegister(t, s, 4, now)
	wantErr(t, "DeleteTOTP(keepOne, only an inactive device left)", deleteTOTP(s, ctx, e.ID, te.ID, true, nil), model.ErrLimit)
	noErr(t, "DeleteDevice(keepOne, inactive)", deleteDevice(s, ctx, e.ID, de.ID, true, nil))
	deviceGone(t, s, "deleted inactive device", de.ID)
	f := mustCreateUser(t, s, "f") // no method at all
	mustCreatePairing(t, s, f.ID, 5, now.Add(time.Minute))
	df := mustRegister(t, s, 5, now)
	noErr(t, "DeleteDevice(keepOne, inactive, no method)", deleteDevice(s, ctx, f.ID, df.ID, true, nil))

	// Two active devices.
	g := mustCreateUser(t, s, "g")
	g1 := mustPairDevice(t, s, g.ID, 6)
	g2 := mustPairDevice(t, s, g.ID, 7)
	noErr(t, "DeleteDevice(keepOne, one of two)", deleteDevice(s, ctx, g.ID, g1.ID, true, nil))
	wantErr(t, "DeleteDevice(keepOne, last of two)", deleteDevice(s, ctx, g.ID, g2.ID, true, nil), model.ErrLimit)
}

// testKeepOneConcurrentMixed: deleting the last authenticator and the last
// active device at once, both with keepOne, removes exactly one.
func testKeepOneConcurrentMixed(t *testing.T, s store.Store) {
	ctx := t.Context()
	for round := range 5 {
		u := mustCreateUser(t, s, fmt.Sprintf("user%d", round))
		a := mustAddTOTP(t, s, u.ID)
		d := mustPairDevice(t, s, u.ID, round)
		var errs [2]error
		parallel(2, func(i int) {
			if i == 0 {
				errs[0] = deleteTOTP(s, ctx, u.ID, a.ID, true, nil)
			} else {
				errs[1] = deleteDevice(s, ctx, u.ID, d.ID, true, nil)
			}
		})
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, model.ErrLimit):
				t.Errorf("round %d, delete %d: %v", round, i, err)
			}
		}
		if n := methods(t, s, u.ID); ok != 1 || n != 1 {
			t.Errorf("round %d: %d deletes succeeded, %d methods left; want 1 and 1 (errors %v)", round, ok, n, errs)
		}
	}
}

// testKeepOneConfirmConcurrent: a user with one authenticator
// and a phone waiting for its code confirms it while deleting, with
// keepOne, both the phone and the authenticator: whatever the order, a
// method is left. (A DeleteDevice that decided the device was inactive
// before taking the user's lock let both deletes through.) The race is
// hit in some rounds only, so there are many.
func testKeepOneConfirmConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := ms(base())
	for round := range 30 {
		u := newUser(fmt.Sprintf("user%d", round))
		u.MFAState = model.MFAEnforced
		if round%2 == 1 {
			u.MFAState = model.MFAEnabled // the confirmation locks the user too
		}
		noErr(t, "CreateUser", s.CreateUser(ctx, u))
		a := mustAddTOTP(t, s, u.ID)
		mustCreatePairing(t, s, u.ID, round, now.Add(time.Minute))
		d := mustRegister(t, s, round, now)
		var errs [3]error
		parallel(3, func(i int) {
			switch i {
			case 0:
				_, errs[0] = confirmPairing(s, ctx, u.ID, pairSession(round), codeHash(round), now, maxCodeAttempts)
			case 1:
				errs[1] = deleteDevice(s, ctx, u.ID, d.ID, true, nil)
			case 2:
				errs[2] = deleteTOTP(s, ctx, u.ID, a.ID, true, nil)
			}
		})
		for i, err := range errs {
			if err != nil && !errors.Is(err, model.ErrLimit) && !errors.Is(err, model.ErrNotFound) {
				t.Errorf("round %d, call %d: %v", round, i, err)
			}
		}
		if n := methods(t, s, u.ID); n == 0 {
			t.Fatalf("round %d: no method left (confirm, delete device, delete authenticator: %v)", round, errs)
		}
	}
}

// testPairingLocksConcurrent: whatever removes links and the devices
// waiting on them (a new link, deleting the device, the sweep, deleting
// all methods) runs at once with a confirmation without deadlocking, and
// never leaves a waiting device without its link. The sweep judges the
// link expired while the confirmation does not (nodes' clocks differ).
func testPairingLocksConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := ms(base())
	expires := now.Add(time.Minute)
	for round := range 20 {
		u := mustCreateUser(t, s, fmt.Sprintf("user%d", round)) // Enabled: the confirmation promotes
		mustCreatePairing(t, s, u.ID, 2*round, expires)
		d := mustRegister(t, s, 2*round, now)
		var errs [5]error
		parallel(5, func(i int) {
			switch i {
			case 0:
				_, errs[0] = confirmPairing(s, ctx, u.ID, pairSession(2*round), codeHash(2*round), now, maxCodeAttempts)
			case 1:
				errs[1] = deleteDevice(s, ctx, u.ID, d.ID, false, nil)
			case 2:
				errs[2] = s.CreatePairing(ctx, &model.Pairing{TokenHash: tokenHash(2*round + 1), UserID: u.ID,
					SessionHash: pairSession(2*round + 1), ExpiresAt: expires.Add(time.Hour)})
			case 3:
				_, errs[3] = s.DeleteStaleApprovals(ctx, now.Add(-time.Hour), expires)
			case 4:
				_, errs[4] = deleteAllMethods(s, ctx, u.ID)
			}
		})
		for i, err := range errs {
			if err != nil && !errors.Is(err, model.ErrNotFound) {
				t.Errorf("round %d, call %d: %v", round, i, err)
			}
		}
		list, err := s.Devices(ctx, u.ID)
		noErr(t, "Devices", err)
		for _, dev := range list {
			if dev.Active {
				continue
			}
			if p, err := s.PairingBySession(ctx, u.ID, pairSession(2*round)); err != nil || p.Waiting != 1 {
				t.Errorf("round %d: inactive device %d left without its link (%+v, %v)", round, dev.ID, p, err)
			}
		}
	}
}

// testDeleteAllMethods: every authenticator, device and link of the user
// goes in one call, which says how many authenticators and devices went.
func testDeleteAllMethods(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := ms(base())
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	mustAddTOTP(t, s, u.ID)
	mustAddTOTP(t, s, u.ID)
	mustPairDevice(t, s, u.ID, 1)
	mustPairDevice(t, s, u.ID, 2)
	mustCreatePairing(t, s, u.ID, 3, now.Add(time.Minute)) // not registered yet
	tv := mustAddTOTP(t, s, v.ID)
	dv := mustPairDevice(t, s, v.ID, 4)
	mustCreatePairing(t, s, v.ID, 5, now.Add(time.Minute))

	n, err := deleteAllMethods(s, ctx, u.ID)
	noErr(t, "DeleteAllMethods", err)
	if n != 4 {
		t.Errorf("DeleteAllMethods = %d, want 4", n)
	}
	if m := methods(t, s, u.ID); m != 0 {
		t.Errorf("%d methods left", m)
	}
	pairingGone(t, s, "link after DeleteAllMethods", u.ID, 3)
	wantErr(t, "RegisterDevice(link after DeleteAllMethods)",
		s.RegisterDevice(ctx, tokenHash(3), newDevice(3), codeHash(3), now, model.MaxDevices, model.MaxPairingPhones), model.ErrNotFound)
	if _, err := s.UserByID(ctx, u.ID); err != nil {
		t.Errorf("user after DeleteAllMethods: %v", err)
	}
	n, err = deleteAllMethods(s, ctx, u.ID)
	noErr(t, "DeleteAllMethods(again)", err)
	if n != 0 {
		t.Errorf("DeleteAllMethods(again) = %d, want 0", n)
	}

	// A device waiting for its code goes with its link, but is no
	// method: it is not counted (as the admin center counts).
	mustCreatePairing(t, s, u.ID, 6, now.Add(time.Minute))
	d := mustRegister(t, s, 6, now)
	mustAddTOTP(t, s, u.ID)
	n, err = deleteAllMethods(s, ctx, u.ID)
	noErr(t, "DeleteAllMethods(inactive device)", err)
	if n != 1 {
		t.Errorf("DeleteAllMethods(authenticator and inactive device) = %d, want 1", n)
	}
	deviceGone(t, s, "inactive device after DeleteAllMethods", d.ID)
	pairingGone(t, s, "registered link after DeleteAllMethods", u.ID, 6)

	// The other user keeps everything.
	if totps, _ := s.TOTPAuthenticators(ctx, v.ID); len(totps) != 1 || totps[0].ID != tv.ID {
		t.Errorf("bob's authenticators = %+v", totps)
	}
	mustDevice(t, s, dv.ID)
	if _, err := s.PairingBySession(ctx, v.ID, pairSession(5)); err != nil {
		t.Errorf("bob's link: %v", err)
	}
	_, err = deleteAllMethods(s, ctx, u.ID+v.ID+1000)
	wantErr(t, "DeleteAllMethods(unknown user)", err, model.ErrNotFound)
}

// testDeleteUserCascades: removing a user removes their devices, links,
// nonces and requests.
func testDeleteUserCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := ms(base())
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	d := mustPairDevice(t, s, u.ID, 1)
	mustCreatePairing(t, s, u.ID, 2, now.Add(time.Minute))
	pending := mustRegister(t, s, 2, now)
	noErr(t, "UseNonce", s.UseNonce(ctx, d.ID, nonceHash(1), now, now.Add(time.Minute), 5))
	mustCreateApproval(t, s, "alice-1", u.ID, hash(1))
	dv := mustPairDevice(t, s, v.ID, 3)
	noErr(t, "UseNonce(bob)", s.UseNonce(ctx, dv.ID, nonceHash(2), now, now.Add(time.Minute), 5))
	mustCreateApproval(t, s, "bob-1", v.ID, hash(2))

	noErr(t, "DeleteUser", deleteUser(s, ctx, u.ID))
	deviceGone(t, s, "device of a removed user", d.ID)
	deviceGone(t, s, "inactive device of a removed user", pending.ID)
	pairingGone(t, s, "link of a removed user", u.ID, 2)
	_, err := s.ApprovalByID(ctx, "alice-1")
	wantErr(t, "ApprovalByID(removed user)", err, model.ErrNotFound)
	// The removed user's record went with the device: the hash is free.
	mustDevice(t, s, dv.ID)
	noErr(t, "UseNonce(removed user's nonce, on bob's device)", s.UseNonce(ctx, dv.ID, nonceHash(1), now, now.Add(time.Minute), 5))
	mustApproval(t, s, "bob-1")
	wantErr(t, "UseNonce(bob's again)", s.UseNonce(ctx, dv.ID, nonceHash(2), now, now.Add(time.Minute), 5), model.ErrConflict)
}

// --- nonces ---

func testNonces(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	d := mustPairDevice(t, s, u.ID, 1)
	d2 := mustPairDevice(t, s, u.ID, 2)
	now := ms(base())
	expires := now.Add(time.Minute)
	use := func(deviceID int64, i int, at time.Time) error {
		return s.UseNonce(ctx, deviceID, nonceHash(i), at, at.Add(time.Minute), 10)
	}

	noErr(t, "first use", use(d.ID, 1, now))
	wantErr(t, "second use", use(d.ID, 1, now), model.ErrConflict)
	// A nonce used on one device is used, whichever device tries next.
	wantErr(t, "use on another device", use(d2.ID, 1, now), model.ErrConflict)
	noErr(t, "another nonce", use(d.ID, 2, now))

	// Records are kept until they expire, then dropped by the device's
	// next use (the caller refuses expired nonces by their own clock).
	wantErr(t, "use in the record's last millisecond", use(d.ID, 2, expires.Add(-time.Millisecond)), model.ErrConflict)
	noErr(t, "a later use drops expired records", use(d.ID, 3, expires))
	noErr(t, "an expired record no longer blocks", use(d.ID, 2, expires))

	wantErr(t, "UseNonce(unknown device)", use(d.ID+d2.ID+1000, 5, now), model.ErrNotFound)
}

// testNonceLimit: a device holds at most max unexpired records; expired
// ones neither count nor stay.
func testNonceLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	d := mustPairDevice(t, s, u.ID, 1)
	d2 := mustPairDevice(t, s, u.ID, 2)
	const max = 3
	now := ms(base())
	expires := now.Add(time.Minute)
	for i := range max {
		noErr(t, "UseNonce", s.UseNonce(ctx, d.ID, nonceHash(i), now, expires, max))
	}
	wantErr(t, "UseNonce(over max)", s.UseNonce(ctx, d.ID, nonceHash(10), now, expires, max), model.ErrLimit)
	// A refused use stored nothing.
	noErr(t, "UseNonce(refused one, on the other device)", s.UseNonce(ctx, d2.ID, nonceHash(10), now, expires, max))
	// At expires all of them have expired: max fresh ones fit again.
	for i := range max {
		noErr(t, "UseNonce(after expiry)", s.UseNonce(ctx, d.ID, nonceHash(20+i), expires, expires.Add(time.Minute), max))
	}
	wantErr(t, "UseNonce(over max after expiry)", s.UseNonce(ctx, d.ID, nonceHash(30), expires, expires.Add(time.Minute), max), model.ErrLimit)
	// The other device's record was not dropped.
	wantErr(t, "UseNonce(other device's again)", s.UseNonce(ctx, d2.ID, nonceHash(10), now, expires, max), model.ErrConflict)
}

func testNonceConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	d := mustPairDevice(t, s, u.ID, 1)
	now := ms(base())
	for round := range 3 {
		const n = 10
		var errs [n]error
		parallel(n, func(i int) { errs[i] = s.UseNonce(ctx, d.ID, nonceHash(round), now, now.Add(time.Minute), 100) })
		wins := 0
		for i := range n {
			switch {
			case errs[i] == nil:
				wins++
			case !errors.Is(errs[i], model.ErrConflict):
				t.Errorf("round %d: UseNonce: %v", round, errs[i])
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d of %d concurrent uses of one nonce passed, want 1", round, wins, n)
		}
	}
}

// --- approvals ---

func testApprovalCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	expires := base().Add(time.Hour) // sub-millisecond digits, non-UTC zone
	a := newApproval("req-1", u.ID, hash(1), expires)
	a.Status, a.AnsweredAt, a.DeviceID = model.ApprovalApproved, base(), 7 // ignored
	before := time.Now()
	noErr(t, "CreateApproval", createApproval(ctx, s, a, before.Add(-time.Hour), 10))
	if a.Status != model.ApprovalPending || !a.AnsweredAt.IsZero() || a.DeviceID != 0 {
		t.Errorf("created request = %+v, want pending, unanswered", a)
	}
	aboutNow(t, "request CreatedAt", a.CreatedAt, before)
	checkApproval(t, mustApproval(t, s, "req-1"), a)
	_, err := s.ApprovalByID(ctx, "req-9")
	wantErr(t, "ApprovalByID(unknown)", err, model.ErrNotFound)
	wantErr(t, "CreateApproval(unknown user)",
		createApproval(ctx, s, newApproval("req-x", u.ID+v.ID+1000, hash(9), expires), before.Add(-time.Hour), 10), model.ErrNotFound)
	_, err = s.ApprovalByID(ctx, "req-x")
	wantErr(t, "ApprovalByID(refused)", err, model.ErrNotFound)

	// One pending request per user: a new one cancels the older.
	vb := mustCreateApproval(t, s, "bob-1", v.ID, hash(3))
	b := mustCreateApproval(t, s, "req-2", u.ID, hash(2))
	wantStatus(t, s, "req-1", model.ApprovalCancelled)
	wantStatus(t, s, "req-2", model.ApprovalPending)
	wantStatus(t, s, "bob-1", model.ApprovalPending)
	p, err := s.PendingApproval(ctx, u.ID, time.Now())
	noErr(t, "PendingApproval", err)
	checkApproval(t, p, b)
	p, err = s.PendingApproval(ctx, v.ID, time.Now())
	noErr(t, "PendingApproval(bob)", err)
	checkApproval(t, p, vb)

	// An answered request stays answered.
	d := mustPairDevice(t, s, u.ID, 1)
	_, err = answerApproval(s, ctx, "req-2", u.ID, d.ID, model.ApprovalDenied, time.Now())
	noErr(t, "AnswerApproval", err)
	mustCreateApproval(t, s, "req-3", u.ID, hash(2))
	wantStatus(t, s, "req-2", model.ApprovalDenied)
	wantStatus(t, s, "req-1", model.ApprovalCancelled)
}

// testApprovalNumberDigits: a request's number has 2 to 8 digits
// (push_number_digits): the shortest and longest are kept as given.
func testApprovalNumberDigits(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	for i, n := range []int{10, 99, 100000, 999999, 10000000, 99999999} {
		a := newApproval(fmt.Sprintf("req-%d", i), u.ID, hash(byte(i)), time.Now().Add(time.Minute))
		a.Number = n
		noErr(t, fmt.Sprintf("CreateApproval(number %d)", n), createApproval(ctx, s, a, time.Now().Add(-time.Hour), 1000))
		if got := mustApproval(t, s, a.ID); got.Number != n {
			t.Errorf("request with number %d read back as %d", n, got.Number)
		}
	}
}

// testApprovalLimit: at most limit requests per user since `since`
// (inclusive); a refused request changes nothing.
func testApprovalLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	longAgo := time.Now().Add(-time.Hour)
	var made []*model.Approval
	for i := range 3 {
		if i > 0 {
			msLater()
		}
		a := newApproval(fmt.Sprintf("r%d", i), u.ID, hash(1), time.Now().Add(time.Minute))
		noErr(t, "CreateApproval", createApproval(ctx, s, a, longAgo, 3))
		made = append(made, a)
	}
	try := func(id string, since time.Time, limit int) error {
		return createApproval(ctx, s, newApproval(id, u.ID, hash(1), time.Now().Add(time.Minute)), since, limit)
	}
	wantErr(t, "CreateApproval(at the limit)", try("over", longAgo, 3), model.ErrLimit)
	_, err := s.ApprovalByID(ctx, "over")
	wantErr(t, "ApprovalByID(refused)", err, model.ErrNotFound)
	wantStatus(t, s, "r2", model.ApprovalPending) // a refused request cancels nothing

	// Only requests created at or after `since` count.
	wantErr(t, "CreateApproval(2 since r1, limit 2)", try("over", made[1].CreatedAt, 2), model.ErrLimit)
	noErr(t, "CreateApproval(1 since just after r1, limit 2)", try("r3", made[1].CreatedAt.Add(time.Millisecond), 2))
	wantStatus(t, s, "r2", model.ApprovalCancelled)
	noErr(t, "CreateApproval(none since, limit 1)", try("r4", time.Now().Add(time.Hour), 1))
	// Per user.
	noErr(t, "CreateApproval(other user, limit 1)", createApproval(ctx, s, newApproval("b0", v.ID, hash(2), time.Now().Add(time.Minute)), longAgo, 1))
}

// testApprovalForSession: the newest request of the session, whatever its
// status.
func testApprovalForSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	mustCreateApproval(t, s, "a1", u.ID, hash(1))
	msLater()
	a2 := mustCreateApproval(t, s, "a2", u.ID, hash(1))
	msLater()
	b := mustCreateApproval(t, s, "b", u.ID, hash(2)) // cancels a2
	a2.Status = model.ApprovalCancelled
	got, err := s.ApprovalForSession(ctx, hash(1))
	noErr(t, "ApprovalForSession", err)
	checkApproval(t, got, a2)
	got, err = s.ApprovalForSession(ctx, hash(2))
	noErr(t, "ApprovalForSession(other)", err)
	checkApproval(t, got, b)
	_, err = s.ApprovalForSession(ctx, hash(3))
	wantErr(t, "ApprovalForSession(unknown)", err, model.ErrNotFound)
}

// testPendingApproval: only a pending, unexpired request of the user.
func testPendingApproval(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	d := mustPairDevice(t, s, u.ID, 1)
	now := time.Now()
	_, err := s.PendingApproval(ctx, u.ID, now)
	wantErr(t, "PendingApproval(none)", err, model.ErrNotFound)
	a := newApproval("a", u.ID, hash(1), now.Add(time.Minute))
	noErr(t, "CreateApproval", createApproval(ctx, s, a, now.Add(-time.Hour), 10))
	got, err := s.PendingApproval(ctx, u.ID, a.ExpiresAt.Add(-time.Millisecond))
	noErr(t, "PendingApproval", err)
	checkApproval(t, got, a)
	_, err = s.PendingApproval(ctx, u.ID, a.ExpiresAt)
	wantErr(t, "PendingApproval(at expiry)", err, model.ErrNotFound)
	_, err = s.PendingApproval(ctx, v.ID, now)
	wantErr(t, "PendingApproval(other user)", err, model.ErrNotFound)
	_, err = answerApproval(s, ctx, "a", u.ID, d.ID, model.ApprovalApproved, now)
	noErr(t, "AnswerApproval", err)
	_, err = s.PendingApproval(ctx, u.ID, now)
	wantErr(t, "PendingApproval(answered)", err, model.ErrNotFound)
}

func testAnswerApproval(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	du := mustPairDevice(t, s, u.ID, 1)
	dv := mustPairDevice(t, s, v.ID, 2)
	a := mustCreateApproval(t, s, "a", u.ID, hash(1))
	now := time.Now()

	for _, bad := range []model.ApprovalStatus{model.ApprovalPending, model.ApprovalCancelled, model.ApprovalConsumed, "bogus", ""} {
		if _, err := answerApproval(s, ctx, "a", u.ID, du.ID, bad, now); err == nil {
			t.Errorf("AnswerApproval(%q) succeeded", bad)
		}
	}
	checkApproval(t, mustApproval(t, s, "a"), a)
	_, err := answerApproval(s, ctx, "a", v.ID, dv.ID, model.ApprovalApproved, now)
	wantErr(t, "AnswerApproval(other user)", err, model.ErrNotFound)
	_, err = answerApproval(s, ctx, "nope", u.ID, du.ID, model.ApprovalApproved, now)
	wantErr(t, "AnswerApproval(unknown)", err, model.ErrNotFound)
	_, err = answerApproval(s, ctx, "a", u.ID, du.ID, model.ApprovalApproved, a.ExpiresAt)
	wantErr(t, "AnswerApproval(at expiry)", err, model.ErrConflict)
	checkApproval(t, mustApproval(t, s, "a"), a)

	before := time.Now()
	got, err := answerApproval(s, ctx, "a", u.ID, du.ID, model.ApprovalApproved, now)
	noErr(t, "AnswerApproval", err)
	aboutNow(t, "AnsweredAt", got.AnsweredAt, before)
	want := *a
	want.Status, want.DeviceID, want.AnsweredAt = model.ApprovalApproved, du.ID, got.AnsweredAt
	checkApproval(t, got, &want)
	checkApproval(t, mustApproval(t, s, "a"), &want)
	for _, again := range []model.ApprovalStatus{model.ApprovalDenied, model.ApprovalApproved, model.ApprovalReported} {
		_, err = answerApproval(s, ctx, "a", u.ID, du.ID, again, now)
		wantErr(t, "AnswerApproval(answered, "+string(again)+")", err, model.ErrConflict)
	}
	checkApproval(t, mustApproval(t, s, "a"), &want)
	if usr, _ := s.UserByID(ctx, u.ID); !usr.BlockedAt.IsZero() {
		t.Error("a report of an answered request blocked the user")
	}

	// A cancelled request cannot be answered.
	mustCreateApproval(t, s, "b", u.ID, hash(2))
	mustCreateApproval(t, s, "c", u.ID, hash(3))
	_, err = answerApproval(s, ctx, "b", u.ID, du.ID, model.ApprovalApproved, now)
	wantErr(t, "AnswerApproval(cancelled)", err, model.ErrConflict)
	wantStatus(t, s, "b", model.ApprovalCancelled)

	// Denials and wrong numbers are recorded and block nobody.
	got, err = answerApproval(s, ctx, "c", u.ID, du.ID, model.ApprovalWrongNumber, now)
	noErr(t, "AnswerApproval(wrong number)", err)
	if got.Status != model.ApprovalWrongNumber {
		t.Errorf("status = %q, want wrong_number", got.Status)
	}
	mustCreateApproval(t, s, "d", u.ID, hash(4))
	_, err = answerApproval(s, ctx, "d", u.ID, du.ID, model.ApprovalDenied, now)
	noErr(t, "AnswerApproval(deny)", err)
	wantStatus(t, s, "d", model.ApprovalDenied)
	if usr, _ := s.UserByID(ctx, u.ID); !usr.BlockedAt.IsZero() {
		t.Errorf("BlockedAt = %v after a denial, want zero", usr.BlockedAt)
	}
}

// testAnswerReported: reporting a request blocks the user and ends their
// sessions, in the same transaction; nobody else's.
func testAnswerReported(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	d := mustPairDevice(t, s, u.ID, 1)
	mustCreateSession(t, s, newSession(1, u.ID, base()))
	mustCreateSession(t, s, newSession(2, u.ID, base()))
	mustCreateSession(t, s, newSession(3, v.ID, base()))
	mustCreateApproval(t, s, "a", u.ID, hash(1))
	before := time.Now()
	// The core's answer: "a report blocks the user" is its rule.
	status, err := rules(s).Approvals.Answer(ctx, d, "a", core.DecisionReport, "")
	noErr(t, "Answer(report)", err)
	if status != model.ApprovalReported {
		t.Errorf("reported request: %s", status)
	}
	wantStatus(t, s, "a", model.ApprovalReported)
	if got, err := s.ApprovalByID(ctx, "a"); err != nil || got.DeviceID != d.ID {
		t.Errorf("reported request = %+v, %v", got, err)
	}
	usr, err := s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	aboutNow(t, "BlockedAt", usr.BlockedAt, before)
	if usr.BlockedReason != model.BlockedByReport {
		t.Errorf("BlockedReason = %q, want %q", usr.BlockedReason, model.BlockedByReport)
	}
	sessionGone(t, s, "session of a blocked user", hash(1))
	sessionGone(t, s, "session of a blocked user", hash(2))
	sessionKept(t, s, "other user's session", hash(3))
	if other, _ := s.UserByID(ctx, v.ID); !other.BlockedAt.IsZero() {
		t.Errorf("other user blocked at %v", other.BlockedAt)
	}
}

// testAnswerConcurrent: of several answers to one request at once, exactly
// one is recorded.
func testAnswerConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	d := mustPairDevice(t, s, u.ID, 1)
	for round := range 5 {
		id := fmt.Sprintf("round-%d", round)
		mustCreateApproval(t, s, id, u.ID, hash(byte(round)))
		const n = 6
		var errs [n]error
		answer := func(i int) model.ApprovalStatus {
			if i%2 == 0 {
				return model.ApprovalApproved
			}
			return model.ApprovalDenied
		}
		now := time.Now()
		parallel(n, func(i int) { _, errs[i] = answerApproval(s, ctx, id, u.ID, d.ID, answer(i), now) })
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case err == nil:
				t.Errorf("round %d: answers %d and %d both recorded", round, won, i)
			case !errors.Is(err, model.ErrConflict):
				t.Errorf("round %d, answer %d: %v", round, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: no answer recorded", round)
		}
		if got := mustApproval(t, s, id); got.Status != answer(won) || got.DeviceID != d.ID {
			t.Errorf("round %d: stored %+v, want the winner's %q", round, got, answer(won))
		}
	}
}

// testConsumeApproval: only an approved request, for its own session,
// once; the session is replaced in the same transaction.
func testConsumeApproval(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	d := mustPairDevice(t, s, u.ID, 1)
	mustCreateSession(t, s, newSession(1, u.ID, base()))
	mustCreateSession(t, s, newSession(2, u.ID, base()))
	mustCreateApproval(t, s, "a", u.ID, hash(1))
	next := newSession(5, u.ID, base())
	next.Stage, next.MFAAt = model.StageComplete, base().Add(time.Second)

	wantErr(t, "ConsumeApproval(pending)", s.ConsumeApproval(ctx, "a", hash(1), next), model.ErrConflict)
	sessionGone(t, s, "next after a refused consume", hash(5))
	sessionKept(t, s, "old after a refused consume", hash(1))
	wantStatus(t, s, "a", model.ApprovalPending)

	_, err := answerApproval(s, ctx, "a", u.ID, d.ID, model.ApprovalApproved, time.Now())
	noErr(t, "AnswerApproval", err)
	wantErr(t, "ConsumeApproval(other session)", s.ConsumeApproval(ctx, "a", hash(2), next), model.ErrConflict)
	sessionKept(t, s, "other session after a refused consume", hash(2))
	sessionGone(t, s, "next after a refused consume", hash(5))
	wantErr(t, "ConsumeApproval(unknown request)", s.ConsumeApproval(ctx, "nope", hash(1), next), model.ErrNotFound)
	sessionKept(t, s, "old after a refused consume", hash(1))
	wantStatus(t, s, "a", model.ApprovalApproved)

	noErr(t, "ConsumeApproval", s.ConsumeApproval(ctx, "a", hash(1), next))
	sessionGone(t, s, "old session after consume", hash(1))
	got, err := s.SessionByHash(ctx, hash(5))
	noErr(t, "SessionByHash(next)", err)
	checkSession(t, got, next)
	wantStatus(t, s, "a", model.ApprovalConsumed)
	sessionKept(t, s, "unrelated session", hash(2))

	next2 := newSession(6, u.ID, base())
	wantErr(t, "ConsumeApproval(again)", s.ConsumeApproval(ctx, "a", hash(1), next2), model.ErrConflict)
	wantErr(t, "ConsumeApproval(again, new session)", s.ConsumeApproval(ctx, "a", hash(5), next2), model.ErrConflict)
	sessionGone(t, s, "next2", hash(6))
	sessionKept(t, s, "next after a second consume", hash(5))

	// A denied request is not consumed.
	mustCreateApproval(t, s, "b", u.ID, hash(5))
	_, err = answerApproval(s, ctx, "b", u.ID, d.ID, model.ApprovalDenied, time.Now())
	noErr(t, "AnswerApproval(deny)", err)
	wantErr(t, "ConsumeApproval(denied)", s.ConsumeApproval(ctx, "b", hash(5), next2), model.ErrConflict)
	sessionGone(t, s, "next2", hash(6))
	wantStatus(t, s, "b", model.ApprovalDenied)
}

// testConsumeApprovalSessionGone: a consume whose session is gone changes
// nothing.
func testConsumeApprovalSessionGone(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	d := mustPairDevice(t, s, u.ID, 1)
	mustCreateSession(t, s, newSession(1, u.ID, base()))
	mustCreateApproval(t, s, "a", u.ID, hash(1))
	_, err := answerApproval(s, ctx, "a", u.ID, d.ID, model.ApprovalApproved, time.Now())
	noErr(t, "AnswerApproval", err)
	noErr(t, "DeleteSession", deleteSession(ctx, s, hash(1)))
	wantErr(t, "ConsumeApproval(session gone)", s.ConsumeApproval(ctx, "a", hash(1), newSession(5, u.ID, base())), model.ErrNotFound)
	sessionGone(t, s, "next", hash(5))
	wantStatus(t, s, "a", model.ApprovalApproved)
}

// testSetBlocked: blocking records the time and ends the user's sessions;
// unblocking clears it and ends nothing.
func testSetBlocked(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	mustCreateSession(t, s, newSession(1, u.ID, base()))
	mustCreateSession(t, s, newSession(2, u.ID, base()))
	mustCreateSession(t, s, newSession(3, v.ID, base()))
	got, err := s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if !got.BlockedAt.IsZero() {
		t.Errorf("BlockedAt of a new user = %v", got.BlockedAt)
	}

	at := base() // sub-millisecond digits, non-UTC zone
	noErr(t, "SetBlocked", setBlocked(s, ctx, u.ID, at, "by an admin"))
	got, err = s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	sameTime(t, "BlockedAt", got.BlockedAt, ms(at))
	if got.BlockedReason != "by an admin" {
		t.Errorf("BlockedReason = %q, want %q", got.BlockedReason, "by an admin")
	}
	got, err = s.UserByName(ctx, "alice")
	noErr(t, "UserByName", err)
	sameTime(t, "BlockedAt (by name)", got.BlockedAt, ms(at))
	users, err := s.ListUsers(ctx)
	noErr(t, "ListUsers", err)
	if len(users) != 2 || !users[0].BlockedAt.Equal(ms(at)) || !users[1].BlockedAt.IsZero() {
		t.Errorf("ListUsers BlockedAt = %v, %v; want %v and zero", users[0].BlockedAt, users[1].BlockedAt, ms(at))
	}
	sessionGone(t, s, "session of a blocked user", hash(1))
	sessionGone(t, s, "session of a blocked user", hash(2))
	sessionKept(t, s, "other user's session", hash(3))

	mustCreateSession(t, s, newSession(4, u.ID, base()))
	noErr(t, "SetBlocked(unblock)", setBlocked(s, ctx, u.ID, time.Time{}, "ignored"))
	got, err = s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if !got.BlockedAt.IsZero() || got.BlockedReason != "" {
		t.Errorf("BlockedAt after unblocking = %v (%q), want zero", got.BlockedAt, got.BlockedReason)
	}
	sessionKept(t, s, "session kept by unblocking", hash(4))

	missing := u.ID + v.ID + 1000
	wantErr(t, "SetBlocked(unknown)", setBlocked(s, ctx, missing, at, "x"), model.ErrNotFound)
	wantErr(t, "SetBlocked(unknown, unblock)", setBlocked(s, ctx, missing, time.Time{}, ""), model.ErrNotFound)
}

// testDeleteStaleApprovals: old requests, expired nonces and expired links
// (with the devices waiting on them) go; everything fresh stays.
func testDeleteStaleApprovals(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	w := mustCreateUser(t, s, "carol")
	now := ms(base())

	old := mustCreateApproval(t, s, "old", u.ID, hash(1))
	msLater()
	fresh := mustCreateApproval(t, s, "fresh", v.ID, hash(2))
	if !old.CreatedAt.Before(fresh.CreatedAt) {
		t.Fatalf("CreatedAt %v, %v: not in order", old.CreatedAt, fresh.CreatedAt)
	}

	du := mustPairDevice(t, s, u.ID, 1)
	earlier := now.Add(-2 * time.Minute)
	noErr(t, "UseNonce(expiring now)", s.UseNonce(ctx, du.ID, nonceHash(1), earlier, now, 10))
	noErr(t, "UseNonce(fresh)", s.UseNonce(ctx, du.ID, nonceHash(2), earlier, now.Add(time.Millisecond), 10))

	mustCreatePairing(t, s, u.ID, 2, now) // expires now, unregistered
	mustCreatePairing(t, s, v.ID, 3, now) // expires now, a device waiting
	dv := mustRegister(t, s, 3, earlier)
	mustCreatePairing(t, s, w.ID, 4, now.Add(time.Millisecond)) // fresh, a device waiting
	dw := mustRegister(t, s, 4, earlier)

	n, err := s.DeleteStaleApprovals(ctx, fresh.CreatedAt, now)
	noErr(t, "DeleteStaleApprovals", err)
	if n != 1 {
		t.Errorf("DeleteStaleApprovals = %d, want 1", n)
	}
	_, err = s.ApprovalByID(ctx, "old")
	wantErr(t, "ApprovalByID(old)", err, model.ErrNotFound)
	mustApproval(t, s, "fresh")

	// The expired record is gone, the fresh one stays (tried from another
	// device, whose use drops none of du's records).
	noErr(t, "UseNonce(expired record's nonce)", s.UseNonce(ctx, dw.ID, nonceHash(1), earlier, now.Add(time.Minute), 10))
	wantErr(t, "UseNonce(fresh record's nonce)", s.UseNonce(ctx, dw.ID, nonceHash(2), earlier, now.Add(time.Minute), 10), model.ErrConflict)

	pairingGone(t, s, "expired link", u.ID, 2)
	pairingGone(t, s, "expired registered link", v.ID, 3)
	deviceGone(t, s, "device of an expired link", dv.ID)
	if _, err := s.PairingBySession(ctx, w.ID, pairSession(4)); err != nil {
		t.Errorf("fresh link: %v", err)
	}
	mustDevice(t, s, dw.ID)
	if d := mustDevice(t, s, du.ID); !d.Active {
		t.Errorf("active device = %+v", d)
	}

	n, err = s.DeleteStaleApprovals(ctx, fresh.CreatedAt, now)
	noErr(t, "DeleteStaleApprovals(again)", err)
	if n != 0 {
		t.Errorf("DeleteStaleApprovals(again) = %d, want 0", n)
	}
}

// testExpireApproval: only a pending request whose time is up becomes
// expired, once; an answered one keeps its answer.
func testExpireApproval(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	a := mustCreateApproval(t, s, "a", u.ID, hash(1))
	done, err := expireApproval(s, ctx, "a", time.Now())
	noErr(t, "ExpireApproval(before its time)", err)
	if done {
		t.Fatal("a request was expired before its time")
	}
	later := a.ExpiresAt.Add(time.Millisecond)
	for i, want := range []bool{true, false} {
		done, err := expireApproval(s, ctx, "a", later)
		noErr(t, "ExpireApproval", err)
		if done != want {
			t.Errorf("call %d: ExpireApproval = %v, want %v", i+1, done, want)
		}
	}
	if got := mustApproval(t, s, "a"); got.Status != model.ApprovalExpired {
		t.Errorf("status = %s, want expired", got.Status)
	}
	d := mustPairDevice(t, s, u.ID, 1)
	mustCreateApproval(t, s, "b", u.ID, hash(2))
	if _, err := answerApproval(s, ctx, "b", u.ID, d.ID, model.ApprovalDenied, time.Now()); err != nil {
		t.Fatal(err)
	}
	if done, _ := expireApproval(s, ctx, "b", later); done {
		t.Error("an answered request was expired")
	}
	if done, _ := expireApproval(s, ctx, "missing", later); done {
		t.Error("a missing request was expired")
	}
}

// testMethodRemovalEndsOtherSessions: removing an authenticator or a
// device ends, in the same transaction, every session of the user but the
// one kept (nil: all); a refused removal ends none, and other users'
// sessions stay.
func testMethodRemovalEndsOtherSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	a := mustAddTOTP(t, s, u.ID)
	d1 := mustPairDevice(t, s, u.ID, 1)
	d2 := mustPairDevice(t, s, u.ID, 2)
	sessions := func() {
		for i := byte(80); i < 83; i++ {
			_ = deleteSession(ctx, s, hash(i))
			mustCreateSession(t, s, newSession(i, u.ID, base()))
		}
	}
	mustCreateSession(t, s, newSession(89, v.ID, base()))

	sessions()
	noErr(t, "DeleteDevice(keep 81)", deleteDevice(s, ctx, u.ID, d1.ID, true, hash(81)))
	if got := sessionsLeft(t, s, 80, 81, 82, 89); fmt.Sprint(got) != "[81 89]" {
		t.Errorf("after DeleteDevice: sessions left %v, want [81 89]", got)
	}

	sessions()
	noErr(t, "DeleteTOTP(keep 82)", deleteTOTP(s, ctx, u.ID, a.ID, true, hash(82)))
	if got := sessionsLeft(t, s, 80, 81, 82, 89); fmt.Sprint(got) != "[82 89]" {
		t.Errorf("after DeleteTOTP: sessions left %v, want [82 89]", got)
	}

	// Refused (last method, unknown id): nothing ends.
	sessions()
	wantErr(t, "DeleteDevice(keepOne, last method)", deleteDevice(s, ctx, u.ID, d2.ID, true, hash(80)), model.ErrLimit)
	wantErr(t, "DeleteTOTP(unknown)", deleteTOTP(s, ctx, u.ID, a.ID, false, hash(80)), model.ErrNotFound)
	if got := sessionsLeft(t, s, 80, 81, 82, 89); fmt.Sprint(got) != "[80 81 82 89]" {
		t.Errorf("after refused removals: sessions left %v, want all", got)
	}

	// nil keeps none.
	noErr(t, "DeleteDevice(keep none)", deleteDevice(s, ctx, u.ID, d2.ID, false, nil))
	if got := sessionsLeft(t, s, 80, 81, 82, 89); fmt.Sprint(got) != "[89]" {
		t.Errorf("after DeleteDevice(nil): sessions left %v, want [89]", got)
	}
}

// testRegisterWaitingConcurrent: of many phones registering through one
// link at once, exactly maxWaiting are stored.
func testRegisterWaitingConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	now := ms(base())
	mustCreatePairing(t, s, u.ID, 1, now.Add(time.Minute))
	const n = 8
	var errs [n]error
	parallel(n, func(i int) {
		errs[i] = s.RegisterDevice(ctx, tokenHash(1), newDevice(10+i), codeHash(10+i), now, model.MaxDevices, model.MaxPairingPhones)
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, model.ErrNotFound):
			t.Errorf("registration %d: %v", i, err)
		}
	}
	list, _ := s.Devices(ctx, u.ID)
	if p, err := s.PairingBySession(ctx, u.ID, pairSession(1)); ok != model.MaxPairingPhones || len(list) != ok || err != nil || p.Waiting != ok {
		t.Errorf("%d registrations succeeded, %d devices stored, link %+v (%v); want %d", ok, len(list), p, err, model.MaxPairingPhones)
	}
}
