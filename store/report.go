package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idv-project/idv/flow"
)

// ReportBucket is the time resolution of ReportGroups: 15 minutes, so that every time
// zone's days and hours (offsets of :30 and :45 too) fall on bucket edges. The database
// groups by bucket; the reports place buckets in their own time zone.
const ReportBucket = 15 * time.Minute

const bucketMS = int64(ReportBucket / time.Millisecond)

// ReportGroup is the interactions of one ReportBucket that share every attribute the
// aggregate reports look at, counted.
type ReportGroup struct {
	Start            time.Time // the bucket's start
	Line             string
	Status           flow.Status
	Reason           flow.Reason
	Method           flow.Method
	Route            string
	QueueStatus      string           // QUEUESTATUS as Queue() returned it
	QueueResult      flow.QueueResult // as the ARI observer reported it; "" when it did not
	Agent            string
	Language         string
	WrapUp           string
	IdentifyAttempts int
	VerifyAttempts   int
	// IDType is how the callers were identified ("" unidentified); FactorsAsked and
	// FactorsPassed the verification factors, comma-separated.
	IDType, FactorsAsked, FactorsPassed string
	// N is how many interactions; WaitSum and TalkSum add up the milliseconds of the
	// WaitN and TalkN of them whose wait and talk time the ARI observer recorded.
	N, WaitSum, WaitN, TalkSum, TalkN int64
}

// EventCount is how many CRM and ANI events of the selected interactions share a line,
// kind, name, result and latency in whole milliseconds.
type EventCount struct {
	Line      string
	Kind      flow.EventKind
	Name      string
	Result    flow.Result
	LatencyMS int64
	N         int64
}

// DetailRow is one interaction with its events, for the detail report. The events' Detail
// is not read.
type DetailRow struct {
	ID, Line, ANI                     string
	Status                            flow.Status
	Reason                            flow.Reason
	Method                            flow.Method
	CustomerID, CustomerName          string
	Route, QueueStatus, Agent, WrapUp string
	QueueResult                       flow.QueueResult // as the ARI observer reported it; "" when it did not
	Started, Ended                    time.Time        // Ended is zero while the call is in the flow
	IdentifyAttempts, VerifyAttempts  int
	Events                            []flow.Event
}

// ReportGroups counts the interactions q selects by ReportBucket and by every attribute
// of ReportGroup.
func (s *Store) ReportGroups(ctx context.Context, q Query) ([]ReportGroup, error) {
	where, args := q.where()
	rs, err := s.db.QueryContext(ctx, s.bind(`SELECT i.started_at / `+strconv.FormatInt(bucketMS, 10)+` AS b, i.line, i.status, i.reason,
		i.method, i.route, i.queue_status, i.queue_result, i.agent, i.language, i.wrapup, i.identify_attempts,
		i.verify_attempts, i.id_type, i.factors_asked, i.factors_passed,
		COUNT(*), COALESCE(SUM(i.wait_ms), 0), COUNT(i.wait_ms), COALESCE(SUM(i.talk_ms), 0), COUNT(i.talk_ms)
		FROM interactions i WHERE `+where+`
		GROUP BY b, i.line, i.status, i.reason, i.method, i.route, i.queue_status, i.queue_result, i.agent, i.language,
			i.wrapup, i.identify_attempts, i.verify_attempts, i.id_type, i.factors_asked, i.factors_passed`), args...)
	if err != nil {
		return nil, fmt.Errorf("store report groups: %w", err)
	}
	defer rs.Close()
	var out []ReportGroup
	for rs.Next() {
		var g ReportGroup
		var bucket int64
		if err := rs.Scan(&bucket, &g.Line, &g.Status, &g.Reason, &g.Method, &g.Route, &g.QueueStatus, &g.QueueResult, &g.Agent,
			&g.Language, &g.WrapUp, &g.IdentifyAttempts, &g.VerifyAttempts, &g.IDType, &g.FactorsAsked, &g.FactorsPassed, &g.N, &g.WaitSum, &g.WaitN, &g.TalkSum, &g.TalkN); err != nil {
			return nil, fmt.Errorf("store report groups: %w", err)
		}
		g.Start = time.UnixMilli(bucket * bucketMS)
		out = append(out, g)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store report groups: %w", err)
	}
	return out, nil
}

// onlyPeriodAndLines says whether q selects by nothing but the period and the lines.
func (q Query) onlyPeriodAndLines() bool {
	return len(q.Queues)+len(q.Agents)+len(q.Statuses)+len(q.Languages)+len(q.WrapUps) == 0
}

// countedKinds are the kinds of event EventCounts counts.
var countedKinds = []any{flow.EventCRM, flow.EventANI}

// EventCounts counts the CRM and ANI events of the interactions q selects.
func (s *Store) EventCounts(ctx context.Context, q Query) ([]EventCount, error) {
	kindIn := ` AND e.kind IN (?` + strings.Repeat(", ?", len(countedKinds)-1) + `)`
	// Events carry their interaction's line and start: filtered by period and line
	// alone, they are counted without a join (a million interactions in seconds).
	query := `SELECT e.line, e.kind, e.name, e.result, e.latency_us / 1000 AS ms, COUNT(*) FROM events e
		WHERE e.started_at >= ? AND e.started_at < ?` + kindIn
	args := append([]any{q.From.UnixMilli(), q.To.UnixMilli()}, countedKinds...)
	if len(q.Lines) > 0 {
		query += ` AND e.line IN (?` + strings.Repeat(", ?", len(q.Lines)-1) + `)`
		for _, l := range q.Lines {
			args = append(args, l)
		}
	}
	if q.onlyPeriodAndLines() {
		query += ` GROUP BY e.line, e.kind, e.name, e.result, ms`
	} else {
		var where string
		where, args = q.where()
		args = append(args, countedKinds...)
		query = `SELECT i.line, e.kind, e.name, e.result, e.latency_us / 1000 AS ms, COUNT(*)
			FROM events e JOIN interactions i ON i.id = e.interaction_id
			WHERE ` + where + kindIn + `
			GROUP BY i.line, e.kind, e.name, e.result, ms`
	}
	rs, err := s.db.QueryContext(ctx, s.bind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store event counts: %w", err)
	}
	defer rs.Close()
	var out []EventCount
	for rs.Next() {
		var c EventCount
		if err := rs.Scan(&c.Line, &c.Kind, &c.Name, &c.Result, &c.LatencyMS, &c.N); err != nil {
			return nil, fmt.Errorf("store event counts: %w", err)
		}
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store event counts: %w", err)
	}
	return out, nil
}

// DetailRows reads the first q.Limit interactions q selects (all of them when Limit is 0),
// oldest first, with their events, and how many interactions q selects in all.
func (s *Store) DetailRows(ctx context.Context, q Query) ([]DetailRow, int64, error) {
	where, args := q.where()
	var total int64
	if err := s.db.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM interactions i WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store detail rows: %w", err)
	}
	limited := `SELECT i.id FROM interactions i WHERE ` + where + ` ORDER BY i.started_at, i.id`
	if q.Limit > 0 {
		limited += ` LIMIT ` + strconv.Itoa(q.Limit)
	}
	rs, err := s.db.QueryContext(ctx, s.bind(`SELECT i.id, i.line, i.started_at, i.ended_at, i.ani, i.status, i.reason,
		i.method, i.customer_id, i.customer_name, i.identify_attempts, i.verify_attempts, i.route, i.queue_status, i.queue_result, i.agent,
		i.wrapup FROM interactions i WHERE i.id IN (`+limited+`) ORDER BY i.started_at, i.id`), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store detail rows: %w", err)
	}
	defer rs.Close()
	var out []DetailRow
	byID := map[string]int{}
	for rs.Next() {
		var r DetailRow
		var started int64
		var ended sql.NullInt64
		if err := rs.Scan(&r.ID, &r.Line, &started, &ended, &r.ANI, &r.Status, &r.Reason, &r.Method, &r.CustomerID,
			&r.CustomerName, &r.IdentifyAttempts, &r.VerifyAttempts, &r.Route, &r.QueueStatus, &r.QueueResult, &r.Agent, &r.WrapUp); err != nil {
			return nil, 0, fmt.Errorf("store detail rows: %w", err)
		}
		r.Started = time.UnixMilli(started)
		if ended.Valid {
			r.Ended = time.UnixMilli(ended.Int64)
		}
		byID[r.ID] = len(out)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, 0, fmt.Errorf("store detail rows: %w", err)
	}
	es, err := s.db.QueryContext(ctx, s.bind(`SELECT e.interaction_id, e.at, e.kind, e.name, e.result, e.count, e.latency_us
		FROM events e WHERE e.interaction_id IN (`+limited+`) ORDER BY e.interaction_id, e.seq`), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store detail events: %w", err)
	}
	defer es.Close()
	for es.Next() {
		var id string
		var at, lat int64
		var ev flow.Event
		if err := es.Scan(&id, &at, &ev.Kind, &ev.Name, &ev.Result, &ev.Count, &lat); err != nil {
			return nil, 0, fmt.Errorf("store detail events: %w", err)
		}
		if i, ok := byID[id]; ok {
			ev.At, ev.Latency = time.UnixMilli(at), time.Duration(lat)*time.Microsecond
			out[i].Events = append(out[i].Events, ev)
		}
	}
	if err := es.Err(); err != nil {
		return nil, 0, fmt.Errorf("store detail events: %w", err)
	}
	return out, total, nil
}

// Field is an attribute of the interactions that a report filter names values of.
type Field string

// The fields RecordedValues knows.
const (
	FieldLine     Field = "line"
	FieldQueue    Field = "queue" // the queue of a route "queue:NAME[,options]"
	FieldAgent    Field = "agent"
	FieldLanguage Field = "language"
	FieldWrapUp   Field = "wrapup"
)

// fieldColumns are the interactions' columns of the fields.
var fieldColumns = map[Field]string{FieldLine: "line", FieldQueue: "route", FieldAgent: "agent",
	FieldLanguage: "language", FieldWrapUp: "wrapup"}

// RecordedValues lists, sorted, the values field takes in the interactions recorded (at
// any time, whatever is kept), without the empty value: for FieldQueue, the queues that
// routes named.
func (s *Store) RecordedValues(ctx context.Context, field Field) ([]string, error) {
	col, ok := fieldColumns[field]
	if !ok {
		return nil, fmt.Errorf("store recorded values: no field %q", field)
	}
	query := `SELECT DISTINCT ` + col + ` FROM interactions WHERE ` + col + ` <> ''`
	if field == FieldQueue {
		query += ` AND route LIKE 'queue:%'`
	}
	rs, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store recorded values: %w", err)
	}
	defer rs.Close()
	seen := map[string]bool{}
	var out []string
	for rs.Next() {
		var v string
		if err := rs.Scan(&v); err != nil {
			return nil, fmt.Errorf("store recorded values: %w", err)
		}
		if field == FieldQueue {
			v = flow.QueueOf(v)
		}
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store recorded values: %w", err)
	}
	slices.Sort(out)
	return out, nil
}
