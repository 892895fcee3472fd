package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// TestAuditKeepsWhoSawWhat: entries come back with who, from where and what, newest
// first, by period and user; pruning deletes the entries older than the retention only.
func TestAuditKeepsWhoSawWhat(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, driver)
			t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			entries := []store.AuditEntry{
				{At: t0, User: "boss", Role: "supervisor", Address: "192.0.2.1", Action: store.AuditReport, Target: "detail", Detail: "csv 2026-11-01..2026-11-25"},
				{At: t0.Add(time.Minute), User: "ann", Role: "agent", Address: "192.0.2.2", Action: store.AuditView, Target: "01MINE"},
				{At: t0.Add(2 * time.Minute), User: "ann", Role: "agent", Address: "192.0.2.2", Action: store.AuditWrapUp, Target: "01MINE", Detail: "resolved"},
			}
			for _, e := range entries {
				if err := st.Audit(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			all, err := st.AuditEntries(ctx, store.AuditQuery{From: t0, To: t0.Add(time.Hour)})
			if err != nil || len(all) != 3 || all[0].Action != store.AuditWrapUp || all[2].Target != "detail" {
				t.Fatalf("entries %+v (%v), want 3, newest first", all, err)
			}
			if got := all[0]; !got.At.Equal(entries[2].At) || got.User != "ann" || got.Role != "agent" || got.Address != "192.0.2.2" || got.Detail != "resolved" {
				t.Errorf("entry read back as %+v, want %+v", got, entries[2])
			}
			ann, _ := st.AuditEntries(ctx, store.AuditQuery{From: t0, To: t0.Add(time.Hour), User: "ann"})
			late, _ := st.AuditEntries(ctx, store.AuditQuery{From: t0.Add(90 * time.Second), To: t0.Add(time.Hour)})
			if len(ann) != 2 || len(late) != 1 {
				t.Errorf("ann's entries %d, want 2; entries after 10:01:30 %d, want 1", len(ann), len(late))
			}
			n, err := st.PruneAudit(ctx, t0.Add(90*time.Second))
			left, _ := st.AuditEntries(ctx, store.AuditQuery{From: t0, To: t0.Add(time.Hour)})
			if err != nil || n != 2 || len(left) != 1 || left[0].Action != store.AuditWrapUp {
				t.Errorf("pruning before 10:01:30 deleted %d (%v) and left %+v", n, err, left)
			}
		})
	}
}
