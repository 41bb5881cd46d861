package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
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

// Listen holds one connection of the pool, LISTENs on the event channel
// and delivers each payload until ctx ends or the connection fails. The
// connection is then discarded (it carries the LISTEN).
func (s *Store) Listen(ctx context.Context, deliver func(payload string)) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+eventChannel); err != nil {
			return errors.Join(err, driver.ErrBadConn)
		}
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// Never hand a listening connection back to the pool.
				return errors.Join(err, driver.ErrBadConn)
			}
			deliver(n.Payload)
		}
	})
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("postgres: listen: %w", err)
}
