package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// eventChannel is the LISTEN/NOTIFY channel the nodes sharing a database
// tell each other about changes on (core.Channel).
const eventChannel = "mfagate_events"

// Notify sends payload to every node listening, this one included.
func (s *Store) Notify(ctx context.Context, payload string) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", eventChannel, payload); err != nil {
		return fmt.Errorf("postgres: notify: %w", err)
	}
	return nil
}

// Listen opens one connection of its own (outside the pool, so
// max_conns stays what queries get), LISTENs on the event channel and
// delivers each payload until ctx ends or the connection fails.
func (s *Store) Listen(ctx context.Context, deliver func(payload string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.listenConfig)
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+eventChannel); err != nil {
		return listenErr(ctx, err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return listenErr(ctx, err)
		}
		deliver(n.Payload)
	}
}

// listenErr is nil when ctx ended (the caller stopped listening).
func listenErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("postgres: listen: %w", err)
}
