package signin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// longPoll bounds one wait of the approval page's script: short enough
// for proxies, long enough that waiting browsers cost next to nothing.
const longPoll = 25 * time.Second

// expiryMargin is added to a long-poll that ends when its request expires,
// so the status read next is past the expiry.
const expiryMargin = 50 * time.Millisecond

// showApproval shows the session's sign-in request, starting one on the
// first visit, and completes the sign-in once it is approved. It is a GET
// so that the page's self-refresh (no JavaScript) and "I approved it on
// my phone" finish
// the sign-in: only this session's approved request can complete it.
func (p *Portal) showApproval(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil {
		return
	}
	ap, err := p.Core.Approvals.ForSession(r.Context(), cur.IDHash())
	if err != nil {
		p.page.InternalError(w, r, "loading sign-in request", err)
		return
	}
	if ap == nil {
		p.requestApproval(w, r, cur)
		return
	}
	if ap.Status == model.ApprovalApproved {
		p.completeApproval(w, r, cur, ap)
		return
	}
	p.renderApproval(w, r, cur, ap, "")
}

// newApproval sends another request ("Send another request", or the
// switch from the code page).
func (p *Portal) newApproval(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil {
		return
	}
	p.requestApproval(w, r, cur)
}

func (p *Portal) requestApproval(w http.ResponseWriter, r *http.Request, cur *session.Current) {
	ap, err := p.Core.Approvals.Request(r.Context(), &cur.User, cur.IDHash(), core.Context{
		Site: web.SiteLabel(p.cfg.SiteName, r), RemoteIP: p.ClientIP(r), UserAgent: cur.Session.UserAgent,
	})
	switch {
	case errors.Is(err, core.ErrTooManyApprovals):
		p.renderApproval(w, r, cur, nil, web.MsgTooManyApprovals)
		return
	case errors.Is(err, core.ErrNoPhone):
		p.redirect(w, r, p.cfg.Prefix+"verify")
		return
	case err != nil:
		p.page.InternalError(w, r, "starting sign-in request", err)
		return
	}
	if r.Method == http.MethodPost {
		p.redirect(w, r, p.cfg.Prefix+"push")
		return
	}
	p.renderApproval(w, r, cur, ap, "")
}

func (p *Portal) renderApproval(w http.ResponseWriter, r *http.Request, cur *session.Current, ap *model.Approval, problem string) {
	page := loginui.ApprovalWaitPage{Common: p.common("Approve sign-in request", cur), Problem: problem}
	if ap != nil {
		page = web.ApprovalWait(page, ap, p.now())
		if ap.Expired(p.now()) {
			if err := p.Core.Approvals.Expire(r.Context(), ap); err != nil {
				p.Logger.Warn("recording an expired sign-in request", zapErr(err))
			}
		}
	}
	auths, err := p.Core.Methods.Authenticators(r.Context(), cur.User.ID)
	if err != nil {
		p.page.InternalError(w, r, "listing authenticators", err)
		return
	}
	// A reported request blocked the account: no other way on.
	page.CanUseCode = len(auths) > 0 && (ap == nil || ap.Status != model.ApprovalReported)
	if ap == nil || ap.Status != model.ApprovalReported {
		if page.OtherWays, err = p.otherWays(r, cur); err != nil {
			p.page.InternalError(w, r, "listing the other ways to sign in", err)
			return
		}
	}
	p.UI.Render(w, http.StatusOK, page)
}

// completeApproval completes the sign-in with the approved request ap of
// this session (consumed in the same transaction).
func (p *Portal) completeApproval(w http.ResponseWriter, r *http.Request, cur *session.Current, ap *model.Approval) {
	rot := p.prepare(w, r, cur)
	if rot == nil {
		return
	}
	pr, err := p.Core.SignIn.Phone(r.Context(), core.PhoneInput{RequestID: ap.ID, Pending: pending(cur),
		Client: p.client(r), Rotation: rot.Rotation})
	if err != nil {
		p.page.InternalError(w, r, "completing sign-in", err)
		return
	}
	p.advance(w, r, pr, rot)
}

// waitApproval answers the page's long-poll: the request's status once it
// is no longer pending, or "pending" after longPoll. With while=denied (a
// denied request's page) it waits the same way for a report that may
// follow the denial. While it waits it costs no database queries: an
// answer on any node wakes it.
func (p *Portal) waitApproval(w http.ResponseWriter, r *http.Request) {
	// A complete session waits too: a re-verification's request.
	cur, err := p.Sessions.Load(r)
	if err != nil || cur == nil {
		writeStatus(w, "done")
		return
	}
	id := r.URL.Query().Get("id")
	while := string(model.ApprovalPending)
	if r.URL.Query().Get("while") == string(model.ApprovalDenied) {
		while = string(model.ApprovalDenied)
	}
	status, expires, err := p.approvalStatus(r, cur, id)
	if err == nil && status == while {
		wait := longPoll
		// Expiry sends no event: wake up when a pending request expires,
		// so the page says so then, not at the end of the long-poll.
		if left := expires.Sub(p.now()); status == string(model.ApprovalPending) && left < wait {
			wait = max(left, 0) + expiryMargin
		}
		ctx, cancel := context.WithCancel(r.Context())
		stopWaiting := context.AfterFunc(p.stopping, cancel)
		p.Core.Approvals.Wait(ctx, id, wait)
		stopWaiting()
		cancel()
		if r.Context().Err() != nil {
			return
		}
		status, _, err = p.approvalStatus(r, cur, id)
	}
	if err != nil {
		p.Logger.Warn("reading sign-in request", zapErr(err))
		status = "error"
	}
	writeStatus(w, status)
}

// approvalStatus is the status of request id if it is the session's
// newest, else "replaced"; an expired request reads "expired". It also
// returns when the request expires.
func (p *Portal) approvalStatus(r *http.Request, cur *session.Current, id string) (string, time.Time, error) {
	ap, err := p.Core.Approvals.ForSession(r.Context(), cur.IDHash())
	if err != nil {
		return "", time.Time{}, err
	}
	switch {
	case ap == nil || ap.ID != id:
		return "replaced", time.Time{}, nil
	case ap.Expired(p.now()):
		return "expired", ap.ExpiresAt, nil
	}
	return string(ap.Status), ap.ExpiresAt, nil
}

// writeStatus answers the long-poll. A report blocks the account and ends
// its sessions, this one too, so the page cannot load the explanation
// after it: the answer carries it ("message"), for the page to show.
func writeStatus(w http.ResponseWriter, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	body := map[string]string{"status": status}
	if status == string(model.ApprovalReported) {
		body["message"] = web.ApprovalProblem(model.ApprovalReported)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// showReported tells a browser whose session has ended why, when its
// sign-in request was reported as fraud: the report blocked the account
// and ended its sessions, this one's too, so without it the waiting page
// (refreshing itself, without JavaScript), "Send another request" or "Use
// a verification code instead" would just land on an empty login form.
func (p *Portal) showReported(w http.ResponseWriter, r *http.Request) bool {
	hash, ok := p.Sessions.CookieHash(r)
	if !ok {
		return false
	}
	ap, err := p.Core.Approvals.ForSession(r.Context(), hash)
	if err != nil || ap == nil || ap.Status != model.ApprovalReported {
		return false
	}
	// Once an admin has unblocked the account, an old cookie just signs
	// in again.
	if u, err := p.Core.Accounts.ByID(r.Context(), ap.UserID); err != nil || u.BlockedAt.IsZero() {
		return false
	}
	p.page.Message(w, http.StatusOK, "Sign-in blocked", web.ApprovalProblem(model.ApprovalReported))
	return true
}
