package signin

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
)

// The pages translate HTTP to the core's sign-in transitions
// (core.SignIn) and back: each form becomes one call with what was typed,
// the client and the pending session; its outcome says which page comes
// next, or why it was refused (answered with the page's own words).

// client is the request's sender as the transitions record it.
func (p *Portal) client(r *http.Request) core.Client {
	return core.Client{IP: p.ClientIP(r), UserAgent: r.UserAgent(), Site: web.SiteLabel(p.cfg.SiteName, r)}
}

// pending is the session a transition continues.
func pending(cur *session.Current) core.Pending {
	return core.Pending{Session: cur.Session, User: cur.User}
}

// pageFor is the page of a sign-in at state s (rd: where a complete one
// goes).
func (p *Portal) pageFor(s core.State, rd string) string {
	switch s {
	case core.StateEnrol:
		return p.cfg.Prefix + "enrol"
	case core.StateCode:
		return p.cfg.Prefix + "verify"
	case core.StatePhone:
		return p.cfg.Prefix + "push"
	case core.StatePasskey:
		return p.cfg.Prefix + "passkey"
	case core.StateNewPassword:
		return p.cfg.Prefix + "password/new"
	case core.StateRecoveryCode:
		return p.cfg.Prefix + "recovery"
	case core.StateComplete:
		return orRoot(rd)
	case core.StateAccessPass:
		return p.cfg.Prefix + "security"
	}
	return p.cfg.Prefix + "login"
}

// advance hands the browser the session the transition stored (if it
// stored one) and sends it to the page of the sign-in's new state.
func (p *Portal) advance(w http.ResponseWriter, r *http.Request, pr core.Progress, rot *session.Rotation) {
	if pr.Rotated {
		if err := p.Sessions.Commit(w, r, rot); err != nil {
			p.page.InternalError(w, r, "setting the session cookie", err)
			return
		}
	}
	if pr.State == core.StateComplete {
		p.redirect(w, r, p.completeTarget(r, pr))
		return
	}
	p.redirect(w, r, p.pageFor(pr.State, pr.RedirectTo))
}

// startOver makes the new session identity of a sign-in that starts
// from the login form (the password, a passkey alone, an access pass),
// replacing whatever session the browser has.
func (p *Portal) startOver(w http.ResponseWriter, r *http.Request) *session.Rotation {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return nil
	}
	return p.prepare(w, r, cur)
}

// prepare makes the new session identity a transition of cur stores.
func (p *Portal) prepare(w http.ResponseWriter, r *http.Request, cur *session.Current) *session.Rotation {
	rot, err := p.Sessions.Prepare(r, cur)
	if err != nil {
		p.page.InternalError(w, r, "preparing the session", err)
		return nil
	}
	return rot
}
