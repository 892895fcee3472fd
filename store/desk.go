package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SetWrapUpNote records the agent's wrap-up code and note together. The note is free
// text the web limits in length; it is shown in the interaction's detail and no report
// reads it.
func (s *Store) SetWrapUpNote(ctx context.Context, id, code, note string) error {
	res, err := s.db.ExecContext(ctx, s.bind(`UPDATE interactions SET wrapup = ?, wrapup_note = ? WHERE id = ?`), code, note, id)
	if err != nil {
		return fmt.Errorf("store wrap-up %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store wrap-up %s: %w", id, ErrNotFound)
	}
	return nil
}

// Note is the agent's wrap-up note of an interaction ("" when none).
func (s *Store) Note(ctx context.Context, id string) (string, error) {
	var note string
	err := s.db.QueryRowContext(ctx, s.bind(`SELECT wrapup_note FROM interactions WHERE id = ?`), id).Scan(&note)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store %s: %w", id, ErrNotFound)
	}
	return note, err
}

// PendingWrapUp is the newest call of the agent since since that reached them, is over,
// and has no wrap-up code yet: what the agent's desk asks them to wrap up after a reload
// or a restart. "" when there is none.
func (s *Store) PendingWrapUp(ctx context.Context, agent string, since time.Time) (string, error) {
	if agent == "" {
		return "", nil
	}
	var id string
	err := s.db.QueryRowContext(ctx, s.bind(`SELECT id FROM interactions WHERE agent = ? AND started_at >= ?
		AND ended_at IS NOT NULL AND wrapup = '' ORDER BY started_at DESC, id DESC LIMIT 1`), agent, since.UnixMilli()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store pending wrap-up %s: %w", agent, err)
	}
	return id, nil
}

// ErrAmbiguous is returned by LatestVerified when the visible digits of a calling number
// match verified calls of more than one customer.
var ErrAmbiguous = errors.New("several customers match")

// LatestVerified is the id of the newest verified interaction since since, of the
// customer, or else from the calling number ani, in E.164 form: records keep numbers
// masked (privacy.ani_visible_digits), and are matched by the whole number's keyed hash
// (ANIKey). Should the number's calls name more than one customer (a shared line), it
// answers ErrAmbiguous rather than pick one. "" when there is none.
func (s *Store) LatestVerified(ctx context.Context, customer, ani string, since time.Time) (string, error) {
	var rows *sql.Rows
	var err error
	if customer != "" {
		rows, err = s.db.QueryContext(ctx, s.bind(`SELECT id, customer_id FROM interactions WHERE customer_id = ? AND status = 'VERIFIED'
			AND started_at >= ? ORDER BY started_at DESC, id DESC LIMIT 1`), customer, since.UnixMilli())
	} else if ani == "" {
		return "", nil // a withheld number names nobody
	} else {
		// The whole number, by its keyed hash: the masked one would match any number
		// that ends alike.
		rows, err = s.db.QueryContext(ctx, s.bind(`SELECT id, customer_id FROM interactions WHERE ani_key = ?
			AND status = 'VERIFIED' AND started_at >= ? ORDER BY started_at DESC, id DESC LIMIT 50`), s.ANIKey(ani), since.UnixMilli())
	}
	if err != nil {
		return "", fmt.Errorf("store latest verified: %w", err)
	}
	defer rows.Close()
	var first, firstCustomer string
	for rows.Next() {
		var id, cust string
		if err := rows.Scan(&id, &cust); err != nil {
			return "", fmt.Errorf("store latest verified: %w", err)
		}
		if first == "" {
			first, firstCustomer = id, cust
		} else if cust != firstCustomer {
			return "", ErrAmbiguous
		}
	}
	return first, rows.Err()
}
