package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// Query selects interactions: for the interactions view (List) and for reports
// (ReportGroups, EventCounts, DetailRows). Empty lists select everything.
type Query struct {
	From, To                                            time.Time // [From, To)
	Lines, Statuses, Agents, Queues, Languages, WrapUps []string
	// Limit bounds the rows of List (500 when 0, at most 5000) and of DetailRows (none when 0).
	Limit int
}

// likeLiteral escapes LIKE's wildcards, and '!', the escape character the queries name
// (SQLite has no default one), so that a queue name such as a_b matches itself alone.
var likeLiteral = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// where is the query as SQL over interactions aliased i, with ? placeholders.
func (q Query) where() (string, []any) {
	where := []string{"i.started_at >= ?", "i.started_at < ?"}
	args := []any{q.From.UnixMilli(), q.To.UnixMilli()}
	in := func(col string, vals []string) {
		if len(vals) > 0 {
			where = append(where, col+" IN (?"+strings.Repeat(", ?", len(vals)-1)+")")
			for _, v := range vals {
				args = append(args, v)
			}
		}
	}
	in("i.line", q.Lines)
	in("i.status", q.Statuses)
	in("i.agent", q.Agents)
	in("i.language", q.Languages)
	in("i.wrapup", q.WrapUps)
	if len(q.Queues) > 0 {
		var or []string
		for _, qn := range q.Queues {
			// The queue alone, or with options after a comma.
			or = append(or, "i.route = ? OR i.route LIKE ? ESCAPE '!'")
			args = append(args, "queue:"+qn, "queue:"+likeLiteral.Replace(qn)+",%")
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	return strings.Join(where, " AND "), args
}

// Summary is one line of the interactions view.
type Summary struct {
	ID           string    `json:"id"`
	Line         string    `json:"line"`
	Started      time.Time `json:"started"`
	Status       string    `json:"status"`
	Reason       string    `json:"reason"`
	Method       string    `json:"method"`
	CustomerID   string    `json:"customer_id"`
	CustomerName string    `json:"customer_name"`
	Route        string    `json:"route"`
	Agent        string    `json:"agent"`
	WrapUp       string    `json:"wrapup"`
	DurationMS   int64     `json:"duration_ms"`
}

// List returns the newest interactions matching q.
func (s *Store) List(ctx context.Context, q Query) ([]Summary, error) {
	where, args := q.where()
	limit := q.Limit
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	rows, err := s.db.QueryContext(ctx, s.bind(`SELECT id, line, started_at, ended_at, status, reason, method, customer_id,
		customer_name, route, agent, wrapup FROM interactions i WHERE `+where+
		` ORDER BY started_at DESC LIMIT `+strconv.Itoa(limit)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var x Summary
		var started int64
		var ended sql.NullInt64
		if err := rows.Scan(&x.ID, &x.Line, &started, &ended, &x.Status, &x.Reason, &x.Method, &x.CustomerID,
			&x.CustomerName, &x.Route, &x.Agent, &x.WrapUp); err != nil {
			return nil, err
		}
		x.Started = time.UnixMilli(started)
		if ended.Valid {
			x.DurationMS = ended.Int64 - started
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
