package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// Query selects interactions: for the interactions view (List, Search) and for reports
// (ReportGroups, EventCounts, DetailRows). Empty lists select everything.
type Query struct {
	From, To                                            time.Time // [From, To)
	Lines, Statuses, Agents, Queues, Languages, WrapUps []string
	// Reasons and Methods select by IDV_REASON and IDV_METHOD (the interactions view).
	Reasons, Methods []string
	// Text finds calls by interaction id, customer id, a part of the customer's name, or
	// (three digits or more) the last digits of the calling number that the masking left
	// visible. "" finds everything.
	Text string
	// Limit bounds the rows of List and Search (500 when 0, at most 5000) and of
	// DetailRows (none when 0); Offset skips the first rows of Search.
	Limit, Offset int
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
	in("i.reason", q.Reasons)
	in("i.method", q.Methods)
	if len(q.Queues) > 0 {
		var or []string
		for _, qn := range q.Queues {
			// The queue alone, or with options after a comma.
			or = append(or, "i.route = ? OR i.route LIKE ? ESCAPE '!'")
			args = append(args, "queue:"+qn, "queue:"+likeLiteral.Replace(qn)+",%")
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if text := strings.TrimSpace(q.Text); text != "" {
		or := []string{"i.id = ?", "i.customer_id = ?", "LOWER(i.customer_name) LIKE ? ESCAPE '!'"}
		args = append(args, strings.ToUpper(text), text, "%"+likeLiteral.Replace(strings.ToLower(text))+"%")
		if digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			if r == ' ' || r == '-' || r == '+' || r == '(' || r == ')' {
				return -1
			}
			return 'x'
		}, text); len(digits) >= 3 && !strings.Contains(digits, "x") {
			// The stored numbers are masked (privacy.ani_visible_digits): only their visible
			// last digits can match.
			or = append(or, "i.ani LIKE ?", "i.ani_e164 LIKE ?")
			args = append(args, "%"+digits, "%"+digits)
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
	IDType       string    `json:"id_type"`
	CustomerID   string    `json:"customer_id"`
	CustomerName string    `json:"customer_name"`
	// ANI is the calling number as stored: masked per privacy.ani_visible_digits.
	ANI         string `json:"ani"`
	Route       string `json:"route"`
	QueueResult string `json:"queue_result"`
	Agent       string `json:"agent"`
	WrapUp      string `json:"wrapup"`
	// DurationMS is from the start to the end of the call (0 while in progress);
	// WaitMS and TalkMS are the queue's, once ARI reported them.
	DurationMS int64  `json:"duration_ms"`
	WaitMS     *int64 `json:"wait_ms,omitempty"`
	TalkMS     *int64 `json:"talk_ms,omitempty"`
	// InProgress is a call not over yet: in the queue or with an agent (its record was
	// written before the queue and has no end yet).
	InProgress bool `json:"in_progress"`
}

// Page is one page of Search: the rows and how many match in all.
type Page struct {
	Total  int       `json:"total"`
	Offset int       `json:"offset"`
	Limit  int       `json:"limit"`
	Rows   []Summary `json:"rows"`
}

// limit is q.Limit within its bounds.
func (q Query) limit() int {
	if q.Limit <= 0 || q.Limit > 5000 {
		return 500
	}
	return q.Limit
}

// List returns the newest interactions matching q (q.Limit of them at most).
func (s *Store) List(ctx context.Context, q Query) ([]Summary, error) {
	q.Offset = 0
	return s.summaries(ctx, q)
}

// Search returns one page of the interactions matching q, newest first, and how many
// match in all.
func (s *Store) Search(ctx context.Context, q Query) (Page, error) {
	where, args := q.where()
	p := Page{Offset: max(q.Offset, 0), Limit: q.limit()}
	if err := s.db.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM interactions i WHERE `+where), args...).Scan(&p.Total); err != nil {
		return p, err
	}
	rows, err := s.summaries(ctx, q)
	p.Rows = rows
	return p, err
}

func (s *Store) summaries(ctx context.Context, q Query) ([]Summary, error) {
	where, args := q.where()
	rows, err := s.db.QueryContext(ctx, s.bind(`SELECT id, line, started_at, ended_at, status, reason, method, id_type,
		customer_id, customer_name, ani, route, queue_result, agent, wrapup, wait_ms, talk_ms FROM interactions i WHERE `+where+
		` ORDER BY started_at DESC, id DESC LIMIT `+strconv.Itoa(q.limit())+` OFFSET `+strconv.Itoa(max(q.Offset, 0))), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var x Summary
		var started int64
		var ended, wait, talk sql.NullInt64
		if err := rows.Scan(&x.ID, &x.Line, &started, &ended, &x.Status, &x.Reason, &x.Method, &x.IDType, &x.CustomerID,
			&x.CustomerName, &x.ANI, &x.Route, &x.QueueResult, &x.Agent, &x.WrapUp, &wait, &talk); err != nil {
			return nil, err
		}
		x.Started = time.UnixMilli(started)
		if ended.Valid {
			x.DurationMS = ended.Int64 - started
		} else {
			x.InProgress = true
		}
		if wait.Valid {
			x.WaitMS = &wait.Int64
		}
		if talk.Valid {
			x.TalkMS = &talk.Int64
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
