package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// TestDB is the database under the store, for this package's tests that look beneath its
// methods; only the store's own tests can reach it.
func (s *Store) TestDB() *sql.DB { return s.db }

// TestRerunMigration applies again the migration whose SQL begins with prefix, as it ran
// on a database migrated up to the one before it.
func (s *Store) TestRerunMigration(ctx context.Context, prefix string) error {
	for _, m := range migrations {
		if strings.HasPrefix(m, prefix) {
			_, err := s.db.ExecContext(ctx, s.dialectSQL(m))
			return err
		}
	}
	return fmt.Errorf("no migration begins with %q", prefix)
}
