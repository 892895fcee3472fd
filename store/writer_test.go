package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// call is a record as the flow writes it: at the route with some events, then at the
// end with more.
func call(id string, t0 time.Time, events int) *flow.Interaction {
	in := &flow.Interaction{ID: id, Line: "default", Script: "idv", Started: t0, ANI: "+81312345678",
		Status: flow.StatusIdentified, Reason: flow.ReasonNotRequired, Method: flow.MethodANI}
	for i := range events {
		in.Events = append(in.Events, flow.Event{At: t0.Add(time.Duration(i) * time.Millisecond), Kind: flow.EventPrompt, Name: fmt.Sprint(i)})
	}
	return in
}

// TestConcurrentRecordsAreAllCommitted: many calls recording at once (group commit puts
// them in shared transactions) each find their record and every event, once.
func TestConcurrentRecordsAreAllCommitted(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			ctx := context.Background()
			t0 := time.Now()
			const calls = 200
			var wg sync.WaitGroup
			errs := make(chan error, calls)
			for i := range calls {
				wg.Go(func() {
					in := call(fmt.Sprintf("01GC%04d", i), t0, 5)
					if err := s.Record(ctx, in); err != nil {
						errs <- err
						return
					}
					in.Events = append(in.Events, flow.Event{At: t0, Kind: flow.EventQueue, Name: "support", Result: "CONTINUE"})
					in.Ended = t0.Add(time.Second)
					errs <- s.Record(ctx, in)
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var rows, events int
			s.TestDB().QueryRow(`SELECT COUNT(*) FROM interactions WHERE ended_at IS NOT NULL`).Scan(&rows)
			s.TestDB().QueryRow(`SELECT COUNT(*) FROM events`).Scan(&events)
			if rows != calls || events != calls*6 {
				t.Errorf("%d ended records and %d events, want %d and %d", rows, events, calls, calls*6)
			}
		})
	}
}

// TestOneBadRecordFailsOnlyItself: PostgreSQL refuses a NUL in text; the calls whose
// records shared its transaction are still stored.
func TestOneBadRecordFailsOnlyItself(t *testing.T) {
	if !strings.Contains(strings.Join(storetest.Drivers(t), ","), store.Postgres) {
		t.Skip("needs PostgreSQL (IDV_TEST_POSTGRES); SQLite stores a NUL")
	}
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	t0 := time.Now()
	var wg sync.WaitGroup
	results := make([]error, 50)
	for i := range results {
		wg.Go(func() {
			in := call(fmt.Sprintf("01BAD%02d", i), t0, 2)
			if i == 7 {
				in.Events[1].Detail = "nul\x00byte"
			}
			results[i] = s.Record(ctx, in)
		})
	}
	wg.Wait()
	for i, err := range results {
		if (err != nil) != (i == 7) {
			t.Errorf("record %d: %v", i, err)
		}
	}
	var n int
	s.TestDB().QueryRow(`SELECT COUNT(*) FROM interactions`).Scan(&n)
	if n != 49 {
		t.Errorf("%d records stored, want 49", n)
	}
}

// TestABurstOfEndingCallsLosesNoRecord: thousands of calls ending at once (a trunk lost,
// Asterisk restarted) record more than the writer's queue holds, and their callers have
// stopped waiting; every record is still stored, in order.
func TestABurstOfEndingCallsLosesNoRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idv.db")
	s, err := store.Open(context.Background(), store.SQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel() // the callers hung up: nobody waits for the commit
	t0 := time.Now()
	const calls = 3000
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			in := call(fmt.Sprintf("01BURST%05d", i), t0, 3)
			s.Record(gone, in)
			in.Ended = t0.Add(time.Second)
			in.Events = append(in.Events, flow.Event{At: t0, Kind: flow.EventOutcome, Name: string(in.Status)})
			s.Record(gone, in)
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil { // writes what was queued
		t.Fatal(err)
	}
	s, err = store.Open(context.Background(), store.SQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows, ended, events int
	s.TestDB().QueryRow(`SELECT COUNT(*), COUNT(ended_at) FROM interactions`).Scan(&rows, &ended)
	s.TestDB().QueryRow(`SELECT COUNT(*) FROM events`).Scan(&events)
	if rows != calls || ended != calls || events != calls*4 {
		t.Errorf("%d records (%d ended) and %d events stored, want %d, %d and %d", rows, ended, events, calls, calls, calls*4)
	}
}
