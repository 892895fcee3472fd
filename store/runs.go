package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ClaimRun takes the lease on one run of a schedule (the cron time due) for owner. It
// succeeds when nobody has the run yet, when it failed before, or when the instance
// running it let its lease expire; so two instances on one database never deliver the
// same run twice.
func (s *Store) ClaimRun(ctx context.Context, schedule string, due time.Time, owner string, lease time.Duration, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.bind(`INSERT INTO report_runs (schedule, due_at, owner, lease_until, started_at, status, detail)
		VALUES (?, ?, ?, ?, ?, 'running', '')
		ON CONFLICT (schedule, due_at) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until,
			started_at = excluded.started_at, status = 'running', detail = ''
		WHERE report_runs.status = 'failed' OR (report_runs.status = 'running' AND report_runs.lease_until < ?)`),
		schedule, due.UnixMilli(), owner, now.Add(lease).UnixMilli(), now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store claim %s@%s: %w", schedule, due.Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FinishRun records how a claimed run ended: "delivered" or "failed", with a detail.
func (s *Store) FinishRun(ctx context.Context, schedule string, due time.Time, owner, status, detail string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.bind(`UPDATE report_runs SET status = ?, detail = ?, finished_at = ?
		WHERE schedule = ? AND due_at = ? AND owner = ?`), status, detail, now.UnixMilli(), schedule, due.UnixMilli(), owner)
	if err != nil {
		return fmt.Errorf("store finish %s@%s: %w", schedule, due.Format(time.RFC3339), err)
	}
	return nil
}

// LastRun is the latest cron time of a schedule with a run recorded, if any.
func (s *Store) LastRun(ctx context.Context, schedule string) (time.Time, bool, error) {
	var due sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.bind(`SELECT MAX(due_at) FROM report_runs WHERE schedule = ?`), schedule).Scan(&due)
	if err != nil || !due.Valid {
		return time.Time{}, false, err
	}
	return time.UnixMilli(due.Int64), true, nil
}

// Run is one recorded run of a schedule.
type Run struct {
	Schedule          string
	Due               time.Time
	Owner, Status     string
	Detail            string
	Started, Finished time.Time
}

// Runs lists a schedule's runs, oldest first.
func (s *Store) Runs(ctx context.Context, schedule string) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, s.bind(`SELECT due_at, owner, status, detail, started_at, finished_at
		FROM report_runs WHERE schedule = ? ORDER BY due_at`), schedule)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r := Run{Schedule: schedule}
		var due, started int64
		var finished sql.NullInt64
		if err := rows.Scan(&due, &r.Owner, &r.Status, &r.Detail, &started, &finished); err != nil {
			return nil, err
		}
		r.Due, r.Started = time.UnixMilli(due), time.UnixMilli(started)
		if finished.Valid {
			r.Finished = time.UnixMilli(finished.Int64)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
