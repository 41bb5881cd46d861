package core

import (
	"context"
	"fmt"

	"github.com/mfagate/mfagate/internal/model"
)

// Core is the domain core one configuration's pages share: the only way
// they read or change accounts, methods and app passwords.
type Core struct {
	Attempts     *Attempts
	Methods      *Methods
	AppPasswords *AppPasswords
	Accounts     *Accounts
}

// Authenticators lists u's authenticator apps, oldest first.
func (m *Methods) Authenticators(ctx context.Context, userID int64) ([]model.TOTPAuthenticator, error) {
	auths, err := m.Store.TOTPAuthenticators(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("core: authenticators: %w", err)
	}
	return auths, nil
}

// List lists u's app passwords, oldest first.
func (a *AppPasswords) List(ctx context.Context, userID int64) ([]model.AppPassword, error) {
	aps, err := a.Store.AppPasswords(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("core: app passwords: %w", err)
	}
	return aps, nil
}

// ByID returns the account as stored now (model.ErrNotFound when gone).
func (s *Accounts) ByID(ctx context.Context, id int64) (*model.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("core: user: %w", err)
	}
	return u, nil
}

// Completed records a completed sign-in of account: only that clears its
// failure counter.
func (a *Attempts) Completed(ctx context.Context, account string) error {
	return a.Limiter.Succeeded(ctx, account)
}
