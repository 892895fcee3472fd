package report

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/idv-project/idv/store"
)

// Source reads interaction records for reports.
type Source struct {
	DB     *sql.DB
	Driver string // store.SQLite or store.Postgres
}

// NewSource reads from a store.
func NewSource(s *store.Store) *Source { return &Source{DB: s.DB(), Driver: s.Driver()} }

// row is one interaction as reports see it.
type row struct {
	id, line, ani, status, reason, method, customerID, customerName string
	route, queueStatus, agent, language, wrapup                     string
	started, ended                                                  time.Time
	identifyAttempts, verifyAttempts                                int
	waitMS, talkMS                                                  sql.NullInt64
	events                                                          []event
}

type event struct {
	at      time.Time
	kind    string
	name    string
	result  string
	count   int
	latency time.Duration
}

// queue is the queue a route named, "" for other routes.
func (r *row) queue() string {
	q, ok := strings.CutPrefix(r.route, "queue:")
	if !ok {
		return ""
	}
	q, _, _ = strings.Cut(q, ",")
	return q
}

// data is what a report is built from.
type data struct {
	filter Filter
	rows   []*row
}

func (s *Source) load(ctx context.Context, f Filter, kinds []string) (*data, error) {
	q := `SELECT id, line, started_at, ended_at, ani, status, reason, method, customer_id, customer_name,
		identify_attempts, verify_attempts, route, queue_status, agent, wait_ms, talk_ms, language, wrapup
		FROM interactions WHERE started_at >= ? AND started_at < ?`
	args := []any{f.From.UnixMilli(), f.To.UnixMilli()}
	if len(f.Lines) > 0 {
		q += ` AND line IN (?` + strings.Repeat(", ?", len(f.Lines)-1) + `)`
		for _, l := range f.Lines {
			args = append(args, l)
		}
	}
	q += ` ORDER BY started_at, id`
	rs, err := s.DB.QueryContext(ctx, store.Bind(s.Driver, q), args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	d := &data{filter: f}
	byID := map[string]*row{}
	for rs.Next() {
		r := &row{}
		var started int64
		var ended sql.NullInt64
		if err := rs.Scan(&r.id, &r.line, &started, &ended, &r.ani, &r.status, &r.reason, &r.method, &r.customerID,
			&r.customerName, &r.identifyAttempts, &r.verifyAttempts, &r.route, &r.queueStatus, &r.agent, &r.waitMS,
			&r.talkMS, &r.language, &r.wrapup); err != nil {
			return nil, err
		}
		r.started = time.UnixMilli(started)
		if ended.Valid {
			r.ended = time.UnixMilli(ended.Int64)
		}
		if !contains(f.Statuses, r.status) || !contains(f.Languages, r.language) || !contains(f.WrapUps, r.wrapup) ||
			!contains(f.Agents, r.agent) || !contains(f.Queues, r.queue()) {
			continue
		}
		d.rows = append(d.rows, r)
		byID[r.id] = r
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if len(kinds) == 0 || len(d.rows) == 0 {
		return d, nil
	}
	eq := `SELECT e.interaction_id, e.at, e.kind, e.name, e.result, e.count, e.latency_us
		FROM events e JOIN interactions i ON i.id = e.interaction_id
		WHERE i.started_at >= ? AND i.started_at < ?`
	eargs := []any{f.From.UnixMilli(), f.To.UnixMilli()}
	if kinds[0] != "*" {
		eq += ` AND e.kind IN (?` + strings.Repeat(", ?", len(kinds)-1) + `)`
		for _, k := range kinds {
			eargs = append(eargs, k)
		}
	}
	eq += ` ORDER BY e.interaction_id, e.seq`
	es, err := s.DB.QueryContext(ctx, store.Bind(s.Driver, eq), eargs...)
	if err != nil {
		return nil, err
	}
	defer es.Close()
	for es.Next() {
		var id string
		var at, lat int64
		var ev event
		if err := es.Scan(&id, &at, &ev.kind, &ev.name, &ev.result, &ev.count, &lat); err != nil {
			return nil, err
		}
		if r := byID[id]; r != nil {
			ev.at, ev.latency = time.UnixMilli(at), time.Duration(lat)*time.Microsecond
			r.events = append(r.events, ev)
		}
	}
	return d, es.Err()
}
