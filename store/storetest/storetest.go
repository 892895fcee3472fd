// Package storetest opens fresh stores for tests: SQLite in a temporary directory, and
// PostgreSQL in a schema of its own when IDV_TEST_POSTGRES names a server (as .ci/run
// does). Under CI=true a missing PostgreSQL is a failure, not a skip.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idv-project/idv/store"
)

// Drivers lists the back ends to test: SQLite, and PostgreSQL when available.
func Drivers(t testing.TB) []string {
	if os.Getenv("IDV_TEST_POSTGRES") != "" {
		return []string{store.SQLite, store.Postgres}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("IDV_TEST_POSTGRES is not set: .ci/run starts PostgreSQL and sets it")
	}
	t.Log("IDV_TEST_POSTGRES not set: testing SQLite only")
	return []string{store.SQLite}
}

// Open returns a new, empty, migrated store of that driver, closed with the test.
func Open(t testing.TB, driver string) *store.Store {
	t.Helper()
	driver, dsn := DSN(t, driver)
	s, err := store.Open(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// DSN makes a fresh database for driver and returns what store.Open takes.
func DSN(t testing.TB, driver string) (string, string) {
	t.Helper()
	if driver == store.SQLite {
		return driver, filepath.Join(t.TempDir(), "idv.db")
	}
	base := os.Getenv("IDV_TEST_POSTGRES")
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("postgres at IDV_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return driver, base + sep + "search_path=" + schema
}
