package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Retention says how long the store keeps what it keeps.
type Retention struct {
	// Records is how long interactions and their events are kept; 0 keeps them for ever.
	Records time.Duration
	// Guard is how long the security counters are kept: the longest of their windows
	// (older ones count for nothing). 0 keeps them for ever.
	Guard time.Duration
}

// Pruned counts what a Prune deleted.
type Pruned struct {
	Interactions, Events, GuardEvents, VerifyAttempts int64
}

// pruneBatch bounds the interactions deleted in one transaction, so that pruning months
// of records at once never holds SQLite's one writer long enough to delay the calls'
// records behind it (store.record_timeout).
const pruneBatch = 500

// Prune deletes what is older than the retention at now: interactions with their events,
// oldest first, and the security counters. Deleting is idempotent, so that instances
// sharing PostgreSQL may all prune.
func (s *Store) Prune(ctx context.Context, r Retention, now time.Time) (Pruned, error) {
	var p Pruned
	if r.Guard > 0 {
		cut := now.Add(-r.Guard).UnixMilli()
		for _, t := range []struct {
			q string
			n *int64
		}{
			{`DELETE FROM guard_events WHERE at < ?`, &p.GuardEvents},
			{`DELETE FROM verify_attempts WHERE at < ?`, &p.VerifyAttempts},
		} {
			res, err := s.db.ExecContext(ctx, s.bind(t.q), cut)
			if err != nil {
				return p, fmt.Errorf("store prune: %w", err)
			}
			*t.n, _ = res.RowsAffected()
		}
	}
	if r.Records <= 0 {
		return p, nil
	}
	cut := now.Add(-r.Records).UnixMilli()
	for {
		var upto sql.NullInt64
		err := s.db.QueryRowContext(ctx, s.bind(`SELECT MAX(started_at) FROM
			(SELECT started_at FROM interactions WHERE started_at < ? ORDER BY started_at LIMIT ?) b`), cut, pruneBatch).Scan(&upto)
		if err != nil {
			return p, fmt.Errorf("store prune: %w", err)
		}
		if !upto.Valid {
			return p, nil
		}
		if err := s.pruneUpTo(ctx, upto.Int64, &p); err != nil {
			return p, fmt.Errorf("store prune before %s: %w", time.UnixMilli(upto.Int64+1).UTC().Format(time.RFC3339), err)
		}
	}
}

// pruneUpTo deletes the interactions started up to upto (unix ms) and their events, in
// one transaction. Events carry their interaction's start, so both deletions follow an
// index; the foreign key's cascade would catch any other.
func (s *Store) pruneUpTo(ctx context.Context, upto int64, p *Pruned) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.bind(`DELETE FROM events WHERE started_at <= ?`), upto)
	if err != nil {
		return err
	}
	events, _ := res.RowsAffected()
	if res, err = tx.ExecContext(ctx, s.bind(`DELETE FROM interactions WHERE started_at <= ?`), upto); err != nil {
		return err
	}
	interactions, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return err
	}
	p.Events += events
	p.Interactions += interactions
	return nil
}

// PruneDaily prunes at once, then every 24 hours, until ctx ends. policy gives the
// retention in force at each run (a reload may change the security windows); done hears
// what each run did.
func (s *Store) PruneDaily(ctx context.Context, policy func() Retention, done func(Pruned, error)) {
	tick := time.NewTicker(24 * time.Hour)
	defer tick.Stop()
	for {
		p, err := s.Prune(ctx, policy(), time.Now())
		if ctx.Err() != nil {
			return
		}
		done(p, err)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
