package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
)

// outcome buckets an interaction for the outcomes report, as the live tiles do.
func outcome(r store.ReportGroup) string { return string(flow.OutcomeOf(r.Status, r.Reason)) }

// outcomeHeaders are the outcome tables' column headers, one per flow.Outcomes().
var outcomeHeaders = map[flow.Outcome]string{
	flow.OutcomeVerified:     "Verified",
	flow.OutcomeIdentified:   "Identified only",
	flow.OutcomeUnidentified: "Unidentified",
	flow.OutcomeOptedOut:     "Opted out",
	flow.OutcomeError:        "Errors",
}

// outcomeHeader is the column header of an outcome; one without a header of its own
// still gets its column, under its name.
func outcomeHeader(o flow.Outcome) string {
	if h, ok := outcomeHeaders[o]; ok {
		return h
	}
	return string(o)
}

// outcomeTable has a row per key: the calls, a column per outcome in the order of
// flow.Outcomes(), the hang-ups and the verified share; and a total row under several.
// The columns of the outcomes are 2, 3, … (outcomeSeries).
func outcomeTable(title string, c counter, keys []string, keyCol string, chart *Chart) Table {
	cols := []Column{{keyCol, Text}, {"Calls", Int}}
	for _, o := range flow.Outcomes() {
		cols = append(cols, Column{outcomeHeader(o), Int})
	}
	t := Table{Title: title, Columns: append(cols, Column{"Hang-ups", Int}, Column{"Verified %", Percent}), Chart: chart}
	row := func(key string, m map[string]int64) []any {
		vals := []any{key, m["calls"]}
		for _, o := range flow.Outcomes() {
			vals = append(vals, m[string(o)])
		}
		return append(vals, m["hangup"], ratio(m[string(flow.OutcomeVerified)], m["calls"]))
	}
	total := map[string]int64{}
	for _, k := range keys {
		t.Rows = append(t.Rows, row(k, c[k]))
		for col, n := range c[k] {
			total[col] += n
		}
	}
	if len(keys) > 1 {
		t.Rows = append(t.Rows, row("Total", total))
	}
	return t
}

// outcomeSeries are the columns of the outcomes in an outcomeTable, for a chart.
func outcomeSeries() []int {
	var s []int
	for i := range flow.Outcomes() {
		s = append(s, 2+i)
	}
	return s
}

func outcomes(_ context.Context, d *data) ([]Table, error) {
	loc := d.filter.loc()
	byLine, byDay, byHour := counter{}, counter{}, counter{}
	for _, r := range d.groups {
		o := outcome(r)
		at := r.Start.In(loc)
		day, hour := at.Format("2006-01-02"), fmt.Sprintf("%02d:00", at.Hour())
		for _, c := range []struct {
			c counter
			k string
		}{{byLine, r.Line}, {byDay, day}, {byHour, hour}} {
			c.c.add(c.k, "calls", r.N)
			c.c.add(c.k, o, r.N)
			if r.Reason == flow.ReasonHangup {
				c.c.add(c.k, "hangup", r.N)
			}
		}
	}
	stacked := &Chart{Title: "Outcomes", Stacked: true, Series: outcomeSeries()}
	return []Table{
		outcomeTable("By service line", byLine, byLine.keys(), "Line", nil),
		outcomeTable("By day", byDay, byDay.keys(), "Day", stacked),
		outcomeTable("By hour of day", byHour, byHour.keys(), "Hour", &Chart{Title: "Calls by hour", Series: []int{1}}),
	}, nil
}

func methods(_ context.Context, d *data) ([]Table, error) {
	c := counter{}
	for _, r := range d.groups {
		c.add(r.Line, "calls", r.N)
		c.add(r.Line, "method_"+string(r.Method), r.N)
	}
	for _, ev := range d.events {
		switch {
		case ev.Kind == flow.EventCRM && ev.Name == flow.OpByPhone:
			c.add(ev.Line, "ani_lookups", ev.N)
			if ev.Result == flow.ResultFound {
				c.add(ev.Line, "ani_hits", ev.N)
			}
		case ev.Kind == flow.EventANI && ev.Result == flow.ResultWithheld:
			c.add(ev.Line, "withheld", ev.N)
		case ev.Kind == flow.EventANI && ev.Result == flow.ResultInvalid:
			c.add(ev.Line, "invalid", ev.N)
		}
	}
	t := Table{Title: "By service line", Columns: []Column{{"Line", Text}, {"Calls", Int}, {"By ANI", Int}, {"By DTMF", Int},
		{"Not identified", Int}, {"ANI lookups", Int}, {"ANI hit rate", Percent}, {"Withheld numbers", Int},
		{"Withheld share", Percent}, {"Invalid numbers", Int}},
		Chart: &Chart{Title: "How callers were identified", Stacked: true, Series: []int{2, 3, 4}}}
	for _, k := range c.keys() {
		m := c[k]
		t.Rows = append(t.Rows, []any{k, m["calls"], m["method_ANI"], m["method_DTMF"], m["method_NONE"], m["ani_lookups"],
			ratio(m["ani_hits"], m["ani_lookups"]), m["withheld"], ratio(m["withheld"], m["calls"]), m["invalid"]})
	}
	t.Note = "ANI hit rate: calls identified by their number out of numbers looked up. Withheld share: out of all calls."
	return []Table{t}, nil
}

var failureReasons = []flow.Reason{flow.ReasonNotFound, flow.ReasonNoInput, flow.ReasonVerifyFailed, flow.ReasonLocked,
	flow.ReasonBackendUnavailable, flow.ReasonHangup, flow.ReasonOptedOut}

func attempts(_ context.Context, d *data) ([]Table, error) {
	ident, verify := map[int]int64{}, map[int]int64{}
	reasons := counter{}
	maxAttempts := 0
	for _, r := range d.groups {
		ident[r.IdentifyAttempts] += r.N
		verify[r.VerifyAttempts] += r.N
		maxAttempts = max(maxAttempts, r.IdentifyAttempts, r.VerifyAttempts)
		reasons.add(r.Line, string(r.Reason), r.N)
		reasons.add(r.Line, "calls", r.N)
	}
	dist := Table{Title: "Attempts used per call", Columns: []Column{{"Attempts", Text}, {"Identify", Int}, {"Verify", Int}},
		Chart: &Chart{Title: "Attempts used", Series: []int{1, 2}}}
	for n := 0; n <= maxAttempts; n++ {
		dist.Rows = append(dist.Rows, []any{fmt.Sprint(n), ident[n], verify[n]})
	}
	cols := []Column{{"Line", Text}, {"Calls", Int}}
	for _, r := range failureReasons {
		cols = append(cols, Column{string(r), Int})
	}
	rt := Table{Title: "Failure reasons by line", Columns: cols, Chart: &Chart{Title: "Failure reasons", Stacked: true, Series: []int{2, 3, 4, 5, 6, 7, 8}}}
	for _, k := range reasons.keys() {
		vals := []any{k, reasons[k]["calls"]}
		for _, r := range failureReasons {
			vals = append(vals, reasons[k][string(r)])
		}
		rt.Rows = append(rt.Rows, vals)
	}
	return []Table{dist, rt}, nil
}

func containment(_ context.Context, d *data) ([]Table, error) {
	c := counter{}
	for _, r := range d.groups {
		c.add(r.Line, "calls", r.N)
		switch {
		case r.Reason == flow.ReasonHangup && r.Route == "":
			c.add(r.Line, "ivr_hangup", r.N)
		case flow.QueueOf(r.Route) != "":
			c.add(r.Line, "agents", r.N)
		default:
			c.add(r.Line, "self", r.N)
		}
	}
	t := Table{Title: "Self-service vs agents", Columns: []Column{{"Line", Text}, {"Calls", Int}, {"Self-service", Int},
		{"To agents", Int}, {"Hung up in the IVR", Int}, {"Containment", Percent}},
		Chart: &Chart{Title: "Where calls went", Stacked: true, Series: []int{2, 3, 4}},
		Note:  "Self-service: routed to the dialplan (goto or continue) rather than to a queue. Containment: self-service out of all calls."}
	var tc, ts, ta, th int64
	for _, k := range c.keys() {
		m := c[k]
		t.Rows = append(t.Rows, []any{k, m["calls"], m["self"], m["agents"], m["ivr_hangup"], ratio(m["self"], m["calls"])})
		tc, ts, ta, th = tc+m["calls"], ts+m["self"], ta+m["agents"], th+m["ivr_hangup"]
	}
	if len(c) > 1 {
		t.Rows = append(t.Rows, []any{"Total", tc, ts, ta, th, ratio(ts, tc)})
	}
	return []Table{t}, nil
}

func backend(_ context.Context, d *data) ([]Table, error) {
	lat := map[string]histogram{}
	c := counter{}
	kinds := map[string]bool{}
	for _, ev := range d.events {
		if ev.Kind != flow.EventCRM {
			continue
		}
		c.add(ev.Name, "calls", ev.N)
		switch {
		case ev.Result.IsAnswer():
			c.add(ev.Name, "ok", ev.N)
		default:
			c.add(ev.Name, "err:"+string(ev.Result), ev.N)
			c.add(ev.Name, "errors", ev.N)
			kinds[string(ev.Result)] = true
		}
		if ev.Result == flow.ResultBudgetExhausted && ev.LatencyMS == 0 {
			continue // refused before a request was sent
		}
		if lat[ev.Name] == nil {
			lat[ev.Name] = histogram{}
		}
		lat[ev.Name][ev.LatencyMS] += ev.N
	}
	t := Table{Title: "Per endpoint", Columns: []Column{{"Endpoint", Text}, {"Calls", Int}, {"Errors", Int}, {"Error rate", Percent},
		{"p50 ms", Millis}, {"p95 ms", Millis}, {"p99 ms", Millis}, {"Max ms", Millis}},
		Chart: &Chart{Title: "Latency (ms)", Series: []int{4, 5, 6}},
		Note:  "Latency in whole milliseconds, from idv's side: the request and the answer."}
	for _, k := range c.keys() {
		h := lat[k]
		t.Rows = append(t.Rows, []any{k, c[k]["calls"], c[k]["errors"], ratio(c[k]["errors"], c[k]["calls"]),
			h.percentile(50), h.percentile(95), h.percentile(99), h.percentile(100)})
	}
	kindList := make([]string, 0, len(kinds))
	for k := range kinds {
		kindList = append(kindList, k)
	}
	sort.Strings(kindList)
	et := Table{Title: "Errors by kind", Columns: []Column{{"Endpoint", Text}}}
	for _, k := range kindList {
		et.Columns = append(et.Columns, Column{k, Int})
	}
	for _, k := range c.keys() {
		vals := []any{k}
		for _, kind := range kindList {
			vals = append(vals, c[k]["err:"+kind])
		}
		et.Rows = append(et.Rows, vals)
	}
	tables := []Table{t}
	if len(kindList) > 0 {
		tables = append(tables, et)
	}
	return tables, nil
}

// queueResult is how a queued call ended: the result the ARI observer reported, as the
// interaction view shows it. When ARI never reported the end, a call it saw an agent
// answer is answered; otherwise QUEUESTATUS tells: a status other than CONTINUE is the
// call leaving the queue unanswered (TIMEOUT, FULL, …), and none (the caller hung up in
// the queue, or idv never saw Queue() return) is "" — offered, ending unknown.
func queueResult(r store.ReportGroup) flow.QueueResult {
	switch {
	case r.QueueResult != "":
		return r.QueueResult
	case r.Agent != "":
		return flow.QueueAnswered
	case r.QueueStatus != "" && r.QueueStatus != "CONTINUE":
		return flow.QueueLeft(r.QueueStatus)
	}
	return ""
}

func queues(_ context.Context, d *data) ([]Table, error) {
	q, a := counter{}, counter{}
	known := false
	for _, r := range d.groups {
		name := flow.QueueOf(r.Route)
		if name == "" {
			continue
		}
		q.add(name, "offered", r.N)
		switch res := queueResult(r); res {
		case "": // offered only: how it ended is not known
		case flow.QueueAnswered, flow.QueueTransferred: // an agent answered it, then maybe transferred it
			q.add(name, "answered", r.N)
		case flow.QueueAbandoned:
			q.add(name, "abandoned", r.N)
		default:
			q.add(name, "left:"+string(res), r.N)
		}
		if r.WaitN > 0 {
			known = true
			q.add(name, "wait_ms", r.WaitSum)
			q.add(name, "waits", r.WaitN)
		}
		if r.TalkN > 0 {
			q.add(name, "talk_ms", r.TalkSum)
			q.add(name, "talks", r.TalkN)
		}
		if r.Agent != "" {
			a.add(r.Agent, "answered", r.N)
			a.add(r.Agent, "talk_ms", r.TalkSum)
		}
	}
	avg := func(m map[string]int64, sum, n string) float64 {
		if m[n] == 0 {
			return 0
		}
		return float64(m[sum]) / float64(m[n])
	}
	qt := Table{Title: "Per queue", Columns: []Column{{"Queue", Text}, {"Offered", Int}, {"Answered", Int}, {"Abandoned", Int},
		{"Timed out / left", Int}, {"Avg wait ms", Millis}, {"Avg talk ms", Millis}},
		Chart: &Chart{Title: "Queue activity", Series: []int{1, 2, 3}}}
	for _, k := range q.keys() {
		m := q[k]
		var left int64
		for key, v := range m {
			if strings.HasPrefix(key, "left:") {
				left += v
			}
		}
		qt.Rows = append(qt.Rows, []any{k, m["offered"], m["answered"], m["abandoned"], left, avg(m, "wait_ms", "waits"), avg(m, "talk_ms", "talks")})
	}
	if !known {
		qt.Note = "Wait, talk and agent figures come from the ARI observer; none are recorded for this period."
	}
	at := Table{Title: "Per agent", Columns: []Column{{"Agent", Text}, {"Answered", Int}, {"Talk time ms", Millis}, {"Avg talk ms", Millis}}}
	for _, k := range a.keys() {
		m := a[k]
		at.Rows = append(at.Rows, []any{k, m["answered"], float64(m["talk_ms"]), avg(m, "talk_ms", "answered")})
	}
	return []Table{qt, at}, nil
}

// DetailLimit caps the detail report's rows.
const DetailLimit = 100000

func detail(_ context.Context, d *data) ([]Table, error) {
	loc := d.filter.loc()
	t := Table{Title: "Interactions", Columns: []Column{{"Interaction", Text}, {"Started", DateTime}, {"Line", Text},
		{"Caller", Text}, {"Status", Text}, {"Reason", Text}, {"Method", Text}, {"Customer", Text}, {"Name", Text},
		{"Attempts", Text}, {"Route", Text}, {"Queue status", Text}, {"Agent", Text}, {"Wrap-up", Text},
		{"Duration ms", Millis}, {"Timeline", Text}}}
	if d.total > int64(len(d.rows)) {
		t.Note = fmt.Sprintf("First %d of %d interactions; narrow the filter for the rest.", len(d.rows), d.total)
	}
	for _, r := range d.rows {
		var dur float64
		if !r.Ended.IsZero() {
			dur = float64(r.Ended.Sub(r.Started).Milliseconds())
		}
		t.Rows = append(t.Rows, []any{r.ID, r.Started.In(loc), r.Line, r.ANI, string(r.Status), string(r.Reason), string(r.Method),
			r.CustomerID, r.CustomerName, fmt.Sprintf("%d/%d", r.IdentifyAttempts, r.VerifyAttempts), r.Route, r.QueueStatus,
			r.Agent, r.WrapUp, dur, timeline(r)})
	}
	return []Table{t}, nil
}

// timeline is an interaction's steps in a line: "+0.0s prompt idv/welcome; +0.4s crm by_phone found 12ms; …".
func timeline(r store.DetailRow) string {
	var b strings.Builder
	for i, ev := range r.Events {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "+%.1fs %s", ev.At.Sub(r.Started).Seconds(), ev.Kind)
		for _, s := range []string{ev.Name, string(ev.Result)} {
			if s != "" {
				b.WriteString(" " + s)
			}
		}
		if ev.Kind == flow.EventDigits {
			fmt.Fprintf(&b, " (%d)", ev.Count)
		}
		if ev.Latency > 0 {
			fmt.Fprintf(&b, " %dms", ev.Latency.Round(time.Millisecond).Milliseconds())
		}
	}
	return b.String()
}
