package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idv-project/idv/store"
)

// TestReportReadsTheDatabaseBesideItsConfiguration: `idv report -config
// /etc/idv/config.toml` run from any directory reads the database that the file's
// relative store.path names beside it; while there is none, it fails naming that path and
// creates nothing — neither there nor in the current directory.
func TestReportReadsTheDatabaseBesideItsConfiguration(t *testing.T) {
	etc := t.TempDir()
	cfg := filepath.Join(etc, "config.toml")
	os.WriteFile(cfg, []byte("[store]\npath = \"idv.db\"\n[sounds]\ndir = \"\"\n[democrm]\nenabled = false\n"), 0o600)
	db := filepath.Join(etc, "idv.db")
	out := filepath.Join(t.TempDir(), "out.csv")
	args := []string{"-config", cfg, "-name", "outcomes", "-range", "yesterday", "-format", "csv", "-o", out}

	err := reportCmd(args)
	if err == nil || !strings.Contains(err.Error(), db) {
		t.Fatalf("report without a database: %v; want an error naming %s", err, db)
	}
	for _, p := range []string{db, "idv.db"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created by a command that only reads", p)
		}
	}

	st, err := store.Open(context.Background(), store.SQLite, db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := reportCmd(args); err != nil {
		t.Fatalf("report with the database beside the configuration: %v", err)
	}
}
