package core

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/passkey"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// PasskeyChallengeLifetime is how long a passkey ceremony may take once
// begun: five minutes, WebAuthn L3's advice when user verification may
// ask for a PIN.
const PasskeyChallengeLifetime = 5 * time.Minute

// PasskeySite is where a ceremony runs: the request's scheme ("https", or
// "http" on localhost) and Host (host[:port]). Its origin is the one the
// browser's answer must name.
type PasskeySite struct{ Scheme, Host string }

// Refusals of the passkey ceremonies (errors.Is).
var (
	// ErrPasskeyNotOffered: the site's host is not under the RP ID, or
	// it is not https (or http on localhost).
	ErrPasskeyNotOffered = errors.New("core: passkeys are not offered on this site")
	// ErrNoPasskey: the user has no passkey usable here.
	ErrNoPasskey = errors.New("core: the user has no passkey for this site")
	// ErrPasskeyChallenge: no ceremony of this browser's session is
	// pending (never begun, used already, begun by another session) or it
	// has expired.
	ErrPasskeyChallenge = errors.New("core: no passkey request of this sign-in is pending, or it has expired")
	// ErrPasskeyRefused: the authenticator's answer did not verify
	// (origin, RP ID, challenge, signature, unknown or deleted credential).
	ErrPasskeyRefused = errors.New("core: the passkey's answer was refused")
	// ErrPasskeyCloned: the credential's sign count went backwards.
	ErrPasskeyCloned = errors.New("core: the passkey's sign count went backwards (a cloned authenticator?)")
	// ErrPasskeyRegistered: the authenticator's credential is registered
	// already.
	ErrPasskeyRegistered = errors.New("core: this passkey is registered already")
)

// PasskeyName labels a passkey whose make is unknown and that the user did
// not name.
const PasskeyName = "Passkey"

// maxWarnedHosts bounds the hosts remembered as warned about (the Host
// header is the client's).
const maxWarnedHosts = 256

// Passkeys runs the WebAuthn ceremonies of passkeys and security keys as
// a second factor: registration (Security info) and assertion for a known
// user (the sign-in step after the password). Each finish is one store
// transaction: the challenge is consumed, the answer judged, and the
// outcome (credential, sign count, promotion, audit row) written.
type Passkeys struct {
	store  store.Store
	rpID   string // "": each request's own host
	rpName string
	audit  *audit.Log
	events *Events
	logger *zap.Logger
	now    func() time.Time

	// challengeKey keys the MAC of passwordless challenges
	// (passkey_challenge.go).
	challengeKey []byte

	mu     sync.Mutex
	warned map[string]bool
}

func newPasskeys(st store.Store, rpID, rpName string, log *audit.Log, events *Events, logger *zap.Logger) *Passkeys {
	if rpName == "" {
		rpName = "mfagate"
	}
	return &Passkeys{store: st, rpID: rpID, rpName: rpName, audit: log, events: events, logger: logger.Named("passkeys"),
		now: time.Now, warned: map[string]bool{}}
}

// RPID is the relying party ID a site's ceremonies use.
func (p *Passkeys) RPID(site PasskeySite) string { return passkey.ForHost(p.rpID, site.Host) }

// Offered reports whether site may use passkeys: its host is at or under
// the RP ID, over https (or http on localhost). The first refusal of a
// host is logged.
func (p *Passkeys) Offered(site PasskeySite) bool {
	_, _, err := p.relyingParty(site)
	return err == nil
}

// relyingParty returns the WebAuthn relying party for a ceremony on site
// and the origin its answer must come from.
func (p *Passkeys) relyingParty(site PasskeySite) (*webauthn.WebAuthn, string, error) {
	rpID := p.RPID(site)
	// Without a configured RP ID the request's host is one, and may be
	// an address or a public suffix, which browsers refuse.
	err := passkey.ValidateRPID(rpID)
	origin := ""
	if err == nil {
		origin, err = passkey.ExpectedOrigin(site.Scheme, site.Host, rpID)
	}
	if err != nil {
		p.warnOnce(site, rpID, err)
		return nil, "", fmt.Errorf("%w: %w", ErrPasskeyNotOffered, err)
	}
	lifetime := webauthn.TimeoutConfig{Timeout: PasskeyChallengeLifetime, TimeoutUVD: PasskeyChallengeLifetime}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  rpID,
		RPDisplayName:         p.rpName,
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: lifetime, Registration: lifetime},
	})
	if err != nil {
		return nil, "", fmt.Errorf("core: passkeys: relying party %q: %w", rpID, err)
	}
	return wa, origin, nil
}

// warnOnce logs, once per host, that a site does not offer passkeys.
func (p *Passkeys) warnOnce(site PasskeySite, rpID string, err error) {
	host := strings.ToLower(site.Host)
	p.mu.Lock()
	first := !p.warned[host] && len(p.warned) < maxWarnedHosts
	if first {
		p.warned[host] = true
	}
	p.mu.Unlock()
	if first {
		p.logger.Warn("passkeys are not offered on this site", zap.String("host", site.Host),
			zap.String("rp_id", rpID), zap.Error(err))
	}
}

// Credentials lists u's passkeys and security keys, oldest first.
func (p *Passkeys) Credentials(ctx context.Context, userID int64) ([]model.WebAuthnCredential, error) {
	cs, err := p.store.WebAuthnCredentials(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("core: passkeys: %w", err)
	}
	return cs, nil
}

// BeginRegistration starts registering a passkey for u on site, bound to
// the browser's session record sessionHash, and returns the options for
// navigator.credentials.create (JSON): the user's random handle (made on
// first use), their credentials as excludeCredentials, resident key
// preferred with credProps, attestation none, user verification
// preferred. A new begin replaces the session's pending one.
func (p *Passkeys) BeginRegistration(ctx context.Context, u *model.User, sessionHash []byte, site PasskeySite) ([]byte, error) {
	wa, origin, err := p.relyingParty(site)
	if err != nil {
		return nil, err
	}
	fresh, err := newUserHandle()
	if err != nil {
		return nil, err
	}
	var options []byte
	err = p.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		user, err := p.loadUser(ctx, tx, u, fresh, wa.Config.RPID)
		if err != nil {
			return err
		}
		creation, session, err := wa.BeginRegistration(user,
			webauthn.WithExclusions(webauthn.Credentials(user.creds).CredentialDescriptors()),
			webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
			webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
			webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
			webauthn.WithRegistrationOrigin(origin))
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if err := p.putChallenge(ctx, tx, u.ID, sessionHash, model.CeremonyRegister, session); err != nil {
			return err
		}
		options, err = json.Marshal(creation)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("core: begin passkey registration: %w", err)
	}
	return options, nil
}

// FinishRegistration completes the registration u's browser began in
// session sessionHash with the authenticator's answer (the
// PublicKeyCredential as JSON), naming the passkey name (empty: its make,
// or PasskeyName). In one transaction the challenge is consumed (whatever
// the outcome: it is single use), the answer judged (origin exactly the
// site's, not cross-origin, the RP ID, the challenge), the credential
// stored, an Enabled user promoted to Enforced and the outcome audited.
// Refusals: ErrPasskeyChallenge, ErrPasskeyRefused, ErrPasskeyRegistered;
// a bad name is refused before anything is consumed.
func (p *Passkeys) FinishRegistration(ctx context.Context, u *model.User, sessionHash []byte, site PasskeySite, name string, response []byte, ip string) (*model.WebAuthnCredential, error) {
	if name != "" {
		n, err := methodName(name)
		if err != nil {
			return nil, err
		}
		name = n
	}
	wa, origin, err := p.relyingParty(site)
	if err != nil {
		return nil, err
	}
	parsed, parseErr := protocol.ParseCredentialCreationResponseBytes(response)
	fresh, err := newUserHandle()
	if err != nil {
		return nil, err
	}
	var out ceremonyOutcome
	var added *model.WebAuthnCredential
	err = p.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		out, added = ceremonyOutcome{}, nil
		locked, session, err := p.takeChallenge(ctx, tx, u, sessionHash, model.CeremonyRegister, &out)
		if err != nil || out.refusal != nil {
			return err
		}
		user, err := p.loadUser(ctx, tx, locked, fresh, wa.Config.RPID)
		if err != nil {
			return err
		}
		cred, verr := verifyRegistration(wa, user, *session, origin, parsed, parseErr)
		if verr != nil {
			return out.refuse(ctx, tx, fmt.Errorf("%w: %w", ErrPasskeyRefused, verr),
				p.event(locked, audit.PasskeyRegisterFail, ip, refusalDetail(verr)))
		}
		c := newCredentialRecord(locked.ID, session.RelyingPartyID, name, cred)
		if err := tx.AddWebAuthnCredential(ctx, c); errors.Is(err, model.ErrConflict) {
			return out.refuse(ctx, tx, ErrPasskeyRegistered,
				p.event(locked, audit.PasskeyRegisterFail, ip, "credential registered already"))
		} else if err != nil {
			return err
		}
		promoted, err := promoteOnNewMethod(ctx, tx, locked)
		if err != nil {
			return err
		}
		if promoted {
			if err := out.record(ctx, tx, p.event(locked, audit.MFAStateChanged, ip, "enabled -> enforced (method registered)")); err != nil {
				return err
			}
		}
		added = c
		return out.record(ctx, tx, p.event(locked, audit.PasskeyRegistered, ip,
			strconv.FormatInt(c.ID, 10)+": "+c.Name+" ("+passkey.Make(c.AAGUID)+")"))
	})
	if err != nil {
		return nil, fmt.Errorf("core: finish passkey registration: %w", err)
	}
	out.logged(p.audit)
	if out.refusal != nil {
		return nil, out.refusal
	}
	return added, nil
}

// BeginAssertion starts u's passkey step at sign-in on site, bound to
// the browser's session record sessionHash, and returns the options for
// navigator.credentials.get (JSON): u's credentials for this RP ID as
// allowCredentials, user verification preferred. ErrNoPasskey when u has
// none here. A new begin replaces the session's pending one.
func (p *Passkeys) BeginAssertion(ctx context.Context, u *model.User, sessionHash []byte, site PasskeySite) ([]byte, error) {
	wa, origin, err := p.relyingParty(site)
	if err != nil {
		return nil, err
	}
	fresh, err := newUserHandle()
	if err != nil {
		return nil, err
	}
	var options []byte
	err = p.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		user, err := p.loadUser(ctx, tx, u, fresh, wa.Config.RPID)
		if err != nil {
			return err
		}
		if len(user.creds) == 0 {
			return ErrNoPasskey
		}
		assertion, session, err := wa.BeginLogin(user,
			webauthn.WithUserVerification(protocol.VerificationPreferred),
			webauthn.WithLoginOrigin(origin))
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if err := p.putChallenge(ctx, tx, u.ID, sessionHash, model.CeremonyAssert, session); err != nil {
			return err
		}
		options, err = json.Marshal(assertion)
		return err
	})
	if errors.Is(err, ErrNoPasskey) {
		return nil, ErrNoPasskey
	}
	if err != nil {
		return nil, fmt.Errorf("core: begin passkey sign-in: %w", err)
	}
	return options, nil
}

// FinishAssertion judges u's passkey answer to the step begun in session
// sessionHash and, in one transaction, consumes the challenge, records
// the credential's new sign count and use, and audits the outcome; it
// returns the credential used. Refusals: ErrPasskeyChallenge,
// ErrPasskeyRefused (a deleted or unknown credential among them),
// ErrPasskeyCloned (the sign count went backwards; audited). The sign-in
// step, which completes the session in the same transaction, uses
// prepareAssertion and assertIn instead.
func (p *Passkeys) FinishAssertion(ctx context.Context, u *model.User, sessionHash []byte, site PasskeySite, response []byte, ip string) (*model.WebAuthnCredential, error) {
	a, err := p.prepareAssertion(site, response)
	if err != nil {
		return nil, err
	}
	var used *model.WebAuthnCredential
	var out ceremonyOutcome
	err = p.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		used, out, err = a.assertIn(ctx, tx, u, sessionHash, ip)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("core: finish passkey sign-in: %w", err)
	}
	out.logged(p.audit)
	if out.refusal != nil {
		return nil, out.refusal
	}
	return used, nil
}

// assertion is an authenticator's answer parsed outside any transaction,
// ready to be judged inside one (assertIn).
type assertion struct {
	p        *Passkeys
	wa       *webauthn.WebAuthn
	origin   string
	parsed   *protocol.ParsedCredentialAssertionData
	parseErr error
	fresh    []byte
}

// prepareAssertion parses an answer (the PublicKeyCredential as JSON) to
// a passkey step on site; an answer that does not parse is refused when
// judged, after its challenge is consumed.
func (p *Passkeys) prepareAssertion(site PasskeySite, response []byte) (*assertion, error) {
	wa, origin, err := p.relyingParty(site)
	if err != nil {
		return nil, err
	}
	fresh, err := newUserHandle()
	if err != nil {
		return nil, err
	}
	parsed, parseErr := protocol.ParseCredentialRequestResponseBytes(response)
	return &assertion{p: p, wa: wa, origin: origin, parsed: parsed, parseErr: parseErr, fresh: fresh}, nil
}

// assertIn judges the answer inside tx (the caller's transaction, say the
// sign-in step that then completes the session): it locks u, consumes the
// session's pending challenge, verifies the answer and records the use.
// A refusal comes back in the outcome (refusal), not as the error, so the
// caller commits the consumed challenge and the audit row; the error is
// the store's, and then the caller must return it. After commit the
// caller passes the outcome's rows to the log (logged).
func (a *assertion) assertIn(ctx context.Context, tx store.Tx, u *model.User, sessionHash []byte, ip string) (*model.WebAuthnCredential, ceremonyOutcome, error) {
	p := a.p
	var out ceremonyOutcome
	locked, session, err := p.takeChallenge(ctx, tx, u, sessionHash, model.CeremonyAssert, &out)
	if err != nil || out.refusal != nil {
		return nil, out, err
	}
	user, err := p.loadUser(ctx, tx, locked, a.fresh, a.wa.Config.RPID)
	if err != nil {
		return nil, out, err
	}
	cred, verr := verifyAssertion(a.wa, user, *session, a.origin, a.parsed, a.parseErr)
	if verr != nil {
		return nil, out, out.refuse(ctx, tx, fmt.Errorf("%w: %w", ErrPasskeyRefused, verr),
			p.event(locked, audit.SignInPasskeyFail, ip, refusalDetail(verr)))
	}
	stored := user.record(cred.ID)
	if stored == nil { // the library verified against one of user.creds
		return nil, out, fmt.Errorf("credential %x verified but not stored", cred.ID)
	}
	if cred.Authenticator.CloneWarning {
		return nil, out, out.refuse(ctx, tx, ErrPasskeyCloned, p.event(locked, audit.SignInPasskeyCloned, ip,
			fmt.Sprintf("%d: %s: sign count %d after %d", stored.ID, stored.Name,
				a.parsed.Response.AuthenticatorData.Counter, stored.SignCount)))
	}
	at := p.now()
	if err := tx.UseWebAuthnCredential(ctx, locked.ID, stored.ID, cred.Authenticator.SignCount,
		cred.Flags.UserVerified, cred.Flags.BackupState, at); err != nil {
		return nil, out, err
	}
	used := *stored
	used.SignCount, used.UserVerified, used.BackupState, used.LastUsedAt = cred.Authenticator.SignCount,
		cred.Flags.UserVerified, cred.Flags.BackupState, at
	if err := out.record(ctx, tx, p.event(locked, audit.SignInPasskeyOK, ip, strconv.FormatInt(stored.ID, 10)+": "+stored.Name)); err != nil {
		return nil, out, err
	}
	return &used, out, nil
}

// Delete removes passkey id of u; model.ErrNotFound when u has no such
// passkey. With keepOne (the site's policy requires a second factor of
// u) it refuses, under u's lock, to remove u's last sign-in method
// (authenticators, active phones and passkeys count; model.ErrLimit).
// Like every method removal (removeMethod) it ends u's other sessions
// (keepSession is the one making the change) in the same transaction
// with its audit row, and drops every node's cached copies of them.
func (p *Passkeys) Delete(ctx context.Context, u *model.User, id int64, keepOne bool, keepSession []byte, ip string) error {
	err := removeMethod(ctx, p.store, p.audit, p.events, methodRemoval{user: u, kind: kindPasskey, id: id, keepOne: keepOne,
		keepSession: keepSession, ip: ip})
	if err != nil {
		return fmt.Errorf("core: delete passkey: %w", err)
	}
	return nil
}

// Rename names passkey id of u, so the user can tell their passkeys
// apart (the rules of every method name: see methodName; nothing is
// stored when the name is refused). model.ErrNotFound when u has no such
// passkey.
func (p *Passkeys) Rename(ctx context.Context, u *model.User, id int64, name, ip string) error {
	n, err := methodName(name)
	if err != nil {
		return err
	}
	var out ceremonyOutcome
	err = p.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		out = ceremonyOutcome{}
		if err := tx.RenameWebAuthnCredential(ctx, u.ID, id, n); err != nil {
			return err
		}
		return out.record(ctx, tx, p.event(u, audit.PasskeyRenamed, ip, strconv.FormatInt(id, 10)+": "+n))
	})
	if err != nil {
		return fmt.Errorf("core: rename passkey: %w", err)
	}
	out.logged(p.audit)
	return nil
}

// ceremonyOutcome is what a finish committed besides its change: a
// refusal to report and the audit rows written, to log after commit.
type ceremonyOutcome struct {
	refusal error
	rows    []model.AuditEvent
}

// record appends an audit row in tx and keeps it for the log.
func (o *ceremonyOutcome) record(ctx context.Context, tx store.Tx, e model.AuditEvent) error {
	e = audit.Clean(e)
	if err := tx.AppendAudit(ctx, &e); err != nil {
		return err
	}
	o.rows = append(o.rows, e)
	return nil
}

// refuse records a refusal and its audit row; the transaction commits
// (the challenge stays consumed).
func (o *ceremonyOutcome) refuse(ctx context.Context, tx store.Tx, why error, e model.AuditEvent) error {
	o.refusal = why
	return o.record(ctx, tx, e)
}

// logged writes the committed rows to the server log.
func (o ceremonyOutcome) logged(log *audit.Log) {
	for _, e := range o.rows {
		log.Logged(e)
	}
}

func (p *Passkeys) event(u *model.User, event, ip, detail string) model.AuditEvent {
	return model.AuditEvent{At: p.now(), UserID: u.ID, Username: u.Username, Event: event, RemoteIP: ip, Detail: detail}
}

// takeChallenge locks u and consumes the session's pending ceremony of
// kind: a missing one, another user's or an expired one sets
// out.refusal to ErrPasskeyChallenge (the consumption commits).
func (p *Passkeys) takeChallenge(ctx context.Context, tx store.Tx, u *model.User, sessionHash []byte, kind model.WebAuthnCeremony, out *ceremonyOutcome) (*model.User, *webauthn.SessionData, error) {
	locked, err := tx.LockUser(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	ch, err := tx.TakeWebAuthnChallenge(ctx, sessionHash, kind)
	if errors.Is(err, model.ErrNotFound) {
		out.refusal = ErrPasskeyChallenge
		return locked, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if ch.UserID != u.ID || !p.now().Before(ch.ExpiresAt) {
		out.refusal = ErrPasskeyChallenge
		return locked, nil, nil
	}
	var session webauthn.SessionData
	if err := json.Unmarshal(ch.Data, &session); err != nil {
		return nil, nil, fmt.Errorf("pending %s ceremony: %w", kind, err)
	}
	return locked, &session, nil
}

// putChallenge stores a begun ceremony as the session's pending one.
func (p *Passkeys) putChallenge(ctx context.Context, tx store.Tx, userID int64, sessionHash []byte, kind model.WebAuthnCeremony, session *webauthn.SessionData) error {
	if len(sessionHash) == 0 {
		return errors.New("a passkey ceremony needs the browser's session")
	}
	data, err := json.Marshal(session)
	if err != nil {
		return err
	}
	now := p.now()
	return tx.PutWebAuthnChallenge(ctx, &model.WebAuthnChallenge{SessionHash: sessionHash, Ceremony: kind,
		UserID: userID, Data: data, CreatedAt: now, ExpiresAt: now.Add(PasskeyChallengeLifetime)}, now)
}

// loadUser reads u's handle (storing fresh when u has none) and u's
// credentials made for rpID (those made for another RP ID cannot be used
// here) as the library's User.
func (p *Passkeys) loadUser(ctx context.Context, tx store.Tx, u *model.User, fresh []byte, rpID string) (*passkeyUser, error) {
	handle, err := tx.WebAuthnUserHandle(ctx, u.ID, fresh)
	if err != nil {
		return nil, err
	}
	all, err := tx.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return newPasskeyUser(u, handle, all, rpID), nil
}

// newPasskeyUser is u, whose handle is handle, as the library sees them
// with those of credentials all made for rpID (those made for another RP
// ID cannot be used here).
func newPasskeyUser(u *model.User, handle []byte, all []model.WebAuthnCredential, rpID string) *passkeyUser {
	user := &passkeyUser{handle: handle, name: u.Username, display: u.DisplayName}
	if user.display == "" {
		user.display = u.Username
	}
	for _, c := range all {
		if c.RPID == rpID {
			user.stored = append(user.stored, c)
			user.creds = append(user.creds, libraryCredential(c))
		}
	}
	return user
}

// verifyRegistration judges a registration answer: the origin must equal
// the site's exactly and not be cross-origin; the library checks the
// rest (type, challenge, RP ID hash, flags, attestation).
func verifyRegistration(wa *webauthn.WebAuthn, user *passkeyUser, session webauthn.SessionData, origin string, parsed *protocol.ParsedCredentialCreationData, parseErr error) (*webauthn.Credential, error) {
	if parseErr != nil {
		return nil, parseErr
	}
	if err := checkClientData(parsed.Response.CollectedClientData, origin); err != nil {
		return nil, err
	}
	return wa.CreateCredential(user, session, parsed)
}

// verifyAssertion judges an assertion as verifyRegistration does a
// registration; the library also checks that the credential is one of
// the user's now (a deleted one is not) and the signature.
func verifyAssertion(wa *webauthn.WebAuthn, user *passkeyUser, session webauthn.SessionData, origin string, parsed *protocol.ParsedCredentialAssertionData, parseErr error) (*webauthn.Credential, error) {
	if parseErr != nil {
		return nil, parseErr
	}
	if err := checkClientData(parsed.Response.CollectedClientData, origin); err != nil {
		return nil, err
	}
	return wa.ValidateLogin(user, session, parsed)
}

// checkClientData refuses an answer collected at another origin than the
// site's (compared exactly, as the browser wrote it) or in a cross-origin
// frame.
func checkClientData(cd protocol.CollectedClientData, origin string) error {
	if cd.Origin != origin {
		return fmt.Errorf("origin %q, want %q", cd.Origin, origin)
	}
	if cd.CrossOrigin {
		return errors.New("cross-origin answer")
	}
	return nil
}

// refusalDetail says why the library refused an answer, for the audit
// row: its message and, when it has them, its developer details ("RP
// Hash mismatch…").
func refusalDetail(err error) string {
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.DevInfo != "" {
		return err.Error() + ": " + perr.DevInfo
	}
	return err.Error()
}

// newCredentialRecord is the row of a credential the library verified.
func newCredentialRecord(userID int64, rpID, name string, c *webauthn.Credential) *model.WebAuthnCredential {
	if name == "" {
		name = passkey.Make(c.Authenticator.AAGUID)
		if name == passkey.UnknownMake {
			name = PasskeyName
		}
	}
	transports := make([]string, 0, len(c.Transport))
	for _, t := range c.Transport {
		transports = append(transports, string(t))
	}
	aaguid := c.Authenticator.AAGUID
	if len(aaguid) == 0 {
		aaguid = make([]byte, 16)
	}
	return &model.WebAuthnCredential{UserID: userID, CredentialID: c.ID, PublicKey: c.PublicKey,
		AttestationType: c.AttestationType, AAGUID: aaguid, SignCount: c.Authenticator.SignCount, Name: name,
		RPID: rpID, Transports: transports, UserVerified: c.Flags.UserVerified,
		BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState,
		Discoverable: c.Extensions.RK != nil && *c.Extensions.RK}
}

// libraryCredential is a stored credential as the library verifies
// against it.
func libraryCredential(c model.WebAuthnCredential) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, 0, len(c.Transports))
	for _, t := range c.Transports {
		transports = append(transports, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{ID: c.CredentialID, PublicKey: c.PublicKey, AttestationType: c.AttestationType,
		Transport: transports,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: c.UserVerified,
			BackupEligible: c.BackupEligible, BackupState: c.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount}}
}

// passkeyUser is a user as the WebAuthn library sees them.
type passkeyUser struct {
	handle        []byte
	name, display string
	stored        []model.WebAuthnCredential
	creds         []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.display }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// record is the stored credential with credential ID id.
func (u *passkeyUser) record(id []byte) *model.WebAuthnCredential {
	for i := range u.stored {
		if string(u.stored[i].CredentialID) == string(id) {
			return &u.stored[i]
		}
	}
	return nil
}

// newUserHandle is a random 32-byte WebAuthn user handle: it reveals
// nothing of the account.
func newUserHandle() ([]byte, error) {
	h := make([]byte, 32)
	if _, err := rand.Read(h); err != nil {
		return nil, fmt.Errorf("core: passkeys: user handle: %w", err)
	}
	return h, nil
}
