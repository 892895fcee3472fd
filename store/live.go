package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The live state that idv instances sharing one PostgreSQL show each other (the cluster
// package): each instance's part in live_parts, and NOTIFY to tell the others. These
// methods need PostgreSQL; on SQLite, which has no NOTIFY and is never shared, they
// return ErrNotPostgres.

// ErrNotPostgres is returned by the methods that need PostgreSQL on any other database.
var ErrNotPostgres = errors.New("needs PostgreSQL (the store is not shared between instances)")

// LivePart is one instance's part of the live state, as that instance wrote it.
type LivePart struct {
	Instance string
	JSON     []byte
	Updated  time.Time
}

func (s *Store) needPostgres(what string) error {
	if s.dialect != Postgres {
		return fmt.Errorf("store %s: %w", what, ErrNotPostgres)
	}
	return nil
}

// PublishLivePart writes the instance's part (JSON), then sends NOTIFY on channel with
// the instance's name as payload, in one transaction: a listener is told only once the
// part it will read is committed.
func (s *Store) PublishLivePart(ctx context.Context, channel, instance string, part []byte) error {
	return s.changeLivePart(ctx, "live part", channel, instance, `INSERT INTO live_parts (instance, part, updated_at)
		VALUES ($1, $2, $3) ON CONFLICT (instance) DO UPDATE SET part = excluded.part, updated_at = excluded.updated_at`,
		instance, string(part), time.Now().UnixMilli())
}

// WithdrawLivePart deletes the instance's part, then sends NOTIFY on channel with the
// instance's name as payload, in one transaction.
func (s *Store) WithdrawLivePart(ctx context.Context, channel, instance string) error {
	return s.changeLivePart(ctx, "withdraw live part", channel, instance, `DELETE FROM live_parts WHERE instance = $1`, instance)
}

// changeLivePart runs change (a write to the instance's row of live_parts, with args),
// then NOTIFY on channel with the instance's name as payload, in one transaction. what
// names the operation in errors.
func (s *Store) changeLivePart(ctx context.Context, what, channel, instance, change string, args ...any) error {
	if err := s.needPostgres(what + " " + instance); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store %s %s: %w", what, instance, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, change, args...); err != nil {
		return fmt.Errorf("store %s %s: %w", what, instance, err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, instance); err != nil {
		return fmt.Errorf("store %s %s: notify %s: %w", what, instance, channel, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store %s %s: %w", what, instance, err)
	}
	return nil
}

// LiveParts reads the parts written after since by every instance other than except (the
// caller's own), in order of instance name.
func (s *Store) LiveParts(ctx context.Context, except string, since time.Time) ([]LivePart, error) {
	if err := s.needPostgres("live parts"); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT instance, part, updated_at FROM live_parts
		WHERE instance <> $1 AND updated_at > $2 ORDER BY instance`, except, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store live parts: %w", err)
	}
	defer rows.Close()
	var out []LivePart
	for rows.Next() {
		var p LivePart
		var text string
		var updated int64
		if err := rows.Scan(&p.Instance, &text, &updated); err != nil {
			return nil, fmt.Errorf("store live parts: %w", err)
		}
		p.JSON, p.Updated = []byte(text), time.UnixMilli(updated)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store live parts: %w", err)
	}
	return out, nil
}

// Notify sends NOTIFY on channel with payload (at most 8,000 bytes, PostgreSQL's limit).
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if err := s.needPostgres("notify " + channel); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("store notify %s: %w", channel, err)
	}
	return nil
}
