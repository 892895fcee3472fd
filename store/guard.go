package store

import (
	"context"
	"fmt"
	"time"
)

// Guard implements flow.Guard on the store, so that lockouts and limits hold across calls
// and across idv instances sharing the database.
type Guard struct {
	Store *Store
	// LockoutFailures failed verifications of one customer within LockoutWindow lock the
	// customer out of verification (0: never).
	LockoutFailures int
	LockoutWindow   time.Duration
	// PerANI and Global bound identification attempts within IdentifyWindow from one
	// calling number and overall (0: no bound).
	PerANI, Global int
	IdentifyWindow time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (g *Guard) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Guard) count(ctx context.Context, kind, key string, since time.Time) (int, error) {
	q, args := `SELECT COUNT(*) FROM guard_events WHERE kind = ? AND at >= ?`, []any{kind, since.UnixMilli()}
	if key != "" {
		q, args = q+` AND key = ?`, append(args, key)
	}
	st, err := g.Store.stmt(ctx, q)
	if err != nil {
		return 0, err
	}
	var n int
	err = st.QueryRowContext(ctx, args...).Scan(&n)
	return n, err
}

func (g *Guard) add(ctx context.Context, kind, key string) error {
	st, err := g.Store.stmt(ctx, `INSERT INTO guard_events (kind, key, at) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, kind, key, g.now().UnixMilli())
	return err
}

// VerifyLocked implements flow.Guard.
func (g *Guard) VerifyLocked(ctx context.Context, customer string) (bool, error) {
	if g.LockoutFailures <= 0 {
		return false, nil
	}
	n, err := g.count(ctx, "verify_failed", customer, g.now().Add(-g.LockoutWindow))
	if err != nil {
		return false, fmt.Errorf("guard lockout %s: %w", customer, err)
	}
	return n >= g.LockoutFailures, nil
}

// VerifyFailed implements flow.Guard.
func (g *Guard) VerifyFailed(ctx context.Context, customer string) (bool, error) {
	if g.LockoutFailures <= 0 {
		return false, nil
	}
	if err := g.add(ctx, "verify_failed", customer); err != nil {
		return false, fmt.Errorf("guard lockout %s: %w", customer, err)
	}
	return g.VerifyLocked(ctx, customer)
}

// VerifyPassed implements flow.Guard. Most customers have no failures to clear: a read
// spares them a write transaction.
func (g *Guard) VerifyPassed(ctx context.Context, customer string) error {
	if g.LockoutFailures <= 0 {
		return nil
	}
	st, err := g.Store.stmt(ctx, `SELECT EXISTS (SELECT 1 FROM guard_events WHERE kind = 'verify_failed' AND key = ?)`)
	if err != nil {
		return err
	}
	var failures bool
	if err := st.QueryRowContext(ctx, customer).Scan(&failures); err != nil || !failures {
		return err
	}
	if st, err = g.Store.stmt(ctx, `DELETE FROM guard_events WHERE kind = 'verify_failed' AND key = ?`); err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, customer)
	return err
}

// IdentifyAllowed implements flow.Guard.
func (g *Guard) IdentifyAllowed(ctx context.Context, ani string) (bool, error) {
	if g.PerANI <= 0 && g.Global <= 0 {
		return true, nil
	}
	if err := g.add(ctx, "identify", ani); err != nil {
		return false, err
	}
	since := g.now().Add(-g.IdentifyWindow)
	if g.PerANI > 0 && ani != "" {
		n, err := g.count(ctx, "identify", ani, since)
		if err != nil || n > g.PerANI {
			return false, err
		}
	}
	if g.Global > 0 {
		n, err := g.count(ctx, "identify", "", since)
		if err != nil || n > g.Global {
			return false, err
		}
	}
	return true, nil
}
