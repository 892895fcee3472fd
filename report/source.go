package report

import (
	"context"
	"database/sql"
	"strconv"
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

// bucketMS is the time resolution of aggregated reports: 15 minutes, so that every time
// zone's days and hours (offsets of :30 and :45 too) fall on bucket edges. The database
// groups by bucket; Go places buckets in the report's time zone.
const bucketMS = 15 * 60 * 1000

// group is the interactions sharing every attribute the aggregate reports look at.
type group struct {
	bucket                                                                    int64
	line, status, reason, method, route, queueStatus, agent, language, wrapup string
	identifyAttempts, verifyAttempts                                          int
	n, waitSum, waitN, talkSum, talkN                                         int64
}

func (g *group) start() time.Time { return time.UnixMilli(g.bucket * bucketMS) }

// eventGroup counts events of the selected interactions by line, kind, name, result and
// latency in whole milliseconds.
type eventGroup struct {
	line, kind, name, result string
	latencyMS                int64
	n                        int64
}

// row is one interaction, for the detail report.
type row struct {
	id, line, ani, status, reason, method, customerID, customerName string
	route, queueStatus, agent, wrapup                               string
	started, ended                                                  time.Time
	identifyAttempts, verifyAttempts                                int
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

// data is what a report is built from.
type data struct {
	filter Filter
	groups []*group
	events []eventGroup
	rows   []*row // detail only, at most DetailLimit
	total  int64  // interactions selected
}

// needs says what a report reads.
type needs struct {
	groups bool
	events bool
	rows   bool
}

func (f Filter) onlyPeriodAndLines() bool {
	return len(f.Queues)+len(f.Agents)+len(f.Statuses)+len(f.Languages)+len(f.WrapUps) == 0
}

// where is the filter as SQL over interactions aliased i.
func (f Filter) where() (string, []any) {
	return store.Query{From: f.From, To: f.To, Lines: f.Lines, Statuses: f.Statuses, Agents: f.Agents,
		Queues: f.Queues, Languages: f.Languages, WrapUps: f.WrapUps}.Where()
}

func (s *Source) load(ctx context.Context, f Filter, need needs) (*data, error) {
	d := &data{filter: f}
	where, args := f.where()
	if need.groups {
		rs, err := s.DB.QueryContext(ctx, store.Bind(s.Driver, `SELECT i.started_at / `+strconv.Itoa(bucketMS)+` AS b, i.line, i.status, i.reason,
			i.method, i.route, i.queue_status, i.agent, i.language, i.wrapup, i.identify_attempts, i.verify_attempts,
			COUNT(*), COALESCE(SUM(i.wait_ms), 0), COUNT(i.wait_ms), COALESCE(SUM(i.talk_ms), 0), COUNT(i.talk_ms)
			FROM interactions i WHERE `+where+`
			GROUP BY b, i.line, i.status, i.reason, i.method, i.route, i.queue_status, i.agent, i.language, i.wrapup,
				i.identify_attempts, i.verify_attempts`), args...)
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		for rs.Next() {
			g := &group{}
			if err := rs.Scan(&g.bucket, &g.line, &g.status, &g.reason, &g.method, &g.route, &g.queueStatus, &g.agent,
				&g.language, &g.wrapup, &g.identifyAttempts, &g.verifyAttempts, &g.n, &g.waitSum, &g.waitN, &g.talkSum, &g.talkN); err != nil {
				return nil, err
			}
			d.groups = append(d.groups, g)
			d.total += g.n
		}
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	if need.events {
		// Events carry their interaction's line and start: filtered by period and line
		// alone, they are counted without a join (a million interactions in seconds).
		q := `SELECT e.line, e.kind, e.name, e.result, e.latency_us / 1000 AS ms, COUNT(*) FROM events e
			WHERE e.started_at >= ? AND e.started_at < ? AND e.kind IN ('crm', 'ani')`
		eargs := []any{f.From.UnixMilli(), f.To.UnixMilli()}
		if len(f.Lines) > 0 {
			q += ` AND e.line IN (?` + strings.Repeat(", ?", len(f.Lines)-1) + `)`
			for _, l := range f.Lines {
				eargs = append(eargs, l)
			}
		}
		if f.onlyPeriodAndLines() {
			q += ` GROUP BY e.line, e.kind, e.name, e.result, ms`
		} else {
			q = `SELECT i.line, e.kind, e.name, e.result, e.latency_us / 1000 AS ms, COUNT(*)
				FROM events e JOIN interactions i ON i.id = e.interaction_id
				WHERE ` + where + ` AND e.kind IN ('crm', 'ani')
				GROUP BY i.line, e.kind, e.name, e.result, ms`
			eargs = args
		}
		rs, err := s.DB.QueryContext(ctx, store.Bind(s.Driver, q), eargs...)
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		for rs.Next() {
			var g eventGroup
			if err := rs.Scan(&g.line, &g.kind, &g.name, &g.result, &g.latencyMS, &g.n); err != nil {
				return nil, err
			}
			d.events = append(d.events, g)
		}
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	if need.rows {
		if err := s.loadRows(ctx, d, where, args); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// loadRows reads the first DetailLimit interactions and their events.
func (s *Source) loadRows(ctx context.Context, d *data, where string, args []any) error {
	if err := s.DB.QueryRowContext(ctx, store.Bind(s.Driver, `SELECT COUNT(*) FROM interactions i WHERE `+where), args...).Scan(&d.total); err != nil {
		return err
	}
	limited := `SELECT i.id FROM interactions i WHERE ` + where + ` ORDER BY i.started_at, i.id LIMIT ` + strconv.Itoa(DetailLimit)
	rs, err := s.DB.QueryContext(ctx, store.Bind(s.Driver, `SELECT i.id, i.line, i.started_at, i.ended_at, i.ani, i.status, i.reason,
		i.method, i.customer_id, i.customer_name, i.identify_attempts, i.verify_attempts, i.route, i.queue_status, i.agent, i.wrapup
		FROM interactions i WHERE i.id IN (`+limited+`) ORDER BY i.started_at, i.id`), args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	byID := map[string]*row{}
	for rs.Next() {
		r := &row{}
		var started int64
		var ended sql.NullInt64
		if err := rs.Scan(&r.id, &r.line, &started, &ended, &r.ani, &r.status, &r.reason, &r.method, &r.customerID,
			&r.customerName, &r.identifyAttempts, &r.verifyAttempts, &r.route, &r.queueStatus, &r.agent, &r.wrapup); err != nil {
			return err
		}
		r.started = time.UnixMilli(started)
		if ended.Valid {
			r.ended = time.UnixMilli(ended.Int64)
		}
		d.rows = append(d.rows, r)
		byID[r.id] = r
	}
	if err := rs.Err(); err != nil {
		return err
	}
	es, err := s.DB.QueryContext(ctx, store.Bind(s.Driver, `SELECT e.interaction_id, e.at, e.kind, e.name, e.result, e.count, e.latency_us
		FROM events e WHERE e.interaction_id IN (`+limited+`) ORDER BY e.interaction_id, e.seq`), args...)
	if err != nil {
		return err
	}
	defer es.Close()
	for es.Next() {
		var id string
		var at, lat int64
		var ev event
		if err := es.Scan(&id, &at, &ev.kind, &ev.name, &ev.result, &ev.count, &lat); err != nil {
			return err
		}
		if r := byID[id]; r != nil {
			ev.at, ev.latency = time.UnixMilli(at), time.Duration(lat)*time.Microsecond
			r.events = append(r.events, ev)
		}
	}
	return es.Err()
}
