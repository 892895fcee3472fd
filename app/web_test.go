package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/store"
)

// TestWebKeysReachTheServer: web.idle_timeout closes an idle connection of the running
// web server, and a look at an interaction is in the audit.
func TestWebKeysReachTheServer(t *testing.T) {
	cfg := site{Web: "listen = \"127.0.0.1:0\"\nidle_timeout = \"50ms\"\nmax_connections = 4", CRM: "http://" + startDemoCRM(t)}.config(t)
	a, err := Start(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	c, err := net.Dial("tcp", a.WebAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a guard: the test fails rather than hangs
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("an idle connection: %v, want EOF (closed by the server)", err)
	}

	res, err := agitest.Caller{ANI: "+81312345678", Keys: "1234#"}.Call(context.Background(), a.AGIAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	id := res.Var("IDV_INTERACTION")
	resp, err = http.Get("http://" + a.WebAddr().String() + "/api/interactions/" + id)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET the interaction: %v %v", resp, err)
	}
	resp.Body.Close()
	now := time.Now()
	got, err := a.Store.AuditEntries(context.Background(), store.AuditQuery{From: now.Add(-time.Hour), To: now.Add(time.Hour)})
	if err != nil || len(got) != 1 || got[0].Target != id || got[0].Action != store.AuditView || got[0].Address != "127.0.0.1" {
		t.Errorf("audit %+v (%v), want the view of %s", got, err, id)
	}
}

// TestStartPrunesOldAudit: with the records' daily prune, the audit entries older than
// web.audit_retention are deleted and the newer kept.
func TestStartPrunesOldAudit(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "idv.db")
	st, err := store.Open(ctx, store.SQLite, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{time.Now().Add(-31 * 24 * time.Hour), time.Now().Add(-time.Hour)} {
		if err := st.Audit(ctx, store.AuditEntry{At: at, User: "boss", Role: "supervisor", Address: "192.0.2.1", Action: store.AuditView, Target: "01X"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := site{DB: db, Web: "listen = \"\"\naudit_retention = \"720h\""}.config(t)
	pruned := &lineSignal{want: "audit entries older than web.audit_retention pruned", seen: make(chan string, 1)}
	a, err := Start(ctx, cfg, zerolog.New(pruned))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	select {
	case line := <-pruned.seen:
		if !strings.Contains(line, `"audit_entries":1`) {
			t.Errorf("log: %s", line)
		}
	case <-time.After(time.Minute): // a guard: the test fails rather than hangs
		t.Fatal("the audit was not pruned at start-up")
	}
	left, err := a.Store.AuditEntries(ctx, store.AuditQuery{From: time.Now().Add(-365 * 24 * time.Hour), To: time.Now()})
	if err != nil || len(left) != 1 || time.Since(left[0].At) > 2*time.Hour {
		t.Errorf("audit left %+v (%v), want the entry of an hour ago", left, err)
	}
}
