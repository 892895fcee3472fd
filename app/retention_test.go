package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
)

// lineSignal tells, once, when a log line holding want is written.
type lineSignal struct {
	want string
	seen chan string
}

func (w *lineSignal) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.want) {
		select {
		case w.seen <- string(p):
		default:
		}
	}
	return len(p), nil
}

// TestStartPrunesOldRecords: idv serve prunes the records older than store.retention
// when it starts (then daily), and logs what it deleted.
func TestStartPrunesOldRecords(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "idv.db")
	st, err := store.Open(ctx, store.SQLite, db)
	if err != nil {
		t.Fatal(err)
	}
	for id, started := range map[string]time.Time{"01OLD": time.Now().Add(-401 * 24 * time.Hour), "01NEW": time.Now().Add(-time.Hour)} {
		in := &flow.Interaction{ID: id, Line: "default", Script: "idv", Started: started, Status: flow.StatusUnidentified,
			Events: []flow.Event{{At: started, Kind: flow.EventStart, Name: "idv"}}}
		if err := st.Record(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := site{DB: db, CRM: "http://" + startDemoCRM(t)}.config(t)
	logs := &lineSignal{want: "store.retention", seen: make(chan string, 1)}
	a, err := Start(ctx, cfg, zerolog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	select {
	case line := <-logs.seen:
		if !strings.Contains(line, `"interactions":1`) || !strings.Contains(line, `"events":1`) {
			t.Errorf("the prune's log line: %s", line)
		}
	case <-time.After(time.Minute):
		t.Fatal("no prune within a minute of the start")
	}
	if _, err := a.Store.Interaction(ctx, "01OLD"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the record of 401 days ago: %v", err)
	}
	if _, err := a.Store.Interaction(ctx, "01NEW"); err != nil {
		t.Errorf("the record of an hour ago: %v", err)
	}
}
