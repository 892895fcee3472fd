package report_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
)

// fakeSource is a report.Source holding its answers, and the queries it was asked.
type fakeSource struct {
	groups   []store.ReportGroup
	events   []store.EventCount
	rows     []store.DetailRow
	total    int64
	queries  []store.Query
	recorded map[store.Field][]string
}

func (f *fakeSource) ReportGroups(_ context.Context, q store.Query) ([]store.ReportGroup, error) {
	f.queries = append(f.queries, q)
	return f.groups, nil
}

func (f *fakeSource) EventCounts(_ context.Context, q store.Query) ([]store.EventCount, error) {
	f.queries = append(f.queries, q)
	return f.events, nil
}

func (f *fakeSource) DetailRows(_ context.Context, q store.Query) ([]store.DetailRow, int64, error) {
	f.queries = append(f.queries, q)
	return f.rows, f.total, nil
}

func (f *fakeSource) RecordedValues(_ context.Context, field store.Field) ([]string, error) {
	return f.recorded[field], nil
}

// TestBucketsFallInTheReportsTimeZone: a bucket is placed by the report's time zone, not
// the database's: 23:45 UTC on 1 November is 08:45 on 2 November in Tokyo.
func TestBucketsFallInTheReportsTimeZone(t *testing.T) {
	start := time.Date(2026, 11, 1, 23, 45, 0, 0, time.UTC)
	src := &fakeSource{groups: []store.ReportGroup{
		{Start: start, Line: "retail", Status: flow.StatusVerified, Reason: flow.ReasonOK, N: 3},
		{Start: start.Add(-store.ReportBucket), Line: "retail", Status: flow.StatusUnidentified, Reason: flow.ReasonHangup, N: 2},
	}}
	def, _ := report.Find("outcomes")
	f := report.Filter{From: time.Date(2026, 11, 1, 0, 0, 0, 0, tokyo), To: time.Date(2026, 11, 3, 0, 0, 0, 0, tokyo),
		Location: tokyo, Lines: []string{"retail"}}
	r, err := def.Run(context.Background(), src, f, time.Now(), report.English)
	if err != nil {
		t.Fatal(err)
	}
	// Every day of the period and every hour has its row; the calls are on 2 November at 08:00.
	days, hours := r.Tables[1].Rows, r.Tables[2].Rows
	if len(days) != 3 || days[0][0] != "2026-11-01" || days[0][1] != int64(0) || days[1][0] != "2026-11-02" ||
		days[1][1] != int64(5) || days[1][2] != int64(3) || days[1][8] != int64(2) || days[2][0] != "Total" {
		t.Errorf("by day: %v, want 2026-11-01 empty; 2026-11-02, 5 calls, 3 verified, 2 hang-ups; a total", days)
	}
	if len(hours) != 25 || hours[0][0] != "00:00" || hours[23][0] != "23:00" || hours[8][0] != "08:00" || hours[8][1] != int64(5) {
		t.Errorf("by hour: %v, want 00:00 to 23:00 with the 5 calls at 08:00, and a total", hours)
	}
	if len(src.queries) != 1 || !slices.Equal(src.queries[0].Lines, f.Lines) || !src.queries[0].From.Equal(f.From) {
		t.Errorf("asked %+v, want the filter's period and lines", src.queries)
	}
}

// TestDetailSaysWhenRowsAreCut: the detail report asks for DetailLimit rows and, when the
// filter selects more, says how many of how many it shows.
func TestDetailSaysWhenRowsAreCut(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo)
	row := store.DetailRow{ID: "01D", Line: "retail", Started: at, Ended: at.Add(42 * time.Second), Status: flow.StatusVerified,
		Reason: flow.ReasonOK, Method: flow.MethodANI, IdentifyAttempts: 0, VerifyAttempts: 1, Events: []flow.Event{
			{At: at, Kind: flow.EventCRM, Name: flow.OpByPhone, Result: flow.ResultFound, Latency: 12 * time.Millisecond},
			{At: at.Add(1500 * time.Millisecond), Kind: flow.EventDigits, Name: flow.EntrySecret, Result: flow.ResultTerminator, Count: 4},
		}}
	for _, tc := range []struct {
		name  string
		total int64
		note  string
	}{
		{"all rows shown", 1, ""},
		{"rows cut", report.DetailLimit + 1, fmt.Sprintf("First 1 of %d interactions; narrow the filter for the rest.", report.DetailLimit+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{rows: []store.DetailRow{row}, total: tc.total}
			def, _ := report.Find("detail")
			r, err := def.Run(context.Background(), src, report.Filter{From: at.Add(-time.Hour), To: at.Add(time.Hour), Location: tokyo}, time.Now(), report.English)
			if err != nil {
				t.Fatal(err)
			}
			if len(src.queries) != 1 || src.queries[0].Limit != report.DetailLimit {
				t.Errorf("asked %+v, want Limit %d", src.queries, report.DetailLimit)
			}
			tab := r.Tables[0]
			if tab.Note != tc.note {
				t.Errorf("note %q, want %q", tab.Note, tc.note)
			}
			got := tab.Rows[0]
			if got[4] != "Identified and verified" || got[5] != "VERIFIED" || got[6] != "Verified" || got[7] != "OK" ||
				got[11] != "0/1" || got[16] != float64(42) || got[17] != "+0.0s crm by_phone found 12ms; +1.5s digits secret terminator (4)" {
				t.Errorf("row %v", got)
			}
		})
	}
}

// TestQueuesCountTheResultARIReported: a queued call counts by the result the ARI
// observer reported; only when it never reported does QUEUESTATUS say the call left the
// queue, and a call with neither counts as offered alone.
func TestQueuesCountTheResultARIReported(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo)
	for _, tc := range []struct {
		name  string
		group store.ReportGroup
		want  []any // offered, answered, abandoned, timed out / left
	}{
		{"answered", store.ReportGroup{QueueResult: flow.QueueAnswered, Agent: "PJSIP/agent1"}, []any{int64(2), int64(2), int64(0), int64(0)}},
		{"transferred by the agent who answered", store.ReportGroup{QueueResult: flow.QueueTransferred, Agent: "PJSIP/agent1"},
			[]any{int64(2), int64(2), int64(0), int64(0)}},
		{"hung up in the queue", store.ReportGroup{QueueResult: flow.QueueAbandoned, Reason: flow.ReasonOK}, []any{int64(2), int64(0), int64(2), int64(0)}},
		{"timed out", store.ReportGroup{QueueResult: flow.QueueLeft("TIMEOUT"), QueueStatus: "TIMEOUT"}, []any{int64(2), int64(0), int64(0), int64(2)}},
		{"no ARI: left with a status", store.ReportGroup{QueueStatus: "FULL"}, []any{int64(2), int64(0), int64(0), int64(2)}},
		{"no ARI: an agent answered, the end not reported yet", store.ReportGroup{Agent: "PJSIP/agent1"}, []any{int64(2), int64(2), int64(0), int64(0)}},
		{"no ARI: CONTINUE is not leaving", store.ReportGroup{QueueStatus: "CONTINUE"}, []any{int64(2), int64(0), int64(0), int64(0)}},
		{"no ARI: no status is offered only", store.ReportGroup{Reason: flow.ReasonHangup}, []any{int64(2), int64(0), int64(0), int64(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.group
			g.Start, g.Line, g.Status, g.Route, g.N = at, "retail", flow.StatusVerified, "queue:support,t,,,300", 2
			if g.Reason == "" {
				g.Reason = flow.ReasonOK
			}
			def, _ := report.Find("queues")
			r, err := def.Run(context.Background(), &fakeSource{groups: []store.ReportGroup{g}},
				report.Filter{From: at.Add(-time.Hour), To: at.Add(time.Hour), Location: tokyo}, time.Now(), report.English)
			if err != nil {
				t.Fatal(err)
			}
			rows := r.Tables[0].Rows
			if len(rows) != 1 || rows[0][0] != "support" || !slices.Equal(rows[0][1:5], tc.want) {
				t.Errorf("per queue %v, want support %v", rows, tc.want)
			}
		})
	}
}

// TestOutcomeColumnsFollowFlowOutcomes: the outcome tables have a column per
// flow.Outcomes(), in that order, each under a header of its own, charted; every row has
// a cell per column, and each outcome's calls land in its column.
func TestOutcomeColumnsFollowFlowOutcomes(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo)
	var groups []store.ReportGroup
	for i, sr := range []struct {
		s flow.Status
		r flow.Reason
	}{
		{flow.StatusVerified, flow.ReasonOK}, {flow.StatusIdentified, flow.ReasonNotRequired},
		{flow.StatusUnidentified, flow.ReasonNotFound}, {flow.StatusIdentified, flow.ReasonOptedOut},
		{flow.StatusUnidentified, flow.ReasonBackendUnavailable}, {flow.StatusUnidentified, flow.ReasonHangup},
	} {
		for _, line := range []string{"retail", "default"} {
			groups = append(groups, store.ReportGroup{Start: at, Line: line, Status: sr.s, Reason: sr.r, N: int64(1 << i)})
		}
	}
	def, _ := report.Find("outcomes")
	r, err := def.Run(context.Background(), &fakeSource{groups: groups},
		report.Filter{From: at.Add(-time.Hour), To: at.Add(time.Hour), Location: tokyo}, time.Now(), report.English)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := flow.Outcomes()
	byLine := r.Tables[0]
	headers := map[string]bool{}
	for i, o := range outcomes {
		h := byLine.Columns[2+i].Name
		if h == string(o) || headers[h] {
			t.Errorf("outcome %s: header %q is its name or another outcome's", o, h)
		}
		headers[h] = true
	}
	if got := byLine.Columns[2+len(outcomes)].Name; got != "Verified %" {
		t.Errorf("column after the outcomes is %q, want Verified %%", got)
	}
	if last := byLine.Columns[len(byLine.Columns)-1]; last.Name != "Of which hung up" || !last.Apart {
		t.Errorf("last column %+v, want the hang-ups apart, as \"Of which hung up\"", last)
	}
	if series := r.Tables[1].Chart.Series; len(series) != len(outcomes) || series[0] != 2 || series[len(series)-1] != 1+len(outcomes) {
		t.Errorf("stacked chart series %v, want the %d outcome columns", series, len(outcomes))
	}
	for _, tab := range r.Tables {
		for _, row := range tab.Rows {
			if len(row) != len(tab.Columns) {
				t.Errorf("%s: row %v has %d cells for %d columns", tab.Title, row, len(row), len(tab.Columns))
			}
		}
	}
	for _, row := range byLine.Rows {
		per := int64(1) // both lines have the same calls: the total is twice a line's
		if row[0] == "Total" {
			per = 2
		}
		for i, o := range outcomes {
			var want int64
			for _, g := range groups {
				if g.Line == "retail" && flow.OutcomeOf(g.Status, g.Reason) == o {
					want += g.N * per
				}
			}
			if row[2+i] != want {
				t.Errorf("%s %s: %v, want %d", row[0], o, row[2+i], want)
			}
		}
	}
}
