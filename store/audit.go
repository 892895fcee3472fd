package store

import (
	"context"
	"fmt"
	"time"
)

// AuditAction is what a user did with personal data.
type AuditAction string

// The actions the web server records.
const (
	// AuditView is a look at one interaction (its ID&V context, name and customer id).
	AuditView AuditAction = "view"
	// AuditList is a list of interactions; the detail is its filter.
	AuditList AuditAction = "list"
	// AuditReport is a report downloaded; the target is the report, the detail its format
	// and filter.
	AuditReport AuditAction = "report"
	// AuditWrapUp is a wrap-up code set on an interaction; the detail is the code.
	AuditWrapUp AuditAction = "wrapup"
	// AuditLive is a live view opened: the dashboard (no target) or an agent's screen
	// (the agent as target).
	AuditLive AuditAction = "live"
)

// AuditEntry is one access to personal data: who, when, from where, what.
type AuditEntry struct {
	At      time.Time   `json:"at"`
	User    string      `json:"user"`
	Role    string      `json:"role"`
	Address string      `json:"address"`
	Action  AuditAction `json:"action"`
	Target  string      `json:"target"`
	Detail  string      `json:"detail"`
}

// AuditQuery selects audit entries: [From, To), and one user's when User is set.
type AuditQuery struct {
	From, To time.Time
	User     string
	// Limit bounds the entries (1000 when 0, at most 10000); the newest come first.
	Limit int
}

// Audit records an access to personal data.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	st, err := s.stmt(ctx, `INSERT INTO audit_log (at, user_name, role, address, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store audit: %w", err)
	}
	if _, err := st.ExecContext(ctx, e.At.UnixMilli(), e.User, e.Role, e.Address, string(e.Action), e.Target, e.Detail); err != nil {
		return fmt.Errorf("store audit %s %s by %s: %w", e.Action, e.Target, e.User, err)
	}
	return nil
}

// AuditEntries lists the audit entries q selects, newest first.
func (s *Store) AuditEntries(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	limit := q.Limit
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	query, args := `SELECT at, user_name, role, address, action, target, detail FROM audit_log WHERE at >= ? AND at < ?`,
		[]any{q.From.UnixMilli(), q.To.UnixMilli()}
	if q.User != "" {
		query, args = query+` AND user_name = ?`, append(args, q.User)
	}
	rows, err := s.db.QueryContext(ctx, s.bind(query+` ORDER BY at DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store audit entries: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		var action string
		if err := rows.Scan(&at, &e.User, &e.Role, &e.Address, &action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("store audit entries: %w", err)
		}
		e.At, e.Action = time.UnixMilli(at), AuditAction(action)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneAudit deletes the audit entries older than before (web.audit_retention) and says
// how many it deleted.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.bind(`DELETE FROM audit_log WHERE at < ?`), before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store prune audit before %s: %w", before.Format(time.RFC3339), err)
	}
	return res.RowsAffected()
}
