package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// TestReportReads: groups start on their 15-minute bucket; event counts take the CRM
// and ANI events only; detail rows come oldest first with their events, at most Limit
// of them (all when 0), with the number selected in all.
func TestReportReads(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, driver)
			t0 := time.Date(2026, 11, 2, 9, 7, 0, 0, time.UTC)
			for i, id := range []string{"01C", "01A", "01B"} {
				at := t0.Add(time.Duration(i) * time.Minute)
				in := &flow.Interaction{ID: id, Line: "retail", Script: "idv", Started: at, Ended: at.Add(30 * time.Second),
					Status: flow.StatusVerified, Reason: flow.ReasonOK, Method: flow.MethodANI, Events: []flow.Event{
						{At: at, Kind: flow.EventStart, Name: "idv"},
						{At: at, Kind: flow.EventCRM, Name: flow.OpByPhone, Result: flow.ResultFound, Latency: 12400 * time.Microsecond},
					}}
				if err := s.Record(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			q := store.Query{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}
			groups, err := s.ReportGroups(ctx, q)
			if err != nil || len(groups) != 1 || groups[0].N != 3 || !groups[0].Start.Equal(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)) ||
				groups[0].Status != flow.StatusVerified {
				t.Errorf("groups %+v, %v; want the 3 calls in the 09:00 bucket", groups, err)
			}
			counts, err := s.EventCounts(ctx, q)
			if err != nil || len(counts) != 1 || counts[0].N != 3 || counts[0].Kind != flow.EventCRM || counts[0].LatencyMS != 12 {
				t.Errorf("event counts %+v, %v; want 3 CRM lookups of 12 ms", counts, err)
			}
			for _, tc := range []struct {
				limit int
				ids   []string
			}{{2, []string{"01C", "01A"}}, {0, []string{"01C", "01A", "01B"}}} {
				q.Limit = tc.limit
				rows, total, err := s.DetailRows(ctx, q)
				if err != nil || total != 3 || len(rows) != len(tc.ids) {
					t.Fatalf("limit %d: %d rows of %d, %v", tc.limit, len(rows), total, err)
				}
				for i, r := range rows {
					if r.ID != tc.ids[i] || len(r.Events) != 2 || r.Events[1].Latency != 12400*time.Microsecond || r.Ended.Sub(r.Started) != 30*time.Second {
						t.Errorf("limit %d: row %d = %+v, want %s with its 2 events", tc.limit, i, r, tc.ids[i])
					}
				}
			}
		})
	}
}

// TestRecordedValues: the distinct lines, queues (from the routes), agents, languages
// and wrap-up codes of all the records, sorted, without empty values.
func TestRecordedValues(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, driver)
			at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			for i, in := range []*flow.Interaction{
				{Line: "retail", Route: "queue:support,t,,,300", Language: "ja"},
				{Line: "retail", Route: "queue:support"},
				{Line: "default", Route: "queue:billing", Language: "en"},
				{Line: "business", Route: "goto:selfservice,s,1"},
			} {
				in.ID, in.Script, in.Started = fmt.Sprintf("01V%d", i), "idv", at.Add(time.Duration(i)*time.Hour)
				in.Status, in.Reason, in.Method = flow.StatusVerified, flow.ReasonOK, flow.MethodANI
				if err := s.Record(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			s.SetAgent(ctx, "01V0", "PJSIP/agent1")
			for field, want := range map[store.Field][]string{
				store.FieldLine: {"business", "default", "retail"}, store.FieldQueue: {"billing", "support"},
				store.FieldAgent: {"PJSIP/agent1"}, store.FieldLanguage: {"en", "ja"}, store.FieldWrapUp: nil,
			} {
				got, err := s.RecordedValues(ctx, field)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("%s: %v, %v; want %v", field, got, err, want)
				}
			}
			if _, err := s.RecordedValues(ctx, "status; DROP TABLE interactions"); err == nil {
				t.Error("an unknown field was queried")
			}
		})
	}
}
