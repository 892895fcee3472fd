package store

import "database/sql"

// TestDB is the database under the store, for this package's tests that look beneath its
// methods; only the store's own tests can reach it.
func (s *Store) TestDB() *sql.DB { return s.db }
