package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
)

// openTemp opens a SQLite store in the test's directory, closed when the test ends.
func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), SQLite, filepath.Join(t.TempDir(), "idv.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBatchWithABadRecordCommitsTheOthers: when the database refuses one record of a
// group commit, the others of the batch are still committed and only that record's
// call gets the error.
func TestBatchWithABadRecordCommitsTheOthers(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	t0 := time.Now()
	rec := func(id string) *flow.Interaction {
		return &flow.Interaction{ID: id, Line: "default", Script: "idv", Started: t0,
			Events: []flow.Event{{At: t0, Kind: flow.EventStart}, {At: t0, Kind: flow.EventPrompt, Name: "idv/welcome"}}}
	}
	bad := rec("01BAD")
	if err := s.Record(ctx, bad); err != nil {
		t.Fatal(err)
	}
	// A wrong count of stored events: writing them again breaks the primary key.
	s.remember(map[string]int{bad.ID: 0})
	batch := []job{{in: *rec("01GOOD1"), done: make(chan error, 1)}, {in: *bad, done: make(chan error, 1)},
		{in: *rec("01GOOD2"), done: make(chan error, 1)}}
	s.commit(batch)
	if err := <-batch[1].done; err == nil {
		t.Error("the refused record reported no error")
	}
	for _, j := range []job{batch[0], batch[2]} {
		if err := <-j.done; err != nil {
			t.Errorf("%s: %v", j.in.ID, err)
		}
		if got, err := s.Interaction(ctx, j.in.ID); err != nil || len(got.Events) != 2 {
			t.Errorf("%s not stored with its events: %v %v", j.in.ID, got, err)
		}
	}
}

// TestAnEndedRecordIsNotOverwrittenByAnEarlierOne: several writers (PostgreSQL) may
// commit a call's record from before the queue after its final record, when the first
// was still queued as the second came; the call must not go back to "in progress".
func TestAnEndedRecordIsNotOverwrittenByAnEarlierOne(t *testing.T) {
	s := openTemp(t)
	t0 := time.Now()
	first := flow.Interaction{ID: "01ORDER", Line: "default", Script: "idv", Started: t0, Status: flow.StatusIdentified,
		Route: "queue:support", Events: []flow.Event{{At: t0, Kind: flow.EventStart}}}
	final := first
	final.Ended, final.QueueStatus = t0.Add(time.Minute), "TIMEOUT"
	final.Events = append(final.Events[:1:1], flow.Event{At: t0, Kind: flow.EventQueue, Name: "support", Result: "TIMEOUT"})
	for _, in := range []flow.Interaction{final, first} { // the final one committed first
		j := job{in: in, done: make(chan error, 1)}
		s.commit([]job{j})
		if err := <-j.done; err != nil {
			t.Fatal(err)
		}
	}
	var ended sql.NullInt64
	var queue string
	var events int
	s.db.QueryRow(`SELECT ended_at, queue_status FROM interactions WHERE id = '01ORDER'`).Scan(&ended, &queue)
	s.db.QueryRow(`SELECT COUNT(*) FROM events WHERE interaction_id = '01ORDER'`).Scan(&events)
	if !ended.Valid || queue != "TIMEOUT" || events != 2 {
		t.Errorf("after the earlier record: ended %v, queue %q, %d events; want the final record's", ended, queue, events)
	}
}

// TestTheOverflowIsBounded: while the database does not take records, they queue up to
// maxOverflow past the channel; the next one is refused (its call is told) rather than
// growing the heap until the process is killed.
func TestTheOverflowIsBounded(t *testing.T) {
	w := &writer{jobs: make(chan job, 1), more: make(chan struct{}, 1)}
	for i := range maxOverflow + 1 {
		if !w.enqueue(job{}) {
			t.Fatalf("record %d refused, want %d queued", i, maxOverflow+1)
		}
	}
	if w.enqueue(job{}) {
		t.Fatal("a record past the overflow's bound was queued")
	}
	// A writer's pass takes the oldest first and makes room again.
	if batch := w.fill(nil); len(batch) != maxBatch || !w.enqueue(job{}) {
		t.Errorf("a pass took %d records and left no room", len(batch))
	}
}
