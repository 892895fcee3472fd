package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/store"
)

// backup is "idv backup": a copy of the SQLite database, taken while idv serve runs.
func backup(args []string, out io.Writer) error {
	fs := newFlagSet("backup", "[-config FILE] -o FILE", `Copies the SQLite database that the configuration names (store.path) into a new file,
consistent as of one moment, while idv serve goes on writing to it. Restore by stopping
idv and putting the copy in store.path's place. With PostgreSQL (store.driver =
"postgres") it exits non-zero: back PostgreSQL up with pg_dump (docs/reliability.md).`)
	path := fs.String("config", envOr("IDV_CONFIG", "config.toml"), "configuration file (env IDV_CONFIG)")
	to := fs.String("o", "", "the backup file to create; it must not exist")
	fs.Parse(args)
	if *to == "" {
		return errors.New("backup: -o FILE is required (the backup file to create)")
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	driver, dsn := cfg.Store.Open()
	if driver == store.Postgres {
		return fmt.Errorf("backup: %s stores to PostgreSQL, which idv does not copy: use pg_dump, e.g. pg_dump -Fc -f idv.dump \"$DSN\" (docs/reliability.md)", *path)
	}
	if err := store.Backup(context.Background(), driver, dsn, *to); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: backup of %s written\n", *to, dsn)
	return nil
}
