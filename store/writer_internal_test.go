package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
)

// TestBatchWithABadRecordCommitsTheOthers: when the database refuses one record of a
// group commit, the others of the batch are still committed and only that record's
// call gets the error.
func TestBatchWithABadRecordCommitsTheOthers(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, SQLite, filepath.Join(t.TempDir(), "idv.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
