package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// ErrNotSQLite is returned by Backup for a PostgreSQL database, which pg_dump backs up.
var ErrNotSQLite = errors.New("only SQLite is backed up by idv: back PostgreSQL up with pg_dump")

// Backup copies the SQLite database at path into a new file, to, consistent as of one
// moment, while idv goes on writing (VACUUM INTO reads in one transaction; the copy is
// compacted and carries no WAL). It neither migrates nor changes the database.
func Backup(ctx context.Context, driver, path, to string) error {
	if driver != SQLite {
		return fmt.Errorf("backup: %w", ErrNotSQLite)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup %s: %w", path, err) // sql.Open would create an empty one
	}
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("backup to %s: the file exists; name a new one", to)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'interactions'`).Scan(&tables); err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	if tables == 0 {
		return fmt.Errorf("backup %s: not an idv database (no interactions table)", path)
	}
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		return fmt.Errorf("backup %s to %s: %w", path, to, err)
	}
	return nil
}
