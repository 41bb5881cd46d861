package core

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/countingstore"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// recordingSender keeps what would have been pushed.
type recordingSender struct {
	mu   sync.Mutex
	msgs []push.Message
}

func (s *recordingSender) Send(m push.Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return true
}

// approvalFixture is a core on a real SQLite store, whose writes are
// counted, with one user who has an active phone with a push
// subscription.
type approvalFixture struct {
	c       *Core
	st      store.Store
	counted *countingstore.Store
	sender  *recordingSender
	user    *model.User
	device  *model.Device
}

func newApprovalFixture(t *testing.T) *approvalFixture {
	t.Helper()
	return newApprovalFixtureDigits(t, 0)
}

// newApprovalFixtureDigits is newApprovalFixture whose requests show
// numbers of digits digits (0: the default).
func newApprovalFixtureDigits(t *testing.T, digits int) *approvalFixture {
	t.Helper()
	ctx := context.Background()
	counted := countingstore.New(teststore.Open(t))
	st := store.Store(counted)
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	sender := &recordingSender{}
	c, err := New(st, Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, Sender: sender,
		PushHosts: []string{"push.example"}, ApprovalNumberDigits: digits})
	if err != nil {
		t.Fatal(err)
	}
	u := &model.User{Username: "alice", MFAState: model.MFAEnforced}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sess := []byte("pairing-session-hash-0123456789ab")
	token, err := c.Phones.StartPairing(ctx, u, sess)
	if err != nil {
		t.Fatal(err)
	}
	d := &model.Device{Name: "Phone", PublicKey: []byte("key")}
	code := "123456"
	if err := st.RegisterDevice(ctx, token.hash(), d, c.Phones.codeHash(token.hash(), code), c.Phones.now(), model.MaxDevices, model.MaxPairingPhones); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Phones.Confirm(ctx, u, sess, code, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	sub := &push.Subscription{Endpoint: "https://push.example/sub/1",
		P256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
		Auth:   "tBHItJI5svbpez7KI4CCXg"}
	if err := c.Phones.SetPush(ctx, d, sub); err != nil {
		t.Fatal(err)
	}
	return &approvalFixture{c: c, st: st, counted: counted, sender: sender, user: u, device: d}
}

func (f *approvalFixture) request(t *testing.T, session string) *model.Approval {
	t.Helper()
	ap, err := f.c.Approvals.Request(context.Background(), f.user, []byte(session), Context{Site: "files.example.com", RemoteIP: "203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

func TestPushCarriesTheRequestButNeverTheNumber(t *testing.T) {
	f := newApprovalFixture(t)
	ap := f.request(t, "browser-a")
	f.sender.mu.Lock()
	defer f.sender.mu.Unlock()
	if len(f.sender.msgs) != 1 {
		t.Fatalf("%d messages sent, want 1", len(f.sender.msgs))
	}
	var p PushPayload
	if err := json.Unmarshal(f.sender.msgs[0].Payload, &p); err != nil || p.Request != ap.ID {
		t.Fatalf("payload %s does not name request %s (%v)", f.sender.msgs[0].Payload, ap.ID, err)
	}
	if strings.Contains(string(f.sender.msgs[0].Payload), strconv.Itoa(ap.Number)) {
		t.Errorf("payload %s contains the number %d", f.sender.msgs[0].Payload, ap.Number)
	}
}

func TestOnlyTheRightNumberApproves(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	ap := f.request(t, "browser-a")
	wrong := strconv.Itoa(10 + (ap.Number-10+1)%90)
	status, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionApprove, wrong)
	if err != nil || status != model.ApprovalWrongNumber {
		t.Fatalf("wrong number: %s, %v", status, err)
	}
	// Voided: the right number afterwards does not approve it.
	if _, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionApprove, strconv.Itoa(ap.Number)); !errors.Is(err, ErrApprovalGone) {
		t.Fatalf("right number after a wrong one: %v, want ErrApprovalGone", err)
	}
	// The wrong number counted against the account.
	fl, err := f.st.FailuresFor(ctx, "acct:alice")
	if err != nil || fl.Count != 1 {
		t.Errorf("account failures after a wrong number = %+v, %v; want 1", fl, err)
	}
	ap = f.request(t, "browser-a")
	if status, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionApprove, strconv.Itoa(ap.Number)); err != nil || status != model.ApprovalApproved {
		t.Fatalf("right number: %s, %v", status, err)
	}
	// Only the session that asked consumes it.
	next := &model.Session{IDHash: []byte("new-session-hash-0123456789abcdef"), UserID: f.user.ID, Stage: model.StageComplete}
	if err := f.c.Approvals.Complete(ctx, ap.ID, []byte("browser-b"), next); !errors.Is(err, ErrApprovalGone) {
		t.Errorf("another session consumed the approval: %v", err)
	}
}

func TestAtMostFiveRequestsIn15Minutes(t *testing.T) {
	f := newApprovalFixture(t)
	var last *model.Approval
	for range approvalsPerWindow {
		last = f.request(t, "browser-a")
	}
	_, err := f.c.Approvals.Request(context.Background(), f.user, []byte("browser-a"), Context{})
	if !errors.Is(err, ErrTooManyApprovals) {
		t.Fatalf("6th request: %v, want ErrTooManyApprovals", err)
	}
	// Only the newest stays pending.
	pending, err := f.c.Approvals.Pending(context.Background(), f.device)
	if err != nil || pending == nil || pending.ID != last.ID {
		t.Errorf("pending = %+v, %v; want the newest", pending, err)
	}
}

func TestReportBlocksTheAccount(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	ap := f.request(t, "browser-a")
	if _, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionDeny, ""); err != nil {
		t.Fatal(err)
	}
	// Report after Deny, from the same phone.
	if status, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionReport, ""); err != nil || status != model.ApprovalReported {
		t.Fatalf("report after deny: %s, %v", status, err)
	}
	u, err := f.st.UserByID(ctx, f.user.ID)
	if err != nil || u.BlockedAt.IsZero() {
		t.Fatalf("user not blocked after a report: %+v, %v", u, err)
	}
	if _, err := f.c.Accounts.Unblock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.st.UserByID(ctx, f.user.ID); !u.BlockedAt.IsZero() {
		t.Error("still blocked after Unblock")
	}
}

// An expired request is recorded once in the sign-in log, however often
// its page looks.
func TestExpiryIsLoggedOnce(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	ap := f.request(t, "browser-a")
	later := time.Now().Add(2 * DefaultApprovalTimeout)
	f.c.Approvals.now = func() time.Time { return later }
	stored, err := f.st.ApprovalByID(ctx, ap.ID)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := f.c.Approvals.Expire(ctx, stored); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := f.st.SignIns(ctx, model.SignInFilter{UserID: f.user.ID})
	if err != nil || len(rows) != 1 || rows[0].Reason != "expired" || rows[0].SecondFactor != "notification" {
		t.Fatalf("sign-in log after expiry = %+v, %v", rows, err)
	}
	if got, _ := f.st.ApprovalByID(ctx, ap.ID); got.Status != model.ApprovalExpired {
		t.Errorf("status = %s, want expired", got.Status)
	}
	if _, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionApprove, strconv.Itoa(ap.Number)); !errors.Is(err, ErrApprovalGone) {
		t.Errorf("answering an expired request: %v", err)
	}
}

// Every answer that ends a sign-in is in the sign-in log with its reason,
// the sign-in's address and agent (not the phone's).
func TestPhoneAnswersAreLogged(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	answer := func(decision, number string) {
		t.Helper()
		ap := f.request(t, "browser-a")
		switch number {
		case "right":
			number = strconv.Itoa(ap.Number)
		case "wrong":
			number = strconv.Itoa(10 + (ap.Number-10+1)%90)
		}
		if _, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, decision, number); err != nil {
			t.Fatal(err)
		}
	}
	answer(DecisionApprove, "wrong")
	answer(DecisionDeny, "")
	answer(DecisionApprove, "right") // not a failure: the page logs the completed sign-in
	answer(DecisionReport, "")
	rows, err := f.st.SignIns(ctx, model.SignInFilter{UserID: f.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, r := range rows {
		if r.Result != model.SignInFailure || r.SecondFactor != "notification" || r.RemoteIP != "203.0.113.7" || r.Site != "files.example.com" {
			t.Errorf("row = %+v", r)
		}
		reasons = append(reasons, r.Reason)
	}
	if got := strings.Join(reasons, ","); got != "reported,denied,wrong number" {
		t.Errorf("reasons (newest first) = %s, want reported,denied,wrong number", got)
	}
}
