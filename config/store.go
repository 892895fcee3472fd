package config

import (
	"strings"
	"time"
)

// Privacy says what of the caller's data idv may keep.
type Privacy struct {
	ANIVisibleDigits int  `toml:"ani_visible_digits"`
	RecordIdentifier bool `toml:"record_identifier"`
}

// Store is the database of interaction records.
type Store struct {
	Driver        string        `toml:"driver"`
	Path          string        `toml:"path"`
	DSN           string        `toml:"dsn"`
	RecordTimeout time.Duration `toml:"record_timeout"`
	// Retention is how long interaction records (with their events) are kept; 0 keeps
	// them for ever.
	Retention time.Duration `toml:"retention"`
}

// Open names what store.Open needs: the driver and, for it, the path or the DSN.
func (s Store) Open() (driver, dsn string) {
	if s.Driver == "postgres" {
		return s.Driver, s.DSN
	}
	return s.Driver, s.Path
}

// DemoCRM runs the reference CRM inside idv serve.
type DemoCRM struct {
	Enabled bool   `toml:"enabled"`
	Listen  string `toml:"listen"`
}

// Security is lockout and throttling, kept in the database across calls and instances.
type Security struct {
	// LockoutFailures lock one calling number (withheld callers together) out of one
	// customer; CustomerFailures, from every caller, lock the customer out (never fewer
	// than LockoutFailures: store.Guard).
	LockoutFailures  int           `toml:"verify_lockout_failures"`
	CustomerFailures int           `toml:"verify_lockout_customer_failures"`
	LockoutWindow    time.Duration `toml:"verify_lockout_window"`
	PerANI           int           `toml:"identify_per_ani"`
	Withheld         int           `toml:"identify_withheld"`
	Global           int           `toml:"identify_global"`
	IdentifyWindow   time.Duration `toml:"identify_window"`
}

// Longest is the longest window of the counters: they are kept no longer.
func (s Security) Longest() time.Duration { return max(s.LockoutWindow, s.IdentifyWindow) }

func (c *Config) checkStore() error {
	if c.Privacy.ANIVisibleDigits < -1 {
		return c.fail("privacy.ani_visible_digits", "must be -1 (show all) or a number of trailing digits to show")
	}
	switch c.Store.Driver {
	case "sqlite":
		if c.Store.Path == "" {
			return c.fail("store.path", "must name the SQLite database file")
		}
	case "postgres":
		if !strings.HasPrefix(c.Store.DSN, "postgres://") && !strings.HasPrefix(c.Store.DSN, "postgresql://") && !strings.Contains(c.Store.DSN, "=") {
			return c.fail("store.dsn", "must be a PostgreSQL connection string, e.g. \"postgres://idv:secret@db:5432/idv\"")
		}
	default:
		return c.fail("store.driver", "%q is not supported (sqlite, postgres)", c.Store.Driver)
	}
	if c.DemoCRM.Enabled {
		if err := c.checkListen("democrm.listen", c.DemoCRM.Listen, "127.0.0.1:8089"); err != nil {
			return err
		}
	}
	if r := c.Store.Retention; r != 0 && r < 24*time.Hour {
		return c.fail("store.retention", "must be 0 (keep records for ever) or at least \"24h\": records are pruned once a day")
	}
	if s := c.Security; s.LockoutFailures < 0 || s.CustomerFailures < 0 || s.PerANI < 0 || s.Withheld < 0 || s.Global < 0 || s.LockoutWindow <= 0 || s.IdentifyWindow <= 0 {
		return c.fail("security", "counts must be 0 (off) or more and windows positive durations")
	}
	return nil
}
