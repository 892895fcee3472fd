package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/idv-project/idv/flow"
)

// Guard implements flow.Guard on the store, so that lockouts and limits hold across calls
// and across idv instances sharing the database.
//
// Verification attempts are rows of verify_attempts, one per attempt let through:
// pending while the CRM checks the secret, failed once it was wrong; a right secret
// deletes the caller's rows for that customer, an attempt without a verdict its own. A
// reservation counts the rows within the window and inserts its own in one transaction
// that calls take in turn — on SQLite BEGIN IMMEDIATE (the database's one writer), on
// PostgreSQL an advisory lock on the customer — so that calls in parallel, on any
// instance, cannot each slip under the limit. A pending row that is never settled (the
// process was killed while the CRM checked the secret) counts as a failure until it
// leaves the window. Identification attempts are rows of guard_events.
type Guard struct {
	Store *Store
	// LockoutFailures failed (or pending) verifications of one customer by one caller
	// within LockoutWindow lock that caller out of that customer (0: never). Withheld
	// callers count as one caller.
	LockoutFailures int
	// CustomerFailures failed verifications of one customer by every caller together
	// within LockoutWindow lock the customer out for everyone (0: never): the ceiling on
	// guessing spread over many calling numbers. It is never below LockoutFailures,
	// which would let one caller lock the customer out.
	CustomerFailures int
	LockoutWindow    time.Duration
	// PerANI, Withheld and Global bound identification attempts within IdentifyWindow
	// from one calling number, from withheld numbers together, and overall (0: no bound).
	PerANI, Withheld, Global int
	IdentifyWindow           time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (g *Guard) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// guardLock is the first key of the PostgreSQL advisory locks under which verification
// attempts of one customer are reserved (the second is a hash of the customer).
const guardLock = 0x1d5_0002

// The guard's statements, prepared once per store (Store.stmt): parsing them on every
// secret cost more than running them.
const (
	countAttemptsSQL = `SELECT COALESCE(SUM(failed), 0), COUNT(*),
		COALESCE(SUM(CASE WHEN caller = ? THEN failed ELSE 0 END), 0), COALESCE(SUM(CASE WHEN caller = ? THEN 1 ELSE 0 END), 0)
		FROM verify_attempts WHERE customer = ? AND at >= ?`
	insertAttemptSQL = `INSERT INTO verify_attempts (id, customer, caller, at, failed) VALUES (?, ?, ?, ?, 0)`
)

// attempts are the rows of one customer within the window: everyone's and the caller's,
// failed, and failed or still being checked (pending).
type attempts struct{ allFailed, all, mineFailed, mine int }

// countAttempts counts the attempts on customer within the window; tx, when set, is the
// reservation's transaction.
func (g *Guard) countAttempts(ctx context.Context, tx *sql.Tx, customer, caller string) (attempts, error) {
	st, err := g.Store.prepared(countAttemptsSQL)
	if err != nil {
		return attempts{}, err
	}
	if tx != nil {
		st = tx.StmtContext(ctx, st)
	}
	var a attempts
	err = st.QueryRowContext(ctx, caller, caller, customer, g.now().Add(-g.LockoutWindow).UnixMilli()).Scan(&a.allFailed, &a.all, &a.mineFailed, &a.mine)
	return a, err
}

// limit says which limit mine attempts of the caller and all of everyone's reach.
func (g *Guard) limit(caller string, mine, all int) flow.Limit {
	switch {
	case g.LockoutFailures > 0 && mine >= g.LockoutFailures && caller == "":
		return flow.LimitWithheld
	case g.LockoutFailures > 0 && mine >= g.LockoutFailures:
		return flow.LimitCaller
	case g.CustomerFailures > 0 && all >= max(g.CustomerFailures, g.LockoutFailures):
		return flow.LimitCustomer
	}
	return flow.LimitNone
}

func (g *Guard) lockoutOff() bool { return g.LockoutFailures <= 0 && g.CustomerFailures <= 0 }

// VerifyLimit implements flow.Guard: the failed attempts decide. Attempts still being
// checked are no failures yet: a caller is asked, and the reservation waits for them.
func (g *Guard) VerifyLimit(ctx context.Context, customer, caller string) (flow.Limit, error) {
	if g.lockoutOff() {
		return flow.LimitNone, nil
	}
	a, err := g.countAttempts(ctx, nil, customer, caller)
	if err != nil {
		return flow.LimitNone, fmt.Errorf("guard lockout %s: %w", customer, err)
	}
	return g.limit(caller, a.mineFailed, a.allFailed), nil
}

// pendingWait bounds how long a reservation waits for the attempts still being checked
// that keep it under a limit (the CRM's answers to other calls of the same caller and
// customer), polling the database from pendingPoll up to a tenth of the bound.
const (
	pendingWait = 3 * time.Second
	pendingPoll = 20 * time.Millisecond
)

// ReserveVerify implements flow.Guard. Failed and pending attempts together never pass
// the limits; when only pending ones keep a reservation out — calls of one caller for
// one customer checking their secrets at once, such as a load test from one number — it
// waits for their verdicts (up to pendingWait, or the call's deadline) rather than
// refusing a caller who may well know the secret.
func (g *Guard) ReserveVerify(ctx context.Context, customer, caller string) (flow.Attempt, flow.Limit, error) {
	if g.lockoutOff() {
		return noAttempt{}, flow.LimitNone, nil
	}
	b := make([]byte, 16)
	rand.Read(b)
	a := &attempt{g: g, id: hex.EncodeToString(b), customer: customer, caller: caller}
	deadline := time.Now().Add(pendingWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for poll := pendingPoll; ; poll = min(2*poll, pendingWait/10) {
		limit, pending, err := g.reserve(ctx, a)
		if err != nil {
			return nil, flow.LimitNone, fmt.Errorf("guard reserve %s: %w", customer, err)
		}
		if limit == flow.LimitNone {
			return a, flow.LimitNone, nil
		}
		if !pending {
			return nil, limit, nil
		}
		// Wait with reads alone (no writer's lock: SQLite has one writer) until the
		// verdicts leave room, then try the reservation again.
		for pending {
			if time.Now().Add(poll).After(deadline) {
				return nil, limit, nil
			}
			select {
			case <-ctx.Done():
				return nil, limit, nil
			case <-time.After(poll):
			}
			poll = min(2*poll, pendingWait/10)
			n, err := g.countAttempts(ctx, nil, customer, caller)
			if err != nil {
				return nil, flow.LimitNone, fmt.Errorf("guard reserve %s: %w", customer, err)
			}
			if failed := g.limit(caller, n.mineFailed, n.allFailed); failed != flow.LimitNone {
				return nil, failed, nil
			}
			pending = g.limit(caller, n.mine, n.all) != flow.LimitNone
		}
	}
}

// reserve counts and inserts in one transaction that no other reservation of the
// customer runs beside. pending says that the limit is reached only with attempts
// still being checked.
func (g *Guard) reserve(ctx context.Context, a *attempt) (limit flow.Limit, pending bool, err error) {
	tx, err := g.Store.db.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return flow.LimitNone, false, err
	}
	defer tx.Rollback()
	if g.Store.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, guardLock, a.customer); err != nil {
			return flow.LimitNone, false, err
		}
	}
	n, err := g.countAttempts(ctx, tx, a.customer, a.caller)
	if err != nil {
		return flow.LimitNone, false, err
	}
	if limit := g.limit(a.caller, n.mine, n.all); limit != flow.LimitNone {
		return limit, g.limit(a.caller, n.mineFailed, n.allFailed) == flow.LimitNone, nil
	}
	insert, err := g.Store.prepared(insertAttemptSQL)
	if err != nil {
		return flow.LimitNone, false, err
	}
	if _, err := tx.StmtContext(ctx, insert).ExecContext(ctx, a.id, a.customer, a.caller, g.now().UnixMilli()); err != nil {
		return flow.LimitNone, false, err
	}
	return flow.LimitNone, false, tx.Commit()
}

// attempt is a reserved row of verify_attempts.
type attempt struct {
	g                    *Guard
	id, customer, caller string
}

// Settle implements flow.Attempt.
func (a *attempt) Settle(ctx context.Context, outcome flow.AttemptOutcome) (flow.Limit, error) {
	g := a.g
	var q string
	var args []any
	switch outcome {
	case flow.AttemptRejected:
		q, args = `UPDATE verify_attempts SET failed = 1, at = ? WHERE id = ?`, []any{g.now().UnixMilli(), a.id}
	case flow.AttemptVerified:
		// The caller knows the secret: their failures go. Other callers' stay, and
		// count towards the customer's ceiling.
		q, args = `DELETE FROM verify_attempts WHERE customer = ? AND caller = ? AND (failed = 1 OR id = ?)`, []any{a.customer, a.caller, a.id}
	default:
		q, args = `DELETE FROM verify_attempts WHERE id = ?`, []any{a.id}
	}
	st, err := g.Store.stmt(ctx, q)
	if err == nil {
		_, err = st.ExecContext(ctx, args...)
	}
	if err != nil {
		return flow.LimitNone, fmt.Errorf("guard settle %s: %w", a.customer, err)
	}
	if outcome != flow.AttemptRejected {
		return flow.LimitNone, nil
	}
	return g.VerifyLimit(ctx, a.customer, a.caller)
}

// noAttempt is an attempt when the lockout is off.
type noAttempt struct{}

func (noAttempt) Settle(context.Context, flow.AttemptOutcome) (flow.Limit, error) {
	return flow.LimitNone, nil
}

// CountIdentify implements flow.Guard. Each attempt is stored before the count that
// includes it, so that attempts in parallel never pass more than the bound.
func (g *Guard) CountIdentify(ctx context.Context, caller string) (flow.Limit, error) {
	if g.PerANI <= 0 && g.Withheld <= 0 && g.Global <= 0 {
		return flow.LimitNone, nil
	}
	limit, err := g.countIdentify(ctx, caller)
	if err != nil {
		return flow.LimitNone, fmt.Errorf("guard identify: %w", err)
	}
	return limit, nil
}

func (g *Guard) countIdentify(ctx context.Context, caller string) (flow.Limit, error) {
	now := g.now()
	st, err := g.Store.stmt(ctx, `INSERT INTO guard_events (kind, key, at) VALUES ('identify', ?, ?)`)
	if err != nil {
		return flow.LimitNone, err
	}
	if _, err := st.ExecContext(ctx, caller, now.UnixMilli()); err != nil {
		return flow.LimitNone, err
	}
	since := now.Add(-g.IdentifyWindow).UnixMilli()
	count := func(q string, args ...any) (int, error) {
		st, err := g.Store.stmt(ctx, q)
		if err != nil {
			return 0, err
		}
		var n int
		err = st.QueryRowContext(ctx, args...).Scan(&n)
		return n, err
	}
	// key is the calling number, '' for withheld callers, who share one bound.
	own, limit := g.PerANI, flow.LimitCaller
	if caller == "" {
		own, limit = g.Withheld, flow.LimitWithheld
	}
	if own > 0 {
		n, err := count(`SELECT COUNT(*) FROM guard_events WHERE kind = 'identify' AND key = ? AND at >= ?`, caller, since)
		if err != nil || n > own {
			return limit, err
		}
	}
	if g.Global > 0 {
		n, err := count(`SELECT COUNT(*) FROM guard_events WHERE kind = 'identify' AND at >= ?`, since)
		if err != nil || n > g.Global {
			return flow.LimitGlobal, err
		}
	}
	return flow.LimitNone, nil
}
