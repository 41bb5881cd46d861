package core

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/store"
)

// Fatigue limits of sign-in approval requests.
const (
	// DefaultApprovalTimeout is how long a request waits for an answer.
	DefaultApprovalTimeout = 60 * time.Second
	// MaxApprovalTimeout bounds push_timeout.
	MaxApprovalTimeout = 5 * time.Minute
	// approvalsPerWindow requests per user per approvalWindow at most.
	approvalsPerWindow = 5
	approvalWindow     = 15 * time.Minute
	// approvalsKept is how long answered requests stay for the log.
	approvalsKept = 24 * time.Hour
)

// Digits of the number a sign-in request shows (push_number_digits).
const (
	// DefaultNumberDigits is the seed's two-digit number (as Entra's).
	DefaultNumberDigits = 2
	// MinNumberDigits and MaxNumberDigits bound push_number_digits; the
	// store's number column takes up to eight digits.
	MinNumberDigits = 2
	MaxNumberDigits = 8
	// OutOfBandNumberDigits is the shortest number with which an approval
	// meets NIST SP 800-63B-4's out-of-band rule: the secret the user
	// transfers from the sign-in screen to the phone has at least six
	// digits.
	OutOfBandNumberDigits = 6
)

// Errors of sign-in approval, worded for the person concerned.
var (
	ErrNoPhone          = errors.New("you have no paired phone")
	ErrTooManyApprovals = errors.New("too many sign-in requests: use a verification code instead, or try again in 15 minutes")
	ErrApprovalGone     = errors.New("this sign-in request was already answered, or has expired")
)

// NumberFormatError refuses an approval whose typed number is not one of
// the request's Digits digits (perhaps grouped by spaces): the phone's own
// form stops such input, so it is a malformed call, not a guess; the
// request stays pending and nothing counts. A number of the right length
// that differs is a wrong number, and counts.
type NumberFormatError struct{ Digits int }

func (e *NumberFormatError) Error() string {
	return fmt.Sprintf("core: the number must have %d digits", e.Digits)
}

// Decisions a phone can send.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
	DecisionReport  = "report"
)

// Sender delivers push messages without blocking (*push.Sender).
type Sender interface {
	Send(msg push.Message) bool
}

// Approvals runs sign-in approval on a paired phone with number matching:
// the browser shows a number of digits digits (two by default), the
// phone's user types it, and the approval only marks the request; the
// waiting browser consumes it.
type Approvals struct {
	store    store.Store
	phones   *Phones
	attempts *Attempts
	audit    *audit.Log
	events   *Events
	signins  *SignInLog
	sender   Sender // nil: phones see requests only while their app is open
	timeout  time.Duration
	digits   int // of the numbers shown, MinNumberDigits..MaxNumberDigits
	now      func() time.Time
}

// Context describes a sign-in for the phone.
type Context struct {
	Site      string // the host signed in to
	RemoteIP  string
	UserAgent string
}

// HasPhone reports whether u has an active paired phone.
func (a *Approvals) HasPhone(ctx context.Context, u *model.User) (bool, error) {
	ds, err := a.phones.Devices(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, d := range ds {
		if d.Active {
			return true, nil
		}
	}
	return false, nil
}

// Request starts a sign-in request for session sessionHash of u and
// notifies u's phones. It replaces u's pending request; at most five per
// 15 minutes (ErrTooManyApprovals).
func (a *Approvals) Request(ctx context.Context, u *model.User, sessionHash []byte, c Context) (*model.Approval, error) {
	devices, err := a.phones.Devices(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	active := activeDevices(devices)
	if len(active) == 0 {
		return nil, ErrNoPhone
	}
	id, err := newApprovalID()
	if err != nil {
		return nil, err
	}
	number, err := drawNumber(a.digits)
	if err != nil {
		return nil, err
	}
	now := a.now()
	// The pending request this one cancels: its waiting page is woken
	// below (a cancellation is no answer, so nothing else wakes it).
	old, err := a.store.PendingApproval(ctx, u.ID, now)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return nil, fmt.Errorf("core: pending request: %w", err)
	}
	ap := &model.Approval{ID: id, UserID: u.ID, SessionHash: sessionHash, Number: number,
		ExpiresAt: now.Add(a.timeout), Site: c.Site, RemoteIP: c.RemoteIP, UserAgent: c.UserAgent}
	var row model.AuditEvent
	limited := false
	err = a.store.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		limited, row, err = a.requestIn(ctx, tx, u, ap, c, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("core: sign-in request: %w", err)
	}
	if limited {
		return nil, ErrTooManyApprovals
	}
	a.audit.Logged(row)
	if old != nil {
		a.events.Publish(ctx, Event{Kind: EventApproval, ID: old.ID})
	}
	a.notify(ap, active)
	return ap, nil
}

func activeDevices(ds []model.Device) []model.Device {
	var out []model.Device
	for _, d := range ds {
		if d.Active {
			out = append(out, d)
		}
	}
	return out
}

// drawNumber draws a number of exactly digits digits, uniformly from
// [10^(digits-1), 10^digits), so none starts with a zero.
func drawNumber(digits int) (int, error) {
	if digits < MinNumberDigits || digits > MaxNumberDigits {
		return 0, fmt.Errorf("core: %d-digit numbers: want %d to %d digits", digits, MinNumberDigits, MaxNumberDigits)
	}
	low := int64(1)
	for range digits - 1 {
		low *= 10
	}
	n, err := rand.Int(rand.Reader, big.NewInt(9*low))
	if err != nil {
		return 0, fmt.Errorf("core: draw a number: %w", err)
	}
	return int(low + n.Int64()), nil
}

func newApprovalID() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// PushPayload is what a notification carries: the request id and a short
// text, never the number.
type PushPayload struct {
	Request string `json:"request"`
	Text    string `json:"text"`
}

// notify queues a message to every phone with a live subscription;
// sending never blocks the sign-in. The messages are the user's (one is
// sent at a time) and are dropped unsent once the request is no longer
// pending.
func (a *Approvals) notify(ap *model.Approval, devices []model.Device) {
	if a.sender == nil {
		return
	}
	payload, _ := json.Marshal(PushPayload{Request: ap.ID, Text: "Sign-in request for " + ap.Site})
	owner := strconv.FormatInt(ap.UserID, 10)
	wanted := a.stillPending(ap.ID)
	for i := range devices {
		if sub := a.phones.subscription(&devices[i]); sub != nil {
			a.sender.Send(push.Message{Subscription: *sub, Payload: payload, Urgency: push.UrgencyHigh,
				Owner: owner, Wanted: wanted})
		}
	}
}

// stillPending returns the check the sender makes right before sending a
// notification of request id: one lookup by primary key, and none once
// the request was seen answered, replaced (cancelled) or expired. When
// the store cannot say, the notification is sent.
func (a *Approvals) stillPending(id string) func(context.Context) bool {
	var over atomic.Bool
	return func(ctx context.Context) bool {
		if over.Load() {
			return false
		}
		ap, err := a.store.ApprovalByID(ctx, id)
		switch {
		case errors.Is(err, model.ErrNotFound):
		case err != nil:
			return true
		case ap.Status == model.ApprovalPending && a.now().Before(ap.ExpiresAt):
			return true
		}
		over.Store(true)
		return false
	}
}

// ForSession returns the newest request of a session (nil when none).
func (a *Approvals) ForSession(ctx context.Context, sessionHash []byte) (*model.Approval, error) {
	ap, err := a.store.ApprovalForSession(ctx, sessionHash)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: sign-in request: %w", err)
	}
	return ap, nil
}

// Pending returns the request a phone of the user should show now (nil
// when none).
func (a *Approvals) Pending(ctx context.Context, d *model.Device) (*model.Approval, error) {
	ap, err := a.store.PendingApproval(ctx, d.UserID, a.now())
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: pending request: %w", err)
	}
	return ap, nil
}

// Answer records device d's decision on request id. An approval counts
// only with the number the sign-in screen shows; a wrong number voids the
// request and counts as a failed attempt against the account and the
// sign-in's address (not the phone's); a number of another length is
// refused (*NumberFormatError). Report blocks the account.
func (a *Approvals) Answer(ctx context.Context, d *model.Device, id, decision, number string) (model.ApprovalStatus, error) {
	ap, err := a.store.ApprovalByID(ctx, id)
	if errors.Is(err, model.ErrNotFound) || (err == nil && ap.UserID != d.UserID) {
		return "", ErrApprovalGone
	}
	if err != nil {
		return "", fmt.Errorf("core: sign-in request: %w", err)
	}
	status, err := decide(ap, decision, number)
	if err != nil {
		return "", err
	}
	answered, rows, err := a.answer(ctx, id, d, status)
	if errors.Is(err, model.ErrConflict) || errors.Is(err, model.ErrNotFound) {
		return "", ErrApprovalGone
	}
	if err != nil {
		return "", fmt.Errorf("core: answer: %w", err)
	}
	a.afterAnswer(ctx, answered, rows)
	return status, nil
}

// requestIn stores ap in tx unless u made approvalsPerWindow requests in
// the last approvalWindow (the fatigue limit, counted under u's lock:
// then limited, with the refusal's sign-in log row written instead), and
// writes its audit row, returned as stored.
func (a *Approvals) requestIn(ctx context.Context, tx store.Tx, u *model.User, ap *model.Approval, c Context, now time.Time) (limited bool, row model.AuditEvent, err error) {
	if _, err := tx.LockUser(ctx, u.ID); err != nil {
		return false, row, err
	}
	n, err := tx.CountApprovalsSince(ctx, u.ID, now.Add(-approvalWindow))
	if err != nil {
		return false, row, err
	}
	if n >= approvalsPerWindow {
		e := a.signins.clean(model.SignIn{UserID: u.ID, Username: u.Username, Site: c.Site, RemoteIP: c.RemoteIP,
			UserAgent: c.UserAgent, Client: model.ClientBrowser, FirstFactor: "password", SecondFactor: factorNotification,
			Result: model.SignInFailure, Reason: ReasonTooManyRequests.Log()})
		return true, row, tx.AppendSignIn(ctx, &e)
	}
	if err := tx.AddApproval(ctx, ap); err != nil {
		return false, row, err
	}
	row, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.PushRequested, RemoteIP: c.RemoteIP, Detail: c.Site})
	return false, row, err
}

// answer records the answer in one transaction with its rule (a report
// blocks the user and ends their sessions: blockOnReport), a wrong
// number's failure slot (like a wrong code's, never given back), and the
// answer's audit row and, for an answer that ends the sign-in, its
// sign-in log row. It returns the request as answered and its audit row
// as stored.
func (a *Approvals) answer(ctx context.Context, id string, d *model.Device, status model.ApprovalStatus) (*model.Approval, []model.AuditEvent, error) {
	var answered *model.Approval
	var rows []model.AuditEvent
	err := a.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if answered, err = tx.AnswerApproval(ctx, id, d.UserID, d.ID, status, a.now()); err != nil {
			return err
		}
		if err := blockOnReport(ctx, tx, answered); err != nil {
			return err
		}
		rows, err = a.answerRowsIn(ctx, tx, answered, d)
		return err
	})
	return answered, rows, err
}

// answerRowsIn counts a wrong number as a failure of the account and the
// sign-in's address, and as one of the account's consecutive failed
// sign-ins (blocking it at the cap: capFailedSignIns), and writes the
// answer's rows, in tx. It returns the audit rows as stored: the
// answer's, then the block's if it applied one.
func (a *Approvals) answerRowsIn(ctx context.Context, tx store.Tx, ap *model.Approval, d *model.Device) ([]model.AuditEvent, error) {
	u, err := tx.LockUser(ctx, ap.UserID)
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("device %q; sign-in from %s, %s", d.Name, ap.RemoteIP, ap.UserAgent)
	ev := model.AuditEvent{UserID: u.ID, Username: u.Username, RemoteIP: ap.RemoteIP, Detail: detail, Event: answerEvents[ap.Status]}
	var blocked *model.AuditEvent
	if ap.Status == model.ApprovalWrongNumber {
		l := a.attempts.Limiter
		if _, _, err := l.ClaimIn(ctx, tx, bruteforce.Account(u.Username), ap.RemoteIP); err != nil {
			return nil, err
		}
	}
	if ev, err = auditIn(ctx, tx, ev); err != nil {
		return nil, err
	}
	if ap.Status == model.ApprovalWrongNumber {
		l := a.attempts.Limiter
		if blocked, err = capFailedSignIns(ctx, tx, u.ID, ap.RemoteIP, l.ConsecutiveLimit(), l.Now()); err != nil {
			return nil, err
		}
	}
	if reason, failed := failedAnswers[ap.Status]; failed {
		row := a.signins.clean(model.SignIn{UserID: u.ID, Username: u.Username, Site: ap.Site, RemoteIP: ap.RemoteIP,
			UserAgent: ap.UserAgent, Client: model.ClientBrowser, FirstFactor: "password", SecondFactor: factorNotification,
			Result: model.SignInFailure, Reason: reason.Log()})
		if err := tx.AppendSignIn(ctx, &row); err != nil {
			return nil, err
		}
	}
	if blocked != nil {
		return []model.AuditEvent{ev, *blocked}, nil
	}
	return []model.AuditEvent{ev}, nil
}

// answerEvents are the audit events of the answers.
var answerEvents = map[model.ApprovalStatus]string{
	model.ApprovalApproved:    audit.PushApproved,
	model.ApprovalDenied:      audit.PushDenied,
	model.ApprovalWrongNumber: audit.PushWrongNumber,
	model.ApprovalReported:    audit.PushReported,
}

// decide maps a phone's decision to a status. The typed number is
// compared as text without the spaces that group its digits ("123 456");
// one that is not the request's Digits digits is refused
// (*NumberFormatError) before anything counts.
func decide(ap *model.Approval, decision, number string) (model.ApprovalStatus, error) {
	switch decision {
	case DecisionApprove:
		number = UngroupNumber(number)
		if len(number) != ap.Digits() || strings.Trim(number, "0123456789") != "" {
			return "", &NumberFormatError{Digits: ap.Digits()}
		}
		if number == strconv.Itoa(ap.Number) {
			return model.ApprovalApproved, nil
		}
		return model.ApprovalWrongNumber, nil
	case DecisionDeny:
		return model.ApprovalDenied, nil
	case DecisionReport:
		return model.ApprovalReported, nil
	}
	return "", fmt.Errorf("%w: unknown decision", ErrBadDeviceCall)
}

// UngroupNumber removes the spaces a typed number may keep from the
// grouping the sign-in screen shows ("123 456" → "123456").
func UngroupNumber(typed string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, typed)
}

// afterAnswer logs an answer's audit rows, stored with it, and wakes the
// waiting browser (on any node); a block (a report's, or a wrong number's
// at the cap on consecutive failures) drops the user's cached sessions
// everywhere.
func (a *Approvals) afterAnswer(ctx context.Context, ap *model.Approval, rows []model.AuditEvent) {
	for _, row := range rows {
		a.audit.Logged(row)
	}
	if ap.Status == model.ApprovalReported || len(rows) > 1 { // blocked: by the report, or at the cap
		a.events.Publish(ctx, Event{Kind: EventUser, UserID: ap.UserID})
	}
	a.events.Publish(ctx, Event{Kind: EventApproval, ID: ap.ID})
}

// failedAnswers are the answers that end a sign-in, with their reason.
var failedAnswers = map[model.ApprovalStatus]Reason{
	model.ApprovalDenied:      ReasonDenied,
	model.ApprovalReported:    ReasonReported,
	model.ApprovalWrongNumber: ReasonWrongNumber,
}

// Complete consumes the approved request id of the session oldHash and
// replaces the session by next, in one transaction: only the browser that
// asked is signed in, on whichever node it polls. ErrApprovalGone when the
// request is not approved for this session; model.ErrNotFound when the
// session was ended meanwhile.
func (a *Approvals) Complete(ctx context.Context, id string, oldHash []byte, next *model.Session) error {
	err := a.store.ConsumeApproval(ctx, id, oldHash, next)
	if errors.Is(err, model.ErrConflict) {
		return ErrApprovalGone
	}
	if err != nil {
		return fmt.Errorf("core: complete sign-in request: %w", err)
	}
	return nil
}

// Wait returns when request id may have changed (answered here or on
// another node), after d, or when ctx ends.
func (a *Approvals) Wait(ctx context.Context, id string, d time.Duration) {
	a.events.WaitApproval(ctx, id, d)
}

// Sweep deletes requests older than a day and expired nonces and
// pairings.
func (a *Approvals) Sweep(ctx context.Context) error {
	now := a.now()
	if _, err := a.store.DeleteStaleApprovals(ctx, now.Add(-approvalsKept), now); err != nil {
		return fmt.Errorf("core: sweep requests: %w", err)
	}
	return nil
}

// Expire records that ap, seen expired by its waiting page, was not
// answered in time; the sign-in log gets one row however often the page
// looks.
func (a *Approvals) Expire(ctx context.Context, ap *model.Approval) error {
	if !ap.Expired(a.now()) {
		return nil
	}
	u, err := a.store.UserByID(ctx, ap.UserID)
	if err != nil {
		u = &model.User{ID: ap.UserID} // gone: the row keeps the ID
	}
	row := a.signins.clean(model.SignIn{UserID: u.ID, Username: u.Username, Site: ap.Site, RemoteIP: ap.RemoteIP,
		UserAgent: ap.UserAgent, Client: model.ClientBrowser, FirstFactor: "password", SecondFactor: factorNotification,
		Result: model.SignInFailure, Reason: ReasonExpired.Log()})
	// The expiry and its one sign-in log row commit together: of two pages
	// that see it at once, one records both.
	err = a.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		done, err := tx.ExpireApproval(ctx, ap.ID, a.now())
		if err != nil || !done {
			return err
		}
		e := row
		return tx.AppendSignIn(ctx, &e)
	})
	if err != nil {
		return fmt.Errorf("core: expire request: %w", err)
	}
	return nil
}
