package report

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
func outcomeHeader(o flow.Outcome, l Lang) string {
	if h, ok := outcomeHeaders[o]; ok {
		return l.tr(h)
	}
	return string(o)
}

// reasonWords are the reasons in words, in the order the reports show them.
var reasonWords = []struct {
	reason flow.Reason
	words  string
}{
	{flow.ReasonOK, "Verified"}, {flow.ReasonNotRequired, "Verification not required"}, {flow.ReasonOptedOut, "Opted out"},
	{flow.ReasonNotFound, "Customer not found"}, {flow.ReasonNoInput, "No input"}, {flow.ReasonVerifyFailed, "Verification failed"},
	{flow.ReasonLocked, "Locked out"}, {flow.ReasonBackendUnavailable, "CRM unavailable"}, {flow.ReasonHangup, "Caller hung up"},
}

// reasonText is a call's reason in words, with the tries it took where they tell:
// "Verification failed (3 tries)". A reason without words stays its code.
func reasonText(l Lang, r flow.Reason, identifyAttempts, verifyAttempts int) string {
	switch {
	case r == flow.ReasonVerifyFailed && verifyAttempts > 0:
		return l.trf("Verification failed (%d tries)", verifyAttempts)
	case r == flow.ReasonNotFound && identifyAttempts > 0:
		return l.trf("Customer not found (%d tries)", identifyAttempts)
	}
	for _, w := range reasonWords {
		if w.reason == r {
			return l.tr(w.words)
		}
	}
	return string(r)
}

// totalRow appends to t a row "Total" adding up every Int column of its rows, and
// marks it, when t has more than one row.
func totalRow(t *Table, l Lang) {
	if len(t.Rows) < 2 {
		return
	}
	total := make([]any, len(t.Columns))
	total[0] = l.tr("Total")
	for ci, c := range t.Columns {
		if c.Kind != Int {
			continue
		}
		var n int64
		for _, row := range t.Rows {
			n += row[ci].(int64)
		}
		total[ci] = n
	}
	t.Rows = append(t.Rows, total)
	t.TotalRow = true
}

// span is the columns from first to last.
func span(first, last int) []int {
	var s []int
	for i := first; i <= last; i++ {
		s = append(s, i)
	}
	return s
}

// outcomeTable has a row per key: the calls, a column per outcome in the order of
// flow.Outcomes() (adding up to the calls), the verified share, and apart the hang-ups
// (which are in their outcome too); and a total row under several. The columns of the
// outcomes are 2, 3, … (outcomeSeries).
func outcomeTable(c counter, keys []string, keyCol string, chart *Chart, l Lang) Table {
	cols := []Column{{Name: keyCol}, {Name: l.tr("Calls"), Kind: Int}}
	for _, o := range flow.Outcomes() {
		cols = append(cols, Column{Name: outcomeHeader(o, l), Kind: Int})
	}
	cols = append(cols, Column{Name: l.tr("Verified %"), Kind: Percent}, Column{Name: l.tr("Of which hung up"), Kind: Int, Apart: true})
	t := Table{Columns: cols, Chart: chart, Sums: []Sum{{Whole: 1, Parts: outcomeSeries()}},
		Note: l.tr("Calls = Verified + Identified only + Unidentified + Opted out + Errors. Of which hung up: callers who hung up during the ID&V; they count in their outcome too.")}
	row := func(key string, m map[string]int64) []any {
		vals := []any{key, m["calls"]}
		for _, o := range flow.Outcomes() {
			vals = append(vals, m[string(o)])
		}
		return append(vals, ratio(m[string(flow.OutcomeVerified)], m["calls"]), m["hangup"])
	}
	t.addRows(c, keys, row, l)
	return t
}

// addRows adds a row per key, made by row from the key's counts, and under several a
// total row made from their sums.
func (t *Table) addRows(c counter, keys []string, row func(string, map[string]int64) []any, l Lang) {
	total := map[string]int64{}
	for _, k := range keys {
		t.Rows = append(t.Rows, row(k, c[k]))
		for col, n := range c[k] {
			total[col] += n
		}
	}
	if len(keys) > 1 {
		t.Rows = append(t.Rows, row(l.tr("Total"), total))
		t.TotalRow = true
	}
}

// outcomeSeries are the columns of the outcomes in an outcomeTable, for a chart.
func outcomeSeries() []int { return span(2, 1+len(flow.Outcomes())) }

// days are the dates of the period's days in loc, first to last.
func days(f Filter, loc *time.Location) []string {
	var out []string
	last := f.To.Add(-time.Nanosecond).In(loc)
	for d := f.From.In(loc); ; d = d.AddDate(0, 0, 1) {
		day := d.Format("2006-01-02")
		out = append(out, day)
		if day >= last.Format("2006-01-02") || len(out) > 3700 {
			return out
		}
	}
}

func outcomes(_ context.Context, d *data) ([]Table, error) {
	loc, l := d.filter.loc(), d.lang
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
	// Every day of the period and every hour of the day has its row, calls or none.
	hours := make([]string, 24)
	for h := range hours {
		hours[h] = fmt.Sprintf("%02d:00", h)
	}
	stacked := &Chart{Title: l.tr("Outcomes"), Stacked: true, Series: outcomeSeries()}
	return []Table{
		outcomeTable(byLine, byLine.keys(), l.tr("Line"), nil, l),
		outcomeTable(byDay, days(d.filter, loc), l.tr("Day"), stacked, l),
		outcomeTable(byHour, hours, l.tr("Hour"), &Chart{Title: l.tr("Calls by hour"), Series: []int{1}}, l),
	}, nil
}

func methods(_ context.Context, d *data) ([]Table, error) {
	l := d.lang
	c := counter{}
	for _, r := range d.groups {
		c.add(r.Line, "calls", r.N)
		switch r.Method {
		case flow.MethodANI, flow.MethodDTMF:
			c.add(r.Line, "method_"+string(r.Method), r.N)
		default:
			c.add(r.Line, "method_NONE", r.N)
		}
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
	t := Table{Columns: []Column{{Name: l.tr("Line")}, {Name: l.tr("Calls"), Kind: Int}, {Name: l.tr("By ANI"), Kind: Int},
		{Name: l.tr("By DTMF"), Kind: Int}, {Name: l.tr("Not identified"), Kind: Int}, {Name: l.tr("ANI lookups"), Kind: Int, Apart: true},
		{Name: l.tr("ANI hit rate"), Kind: Percent}, {Name: l.tr("Of which withheld"), Kind: Int, Apart: true},
		{Name: l.tr("Withheld share"), Kind: Percent}, {Name: l.tr("Of which invalid"), Kind: Int, Apart: true}},
		Chart: &Chart{Title: l.tr("How callers were identified"), Stacked: true, Series: []int{2, 3, 4}},
		Sums:  []Sum{{Whole: 1, Parts: []int{2, 3, 4}}},
		Note: l.tr("Calls = By ANI + By DTMF + Not identified. ANI lookups: numbers looked up in the CRM. ANI hit rate: calls identified by their number out of numbers looked up. " +
			"Of which withheld / invalid: calls without a usable number, counted in the columns before too; withheld share: out of all calls.")}
	row := func(k string, m map[string]int64) []any {
		return []any{k, m["calls"], m["method_ANI"], m["method_DTMF"], m["method_NONE"], m["ani_lookups"],
			ratio(m["ani_hits"], m["ani_lookups"]), m["withheld"], ratio(m["withheld"], m["calls"]), m["invalid"]}
	}
	t.addRows(c, c.keys(), row, l)
	return []Table{t, idTypes(d), factorTable(d)}, nil
}

// idTypes is the methods report's calls by identifier type (IDV_ID_TYPE) per line: ANI
// first, the kinds typed, then those not identified; they add up to the calls.
func idTypes(d *data) Table {
	l := d.lang
	c := counter{}
	kinds := map[string]bool{}
	for _, r := range d.groups {
		c.add(r.Line, "calls", r.N)
		k := flow.IDType(r.IDType)
		switch {
		case r.Status == flow.StatusUnidentified:
			k = ""
		case k == "" && r.Method == flow.MethodANI: // recorded before identifier kinds
			k = flow.IDType(flow.KindANI)
		case k == "":
			k = flow.IDType(flow.KindCustomerID)
		}
		kinds[k] = true
		c.add(r.Line, "type_"+k, r.N)
	}
	delete(kinds, "")
	ani := flow.IDType(flow.KindANI)
	types := slices.SortedFunc(maps.Keys(kinds), func(a, b string) int { // ANI first
		switch {
		case a == b:
			return 0
		case a == ani:
			return -1
		case b == ani:
			return 1
		}
		return strings.Compare(a, b)
	})
	t := Table{Columns: []Column{{Name: l.tr("Line")}, {Name: l.tr("Calls"), Kind: Int}},
		Note: l.tr("How callers were identified, as IDV_ID_TYPE says: ANI (their number) or the kind of identifier they typed. They add up to the calls.")}
	sum := Sum{Whole: 1}
	for _, k := range append(types, "") {
		name := k
		if k == "" {
			name = l.tr("Not identified")
		}
		sum.Parts = append(sum.Parts, len(t.Columns))
		t.Columns = append(t.Columns, Column{Name: name, Kind: Int})
	}
	t.Sums = []Sum{sum}
	row := func(name string, m map[string]int64) []any {
		out := []any{name, m["calls"]}
		for _, k := range append(types, "") {
			out = append(out, m["type_"+k])
		}
		return out
	}
	t.addRows(c, c.keys(), row, l)
	return t
}

// factorTable is the methods report's verification factors: how often each was asked
// and passed. A call asked several factors counts in each row, so the rows have no total.
func factorTable(d *data) Table {
	l := d.lang
	asked, passed := map[string]int64{}, map[string]int64{}
	for _, r := range d.groups {
		for _, f := range strings.Split(r.FactorsAsked, ",") {
			if f != "" {
				asked[strings.ToUpper(f)] += r.N
			}
		}
		for _, f := range strings.Split(r.FactorsPassed, ",") {
			if f != "" {
				passed[strings.ToUpper(f)] += r.N
			}
		}
	}
	t := Table{Columns: []Column{{Name: l.tr("Factor")}, {Name: l.tr("Asked"), Kind: Int}, {Name: l.tr("Passed"), Kind: Int},
		{Name: l.tr("Not passed"), Kind: Int}, {Name: l.tr("Pass rate"), Kind: Percent}},
		Sums: []Sum{{Whole: 1, Parts: []int{2, 3}}},
		Note: l.tr("Each verification factor (IDV_FACTORS): the calls that were asked it, passed it or not. A call asked several factors counts in each row.")}
	for _, f := range slices.Sorted(maps.Keys(asked)) {
		t.Rows = append(t.Rows, []any{f, asked[f], passed[f], asked[f] - passed[f], ratio(passed[f], asked[f])})
	}
	return t
}

// failureReasons are the reasons the failure chart stacks.
var failureReasons = []flow.Reason{flow.ReasonNotFound, flow.ReasonNoInput, flow.ReasonVerifyFailed, flow.ReasonLocked,
	flow.ReasonBackendUnavailable, flow.ReasonHangup, flow.ReasonOptedOut}

func attempts(_ context.Context, d *data) ([]Table, error) {
	l := d.lang
	ident, verify := map[int]int64{}, map[int]int64{}
	reasons := counter{}
	maxAttempts := 0
	for _, r := range d.groups {
		ident[r.IdentifyAttempts] += r.N
		verify[r.VerifyAttempts] += r.N
		maxAttempts = max(maxAttempts, r.IdentifyAttempts, r.VerifyAttempts)
		reason := "other"
		for _, w := range reasonWords {
			if w.reason == r.Reason {
				reason = string(r.Reason)
			}
		}
		reasons.add(r.Line, reason, r.N)
		reasons.add(r.Line, "calls", r.N)
	}
	dist := Table{Columns: []Column{{Name: l.tr("Attempts")}, {Name: l.tr("Identify"), Kind: Int}, {Name: l.tr("Verify"), Kind: Int}},
		Chart: &Chart{Title: l.tr("Attempts used"), Series: []int{1, 2}}, Note: l.tr("Each column adds up to the calls.")}
	for n := 0; n <= maxAttempts; n++ {
		dist.Rows = append(dist.Rows, []any{fmt.Sprint(n), ident[n], verify[n]})
	}
	if len(d.groups) > 0 {
		totalRow(&dist, l)
	}
	cols := []Column{{Name: l.tr("Line")}, {Name: l.tr("Calls"), Kind: Int}}
	var series []int
	for _, w := range reasonWords {
		if slices.Contains(failureReasons, w.reason) {
			series = append(series, len(cols))
		}
		cols = append(cols, Column{Name: l.tr(w.words), Kind: Int, Code: string(w.reason)})
	}
	cols = append(cols, Column{Name: l.tr("Other"), Kind: Int})
	rt := Table{Columns: cols, Chart: &Chart{Title: l.tr("Failure reasons"), Stacked: true, Series: series},
		Sums: []Sum{{Whole: 1, Parts: span(2, len(cols)-1)}},
		Note: l.tr("Calls = the reasons' columns: the reason each call ended with (IDV_REASON).")}
	for _, k := range reasons.keys() {
		vals := []any{k, reasons[k]["calls"]}
		for _, w := range reasonWords {
			vals = append(vals, reasons[k][string(w.reason)])
		}
		rt.Rows = append(rt.Rows, append(vals, reasons[k]["other"]))
	}
	totalRow(&rt, l)
	return []Table{dist, rt}, nil
}

func containment(_ context.Context, d *data) ([]Table, error) {
	l := d.lang
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
	t := Table{Columns: []Column{{Name: l.tr("Line")}, {Name: l.tr("Calls"), Kind: Int}, {Name: l.tr("Self-service"), Kind: Int},
		{Name: l.tr("To agents"), Kind: Int}, {Name: l.tr("Hung up in the IVR"), Kind: Int}, {Name: l.tr("Containment"), Kind: Percent}},
		Chart: &Chart{Title: l.tr("Where calls went"), Stacked: true, Series: []int{2, 3, 4}},
		Sums:  []Sum{{Whole: 1, Parts: []int{2, 3, 4}}},
		Note:  l.tr("Calls = Self-service + To agents + Hung up in the IVR. Self-service: routed to the dialplan (goto or continue) rather than to a queue. Containment: self-service out of all calls.")}
	var tc, ts int64
	for _, k := range c.keys() {
		m := c[k]
		t.Rows = append(t.Rows, []any{k, m["calls"], m["self"], m["agents"], m["ivr_hangup"], ratio(m["self"], m["calls"])})
		tc, ts = tc+m["calls"], ts+m["self"]
	}
	totalRow(&t, l)
	if t.TotalRow {
		t.Rows[len(t.Rows)-1][5] = ratio(ts, tc)
	}
	return []Table{t}, nil
}

func backend(_ context.Context, d *data) ([]Table, error) {
	l := d.lang
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
	t := Table{Columns: []Column{{Name: l.tr("Endpoint")}, {Name: l.tr("Calls"), Kind: Int}, {Name: l.tr("Answered"), Kind: Int},
		{Name: l.tr("Errors"), Kind: Int}, {Name: l.tr("Error rate"), Kind: Percent},
		{Name: l.tr("p50 ms"), Kind: Millis}, {Name: l.tr("p95 ms"), Kind: Millis}, {Name: l.tr("p99 ms"), Kind: Millis}, {Name: l.tr("Max ms"), Kind: Millis}},
		Chart: &Chart{Title: l.tr("Latency (ms)"), Series: []int{5, 6, 7}},
		Sums:  []Sum{{Whole: 1, Parts: []int{2, 3}}},
		Note:  l.tr("Calls = Answered + Errors. Latency in whole milliseconds, from idv's side: the request and the answer.")}
	for _, k := range c.keys() {
		h := lat[k]
		t.Rows = append(t.Rows, []any{k, c[k]["calls"], c[k]["ok"], c[k]["errors"], ratio(c[k]["errors"], c[k]["calls"]),
			h.percentile(50), h.percentile(95), h.percentile(99), h.percentile(100)})
	}
	kindList := make([]string, 0, len(kinds))
	for k := range kinds {
		kindList = append(kindList, k)
	}
	sort.Strings(kindList)
	et := Table{Columns: []Column{{Name: l.tr("Endpoint")}, {Name: l.tr("Errors"), Kind: Int}},
		Sums: []Sum{{Whole: 1, Parts: span(2, 1+len(kindList))}}, Note: l.tr("Errors = the kinds' columns.")}
	for _, k := range kindList {
		et.Columns = append(et.Columns, Column{Name: k, Kind: Int})
	}
	for _, k := range c.keys() {
		vals := []any{k, c[k]["errors"]}
		for _, kind := range kindList {
			vals = append(vals, c[k]["err:"+kind])
		}
		et.Rows = append(et.Rows, vals)
	}
	return []Table{t, et}, nil
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
	l := d.lang
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
			q.add(name, "unknown", r.N)
		case flow.QueueAnswered, flow.QueueTransferred: // an agent answered it, then maybe transferred it
			q.add(name, "answered", r.N)
		case flow.QueueAbandoned:
			q.add(name, "abandoned", r.N)
		default:
			q.add(name, "left", r.N)
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
			a.add(r.Agent, "talks", r.TalkN)
		}
	}
	// avg is the mean in seconds of the milliseconds summed in m[sum] over m[n]; nil
	// ("—") when none was measured.
	avg := func(m map[string]int64, sum, n string) any {
		if m[n] == 0 {
			return nil
		}
		return float64(m[sum]) / float64(m[n]) / 1000
	}
	qt := Table{Columns: []Column{{Name: l.tr("Queue")}, {Name: l.tr("Offered"), Kind: Int}, {Name: l.tr("Answered"), Kind: Int},
		{Name: l.tr("Abandoned"), Kind: Int}, {Name: l.tr("Timed out / left"), Kind: Int}, {Name: l.tr("Ending not known"), Kind: Int},
		{Name: l.tr("Avg wait"), Kind: Seconds}, {Name: l.tr("Avg talk"), Kind: Seconds}},
		Chart: &Chart{Title: l.tr("Queue activity"), Series: []int{1, 2, 3}},
		Sums:  []Sum{{Whole: 1, Parts: []int{2, 3, 4, 5}}},
		Note:  l.tr("Offered = Answered + Abandoned + Timed out / left + Ending not known. Wait and talk as m:ss (h:mm:ss from an hour on).")}
	for _, k := range q.keys() {
		m := q[k]
		qt.Rows = append(qt.Rows, []any{k, m["offered"], m["answered"], m["abandoned"], m["left"], m["unknown"],
			avg(m, "wait_ms", "waits"), avg(m, "talk_ms", "talks")})
	}
	if !known {
		qt.Note += " " + l.tr("Wait and talk times come from ARI, or without it from the queue member gosub's /agent; none are recorded for this period (—).")
	}
	at := Table{Columns: []Column{{Name: l.tr("Agent")}, {Name: l.tr("Answered"), Kind: Int}, {Name: l.tr("Talk time"), Kind: Seconds},
		{Name: l.tr("Avg talk"), Kind: Seconds}}}
	for _, k := range a.keys() {
		m := a[k]
		var talk any // nil ("—") when no talk time was measured
		if m["talks"] > 0 {
			talk = float64(m["talk_ms"]) / 1000
		}
		at.Rows = append(at.Rows, []any{k, m["answered"], talk, avg(m, "talk_ms", "talks")})
	}
	return []Table{qt, at}, nil
}

// DetailLimit caps the detail report's rows.
const DetailLimit = 100000

func detail(_ context.Context, d *data) ([]Table, error) {
	loc, l := d.filter.loc(), d.lang
	t := Table{Columns: []Column{{Name: l.tr("Interaction")}, {Name: l.tr("Started"), Kind: DateTime}, {Name: l.tr("Line")},
		{Name: l.tr("Caller")}, {Name: l.tr("Status")}, {Name: l.tr("Status code"), DataOnly: true}, {Name: l.tr("Reason")},
		{Name: l.tr("Reason code"), DataOnly: true}, {Name: l.tr("Method")}, {Name: l.tr("Customer")}, {Name: l.tr("Name")},
		{Name: l.tr("Attempts")}, {Name: l.tr("Route")}, {Name: l.tr("Queue status")}, {Name: l.tr("Agent")}, {Name: l.tr("Wrap-up")},
		{Name: l.tr("Duration"), Kind: Seconds}, {Name: l.tr("Timeline"), Below: true}}}
	if d.total > int64(len(d.rows)) {
		t.Note = l.trf("First %d of %d interactions; narrow the filter for the rest.", len(d.rows), d.total)
	}
	for _, r := range d.rows {
		var dur any // nil ("—") for a call still in progress
		if !r.Ended.IsZero() {
			dur = r.Ended.Sub(r.Started).Seconds()
		}
		t.Rows = append(t.Rows, []any{r.ID, r.Started.In(loc), r.Line, r.ANI, l.tr(r.Status.DisplayText()), string(r.Status),
			reasonText(l, r.Reason, r.IdentifyAttempts, r.VerifyAttempts), string(r.Reason), string(r.Method),
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
