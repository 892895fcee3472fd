package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

func TestRecordIsUpsertedWithNewEventsOnly(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) { testRecord(t, driver) })
	}
}

func testRecord(t *testing.T, driver string) {
	ctx := context.Background()
	driver, dsn := storetest.DSN(t, driver)
	s, err := store.Open(ctx, driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.MaskANI = func(a string) string { return "***" + a[len(a)-2:] }
	t0 := time.UnixMilli(1_795_618_877_000)
	in := &flow.Interaction{ID: "01A", Line: "retail", Script: "idv", Started: t0, ANI: "+81312345678", ANIE164: "+81312345678",
		Status: flow.StatusUnidentified, Reason: "", Method: flow.MethodNone,
		Events: []flow.Event{{At: t0, Kind: flow.EventStart, Name: "idv"}}}
	if err := s.Record(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Status, in.Reason, in.Method, in.CustomerID, in.CustomerName = flow.StatusVerified, flow.ReasonOK, flow.MethodANI, "100234", "佐藤 花子"
	in.VerifyAttempts, in.Route, in.Ended = 1, "queue:support", t0.Add(5*time.Second)
	in.Events = append(in.Events, flow.Event{At: t0.Add(time.Second), Kind: flow.EventCRM, Name: "verify", Result: "verified", Latency: 1500 * time.Microsecond},
		flow.Event{At: t0.Add(2 * time.Second), Kind: flow.EventDigits, Name: "secret", Result: "terminator", Count: 4})
	if err := s.Record(ctx, in); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopen: migrations are applied once, data survived.
	s, err = store.Open(ctx, driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Interaction(ctx, "01A")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != flow.StatusVerified || got.CustomerName != "佐藤 花子" || got.Route != "queue:support" ||
		!got.Ended.Equal(in.Ended) || got.ANI != "***78" || got.ANIE164 != "***78" || got.Attempts() != "0/1" {
		t.Errorf("stored = %+v", got)
	}
	if len(got.Events) != 3 || got.Events[1].Latency != 1500*time.Microsecond || got.Events[2].Count != 4 {
		t.Errorf("events = %+v, want 3 with their latency and count", got.Events)
	}
	var n int
	if s.TestDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM interactions`).Scan(&n); n != 1 {
		t.Errorf("%d interactions, want 1", n)
	}
	if _, err := s.Interaction(ctx, "nope"); err == nil {
		t.Error("missing interaction found")
	}

	// This store does not know what the one before it stored: a new record after the
	// restart still stores each event once.
	in.Events = append(in.Events, flow.Event{At: t0.Add(3 * time.Second), Kind: flow.EventQueue, Name: "support", Result: "CONTINUE"})
	if err := s.Record(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Interaction(ctx, "01A"); err != nil || len(got.Events) != 4 {
		t.Errorf("events after the restart: %v (%v), want 4", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, in); !errors.Is(err, store.ErrClosed) {
		t.Errorf("record after close: %v", err)
	}
}

// TestInstancesStartingAtOnceMigrateOnce: several instances opening one new database at
// the same moment all start, and the schema is migrated once.
func TestInstancesStartingAtOnceMigrateOnce(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			driver, dsn := storetest.DSN(t, driver)
			var wg sync.WaitGroup
			stores := make([]*store.Store, 4)
			errs := make([]error, len(stores))
			for i := range stores {
				wg.Go(func() { stores[i], errs[i] = store.Open(context.Background(), driver, dsn) })
			}
			wg.Wait()
			for i, s := range stores {
				if errs[i] != nil {
					t.Fatalf("instance %d: %v", i, errs[i])
				}
				defer s.Close()
			}
			var rows, versions int
			stores[0].TestDB().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions)
			if rows == 0 || rows != versions {
				t.Errorf("schema_migrations: %d rows for %d versions", rows, versions)
			}
		})
	}
}
