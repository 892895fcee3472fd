package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// TestQueueFilterTakesNamesLiterally: a queue name's _ and % are not LIKE's wildcards:
// the filter on a_b selects a_b's calls, with or without options, and not axb's.
func TestQueueFilterTakesNamesLiterally(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, driver)
			t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			for i, route := range []string{"queue:a_b", "queue:a_b,t,,,300", "queue:axb", "queue:axb,t,,,300", "queue:a!b,t"} {
				if err := st.Record(ctx, &flow.Interaction{ID: fmt.Sprint("01Q", i), Line: "retail", Script: "idv",
					Started: t0.Add(time.Duration(i) * time.Minute), Status: flow.StatusIdentified, Route: route}); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct {
				queue, want string
			}{
				{"a_b", "01Q1 01Q0"},
				{"axb", "01Q3 01Q2"},
				{"a%", ""},
				{"a!b", "01Q4"},
			} {
				got, err := st.List(ctx, store.Query{From: t0, To: t0.Add(time.Hour), Queues: []string{tc.queue}})
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, s := range got {
					ids = append(ids, s.ID)
				}
				if strings.Join(ids, " ") != tc.want {
					t.Errorf("queue %s: %v, want %s", tc.queue, ids, tc.want)
				}
			}
		})
	}
}
