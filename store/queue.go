package store

import (
	"context"
	"fmt"

	"github.com/idv-project/idv/flow"
)

// observerSeq is where the sequence numbers of the ARI observer's events start, apart
// from the flow's own (which count from 0), so that neither writer shifts the other.
const observerSeq = 10000

// QueueOutcome implements the ARI observer's Sink: it records the agent, wait and talk time and
// the queue result on the interaction, and the queue steps (o.Events) as its events. The result
// is the last step's, as flow.Interaction.QueueResult reads it back from the events.
func (s *Store) QueueOutcome(ctx context.Context, id string, o flow.QueueOutcome) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store queue outcome %s: %w", id, err)
	}
	defer tx.Rollback()
	var line string
	var started int64
	if err := tx.QueryRowContext(ctx, s.bind(`SELECT line, started_at FROM interactions WHERE id = ?`), id).Scan(&line, &started); err != nil {
		return fmt.Errorf("store queue outcome %s: %w", id, err)
	}
	var talk any
	if !o.Answered.IsZero() {
		talk = o.Talk().Milliseconds()
	}
	if _, err := tx.ExecContext(ctx, s.bind(`UPDATE interactions SET agent = ?, wait_ms = ?, talk_ms = ?, queue_result = ? WHERE id = ?`),
		o.Agent, o.Wait().Milliseconds(), talk, o.Result, id); err != nil {
		return fmt.Errorf("store queue outcome %s: %w", id, err)
	}
	var next int
	if err := tx.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM events WHERE interaction_id = ? AND seq >= ?`), id, observerSeq).Scan(&next); err != nil {
		return fmt.Errorf("store queue outcome %s: %w", id, err)
	}
	for i, ev := range o.Events() {
		if _, err := tx.ExecContext(ctx, s.bind(`INSERT INTO events (interaction_id, seq, at, kind, name, result, count, latency_us, detail, line, started_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), id, observerSeq+next+i, ev.At.UnixMilli(), ev.Kind, ev.Name, ev.Result,
			ev.Count, ev.Latency.Microseconds(), ev.Detail, line, started); err != nil {
			return fmt.Errorf("store queue outcome %s: %w", id, err)
		}
	}
	return tx.Commit()
}

// SetAgent records the agent a call reached. Only a call in progress reaches an agent:
// for a call that has ended, or an id that names none (what a stray FastAGI client could
// send), it changes nothing and answers ErrNotFound.
func (s *Store) SetAgent(ctx context.Context, id, agent string) error {
	res, err := s.db.ExecContext(ctx, s.bind(`UPDATE interactions SET agent = ? WHERE id = ? AND ended_at IS NULL`), agent, id)
	if err != nil {
		return fmt.Errorf("store agent %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store agent %s: no call in progress: %w", id, ErrNotFound)
	}
	return nil
}

// SetWrapUp records the agent's wrap-up code.
func (s *Store) SetWrapUp(ctx context.Context, id, code string) error {
	res, err := s.db.ExecContext(ctx, s.bind(`UPDATE interactions SET wrapup = ? WHERE id = ?`), code, id)
	if err != nil {
		return fmt.Errorf("store wrap-up %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store wrap-up %s: %w", id, ErrNotFound)
	}
	return nil
}
