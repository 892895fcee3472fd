package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// TestPruneDeletesOldRecordsWithTheirEvents: records older than the retention go with
// their events (the flow's and the queue's), oldest first in batches; newer ones stay
// whole; security counters older than their longest window go. Pruning again deletes
// nothing.
func TestPruneDeletesOldRecordsWithTheirEvents(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, driver)
			now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
			const old, recent = 1200, 30 // more old ones than one batch deletes
			var wg sync.WaitGroup
			errs := make(chan error, old+recent)
			for i := range old + recent {
				wg.Go(func() {
					started := now.Add(-401*24*time.Hour + time.Duration(i)*time.Minute)
					if i >= old {
						started = now.Add(-399*24*time.Hour + time.Duration(i)*time.Minute)
					}
					if err := s.Record(ctx, call(fmt.Sprintf("01P%05d", i), started, 3)); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			o := flow.QueueOutcome{Queue: "support", Entered: now, Ended: now.Add(time.Minute), Result: flow.QueueAbandoned}
			q := len(o.Events()) // the queue's steps, stored as events of the interaction
			for _, id := range []string{"01P00000", fmt.Sprintf("01P%05d", old)} {
				if err := s.QueueOutcome(ctx, id, o); err != nil {
					t.Fatal(err)
				}
			}
			guard := &store.Guard{Store: s, LockoutFailures: 5, LockoutWindow: 30 * time.Minute, PerANI: 30, IdentifyWindow: 10 * time.Minute,
				Now: func() time.Time { return now.Add(-time.Hour) }}
			guard.CountIdentify(ctx, "+81398765432")
			at, _, _ := guard.ReserveVerify(ctx, "100234", "+81398765432")
			at.Settle(ctx, flow.AttemptRejected)
			guard.Now = func() time.Time { return now }
			guard.CountIdentify(ctx, "+81398765432")

			p, err := s.Prune(ctx, store.Retention{Records: 400 * 24 * time.Hour, Guard: 30 * time.Minute}, now)
			if err != nil {
				t.Fatal(err)
			}
			if p.Interactions != old || p.Events != int64(3*old+q) || p.GuardEvents != 1 || p.VerifyAttempts != 1 {
				t.Errorf("pruned %+v, want %d interactions, %d events, 1 guard event, 1 verify attempt", p, old, 3*old+q)
			}
			db := s.TestDB()
			var interactions, events, orphans int
			db.QueryRow(`SELECT COUNT(*) FROM interactions`).Scan(&interactions)
			db.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&events)
			db.QueryRow(`SELECT COUNT(*) FROM events WHERE interaction_id NOT IN (SELECT id FROM interactions)`).Scan(&orphans)
			if interactions != recent || events != 3*recent+q || orphans != 0 {
				t.Errorf("left %d interactions, %d events (%d without their interaction); want %d and %d", interactions, events, orphans, recent, 3*recent+q)
			}
			if _, err := s.Interaction(ctx, "01P00000"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the oldest record: %v", err)
			}
			in, err := s.Interaction(ctx, fmt.Sprintf("01P%05d", old))
			if err != nil || len(in.Events) != 3+q {
				t.Errorf("the record within the retention: %v, %d events", err, len(in.Events))
			}
			if p, err := s.Prune(ctx, store.Retention{Records: 400 * 24 * time.Hour, Guard: 30 * time.Minute}, now); err != nil || p != (store.Pruned{}) {
				t.Errorf("pruning again: %+v, %v", p, err)
			}
			if p, _ := s.Prune(ctx, store.Retention{}, now.Add(1000*24*time.Hour)); p != (store.Pruned{}) {
				t.Errorf("a retention of 0 pruned %+v", p)
			}
		})
	}
}

// TestBackupHoldsTheRecords: idv backup's copy opens as a store and holds the records,
// taken while the store is open; it refuses to overwrite a file, and PostgreSQL.
func TestBackupHoldsTheRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "idv.db")
	s, err := store.Open(ctx, store.SQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.Record(ctx, call(fmt.Sprint("01K", i), t0, 4)); err != nil {
			t.Fatal(err)
		}
	}
	to := filepath.Join(dir, "backup.db")
	if err := store.Backup(ctx, store.SQLite, path, to); err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(ctx, store.SQLite, to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := range 3 {
		in, err := b.Interaction(ctx, fmt.Sprint("01K", i))
		if err != nil || len(in.Events) != 4 || in.Status != flow.StatusIdentified {
			t.Errorf("record %d in the backup: %+v, %v", i, in, err)
		}
	}
	if err := store.Backup(ctx, store.SQLite, path, to); err == nil {
		t.Error("a backup overwrote a file")
	}
	if err := store.Backup(ctx, store.SQLite, filepath.Join(dir, "none.db"), filepath.Join(dir, "b2.db")); err == nil {
		t.Error("a backup of a missing database succeeded")
	} else if _, statErr := os.Stat(filepath.Join(dir, "none.db")); statErr == nil {
		t.Error("backing up a missing database created it")
	}
	if err := store.Backup(ctx, store.Postgres, "postgres://x", filepath.Join(dir, "b3.db")); !errors.Is(err, store.ErrNotSQLite) {
		t.Errorf("PostgreSQL backup: %v", err)
	}
}
