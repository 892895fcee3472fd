package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
)

// TestBackupCommand: idv backup copies the SQLite database the configuration names, and
// sends a PostgreSQL user to pg_dump with a non-zero exit.
func TestBackupCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "idv.db")
	st, err := store.Open(ctx, store.SQLite, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close() // idv serve still running
	in := &flow.Interaction{ID: "01BACKUP", Line: "default", Script: "idv", Started: time.Now(), Status: flow.StatusVerified}
	if err := st.Record(ctx, in); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte("[store]\npath = \""+db+"\"\n"), 0o600)
	to := filepath.Join(dir, "backup.db")
	var out strings.Builder
	if err := backup([]string{"-config", cfg, "-o", to}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "backup of "+db+" written") {
		t.Errorf("output %q", out.String())
	}
	b, err := store.Open(ctx, store.SQLite, to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, err := b.Interaction(ctx, "01BACKUP"); err != nil || got.Status != flow.StatusVerified {
		t.Errorf("the backup's record: %+v, %v", got, err)
	}
	if err := backup([]string{"-config", cfg}, &out); err == nil || !strings.Contains(err.Error(), "-o FILE") {
		t.Errorf("without -o: %v", err)
	}
	pg := filepath.Join(dir, "pg.toml")
	os.WriteFile(pg, []byte("[store]\ndriver = \"postgres\"\ndsn = \"postgres://idv@db/idv\"\n"), 0o600)
	if err := backup([]string{"-config", pg, "-o", filepath.Join(dir, "pg.db")}, &out); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("PostgreSQL: %v", err)
	}
}
