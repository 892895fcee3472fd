package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/idv-project/idv/flow"
)

// KPIGroup is the interactions of one ReportBucket that share what the wallboard's
// figures look at — line, route, outcome, how the queue ended —, counted. The
// wallboard adds groups up for any window, line or queue, as the reports do with
// ReportGroup: both read the same records, so that their figures agree.
type KPIGroup struct {
	Start       time.Time // the bucket's start
	Line        string
	Route       string
	Status      flow.Status
	Reason      flow.Reason
	QueueStatus string           // QUEUESTATUS as Queue() returned it
	QueueResult flow.QueueResult // as the ARI observer reported it; "" when it did not
	HasAgent    bool             // an agent took the call (ARI, or the /agent script)
	// N is how many interactions. WaitN of them have a recorded wait (ARI), adding up to
	// WaitSum milliseconds, WaitWithin of them at most the service level's threshold;
	// TalkN have a talk time, adding up to TalkSum milliseconds.
	N, WaitN, WaitSum, WaitWithin, TalkN, TalkSum int64
}

// KPIGroups counts the interactions started in [from, to) by ReportBucket and by every
// attribute of KPIGroup; within is the service level's threshold (a wait of at most it
// counts in WaitWithin).
func (s *Store) KPIGroups(ctx context.Context, from, to time.Time, within time.Duration) ([]KPIGroup, error) {
	where, args := Query{From: from, To: to}.where()
	args = append([]any{within.Milliseconds()}, args...)
	rs, err := s.db.QueryContext(ctx, s.bind(`SELECT i.started_at / `+strconv.FormatInt(bucketMS, 10)+` AS b, i.line, i.route,
		i.status, i.reason, i.queue_status, i.queue_result, CASE WHEN i.agent <> '' THEN 1 ELSE 0 END AS has_agent,
		COUNT(*), COUNT(i.wait_ms), COALESCE(SUM(i.wait_ms), 0), COALESCE(SUM(CASE WHEN i.wait_ms <= ? THEN 1 ELSE 0 END), 0),
		COUNT(i.talk_ms), COALESCE(SUM(i.talk_ms), 0)
		FROM interactions i WHERE `+where+`
		GROUP BY b, i.line, i.route, i.status, i.reason, i.queue_status, i.queue_result, has_agent`), args...)
	if err != nil {
		return nil, fmt.Errorf("store kpi groups: %w", err)
	}
	defer rs.Close()
	var out []KPIGroup
	for rs.Next() {
		var g KPIGroup
		var bucket, hasAgent int64
		if err := rs.Scan(&bucket, &g.Line, &g.Route, &g.Status, &g.Reason, &g.QueueStatus, &g.QueueResult, &hasAgent,
			&g.N, &g.WaitN, &g.WaitSum, &g.WaitWithin, &g.TalkN, &g.TalkSum); err != nil {
			return nil, fmt.Errorf("store kpi groups: %w", err)
		}
		g.Start, g.HasAgent = time.UnixMilli(bucket*bucketMS), hasAgent == 1
		out = append(out, g)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store kpi groups: %w", err)
	}
	return out, nil
}

// KPIEvent is how many events of one kind, name and result the interactions of a line
// started in a period had: the CRM requests (ANI lookups, errors) and the security
// limits that stopped callers (flow.EventGuard).
type KPIEvent struct {
	Line   string
	Kind   flow.EventKind
	Name   string
	Result flow.Result
	N      int64
}

// KPIEvents counts the CRM and guard events of the interactions started in [from, to),
// by line, kind, name and result.
func (s *Store) KPIEvents(ctx context.Context, from, to time.Time) ([]KPIEvent, error) {
	rs, err := s.db.QueryContext(ctx, s.bind(`SELECT e.line, e.kind, e.name, e.result, COUNT(*) FROM events e
		WHERE e.started_at >= ? AND e.started_at < ? AND e.kind IN (?, ?)
		GROUP BY e.line, e.kind, e.name, e.result`), from.UnixMilli(), to.UnixMilli(), flow.EventCRM, flow.EventGuard)
	if err != nil {
		return nil, fmt.Errorf("store kpi events: %w", err)
	}
	defer rs.Close()
	var out []KPIEvent
	for rs.Next() {
		var e KPIEvent
		if err := rs.Scan(&e.Line, &e.Kind, &e.Name, &e.Result, &e.N); err != nil {
			return nil, fmt.Errorf("store kpi events: %w", err)
		}
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store kpi events: %w", err)
	}
	return out, nil
}

// AgentDay is what one agent did in a period: the calls they took, and of them the ones
// with a talk time (from ARI) and its sum in milliseconds.
type AgentDay struct {
	Agent                string
	Calls, TalkN, TalkMS int64
}

// AgentDays counts, per agent, the calls started in [from, to) that reached them.
func (s *Store) AgentDays(ctx context.Context, from, to time.Time) ([]AgentDay, error) {
	rs, err := s.db.QueryContext(ctx, s.bind(`SELECT i.agent, COUNT(*), COUNT(i.talk_ms), COALESCE(SUM(i.talk_ms), 0)
		FROM interactions i WHERE i.started_at >= ? AND i.started_at < ? AND i.agent <> '' GROUP BY i.agent ORDER BY i.agent`),
		from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store agent days: %w", err)
	}
	defer rs.Close()
	var out []AgentDay
	for rs.Next() {
		var a AgentDay
		if err := rs.Scan(&a.Agent, &a.Calls, &a.TalkN, &a.TalkMS); err != nil {
			return nil, fmt.Errorf("store agent days: %w", err)
		}
		out = append(out, a)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store agent days: %w", err)
	}
	return out, nil
}

// AgentQueues lists, per agent, the queues whose calls reached them among the calls
// started since since: the queues they are a member of, as far as the records tell.
// Agents who took calls without a queue route are listed with no queue.
func (s *Store) AgentQueues(ctx context.Context, since time.Time) (map[string][]string, error) {
	rs, err := s.db.QueryContext(ctx, s.bind(`SELECT DISTINCT i.agent, i.route FROM interactions i
		WHERE i.started_at >= ? AND i.agent <> '' ORDER BY i.agent, i.route`), since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store agent queues: %w", err)
	}
	defer rs.Close()
	out := map[string][]string{}
	for rs.Next() {
		var agent, route string
		if err := rs.Scan(&agent, &route); err != nil {
			return nil, fmt.Errorf("store agent queues: %w", err)
		}
		qs := out[agent]
		if q := flow.QueueOf(route); q != "" && !slices.Contains(qs, q) {
			qs = append(qs, q)
		}
		out[agent] = qs
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store agent queues: %w", err)
	}
	return out, nil
}
