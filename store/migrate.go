package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// migrations are applied in order, each once, in one transaction each; never edit a
// released one, append. The SQL is written once: {INT} is a 64-bit integer, {TEXT} text.
var migrations = []string{
	`CREATE TABLE interactions (
		id                TEXT PRIMARY KEY,
		line              TEXT NOT NULL,
		script            TEXT NOT NULL,
		started_at        {INT} NOT NULL,  -- unix ms
		ended_at          {INT},           -- unix ms, NULL while in the flow
		ani               TEXT NOT NULL,   -- masked per privacy.ani_visible_digits
		ani_e164          TEXT NOT NULL,   -- masked likewise
		dnis              TEXT NOT NULL,
		channel           TEXT NOT NULL,
		uniqueid          TEXT NOT NULL,
		language          TEXT NOT NULL,
		customer_id       TEXT NOT NULL,
		customer_name     TEXT NOT NULL,
		identifier        TEXT NOT NULL,   -- typed identifier, only with privacy.record_identifier
		status            TEXT NOT NULL,
		reason            TEXT NOT NULL,
		method            TEXT NOT NULL,
		identify_attempts INTEGER NOT NULL,
		verify_attempts   INTEGER NOT NULL,
		route             TEXT NOT NULL,
		queue_status      TEXT NOT NULL,
		agent             TEXT NOT NULL DEFAULT '',
		wait_ms           {INT},
		talk_ms           {INT}
	)`,
	`CREATE INDEX interactions_started ON interactions (started_at)`,
	`CREATE INDEX interactions_line_started ON interactions (line, started_at)`,
	`CREATE TABLE events (
		interaction_id TEXT NOT NULL REFERENCES interactions (id) ON DELETE CASCADE,
		seq            INTEGER NOT NULL,
		at             {INT} NOT NULL,  -- unix ms
		kind           TEXT NOT NULL,
		name           TEXT NOT NULL,
		result         TEXT NOT NULL,
		count          INTEGER NOT NULL,
		latency_us     {INT} NOT NULL,
		detail         TEXT NOT NULL,   -- never the digits of a secret
		line           TEXT NOT NULL,   -- the interaction's, so reports need no join
		started_at     {INT} NOT NULL,  -- the interaction's start, unix ms
		PRIMARY KEY (interaction_id, seq)
	)`,
	`CREATE INDEX events_started_kind ON events (started_at, kind)`,
	`ALTER TABLE interactions ADD COLUMN wrapup TEXT NOT NULL DEFAULT ''`,
	`CREATE TABLE report_runs (
		schedule     TEXT NOT NULL,
		due_at       {INT} NOT NULL,  -- unix ms: the cron time this run is for
		owner        TEXT NOT NULL,   -- instance holding the lease
		lease_until  {INT} NOT NULL,
		started_at   {INT} NOT NULL,
		finished_at  {INT},
		status       TEXT NOT NULL,   -- running, delivered, failed
		detail       TEXT NOT NULL,
		PRIMARY KEY (schedule, due_at)
	)`,
	`CREATE TABLE guard_events (
		kind TEXT NOT NULL,   -- verify_failed (key: customer id), identify (key: calling number)
		key  TEXT NOT NULL,
		at   {INT} NOT NULL  -- unix ms
	)`,
	`CREATE INDEX guard_events_kind_key_at ON guard_events (kind, key, at)`,
	// The live state each idv instance shares with the others (cluster package).
	`CREATE TABLE live_parts (
		instance   TEXT PRIMARY KEY,
		part       TEXT NOT NULL,    -- JSON of live.Part
		updated_at {INT} NOT NULL    -- unix ms
	)`,
	// How the call ended in the queue (flow.QueueResult) as the ARI observer reported it,
	// for the reports to group by; '' when it never reported.
	`ALTER TABLE interactions ADD COLUMN queue_result TEXT NOT NULL DEFAULT ''`,
	// Calls recorded before: the result of their last agent step, which is what the
	// interaction view shows (flow.Interaction.QueueResult).
	`UPDATE interactions SET queue_result = (SELECT e.result FROM events e
		WHERE e.interaction_id = interactions.id AND e.kind = 'agent' ORDER BY e.seq DESC LIMIT 1)
		WHERE id IN (SELECT interaction_id FROM events WHERE kind = 'agent')`,
	// Verification attempts the Guard let through (guard.go), per customer and caller,
	// reserved before the CRM checks the secret.
	`CREATE TABLE verify_attempts (
		id       TEXT PRIMARY KEY,  -- random, the attempt's handle
		customer TEXT NOT NULL,
		caller   TEXT NOT NULL,     -- the calling number, '' when withheld
		at       {INT} NOT NULL,    -- unix ms: reserved, or failed
		failed   INTEGER NOT NULL   -- 0 while the CRM checks the secret, 1 when it was wrong
	)`,
	`CREATE INDEX verify_attempts_customer_at ON verify_attempts (customer, at)`,
	// Failures counted before, per customer only, carry over as failures of withheld
	// callers: a lockout in force at the upgrade still holds for them, and counts towards
	// the customer's ceiling. guard_events' verify_failed rows are read no more; pruning
	// deletes them.
	`INSERT INTO verify_attempts (id, customer, caller, at, failed)
		SELECT 'v' || key || '-' || at, key, '', at, 1 FROM guard_events WHERE kind = 'verify_failed'
		ON CONFLICT (id) DO NOTHING`,
	// Who saw or changed personal data, when, from where (audit.go); kept for
	// web.audit_retention.
	`CREATE TABLE audit_log (
		at        {INT} NOT NULL,  -- unix ms
		user_name TEXT NOT NULL,
		role      TEXT NOT NULL,
		address   TEXT NOT NULL,   -- the client's, as the web server saw it
		action    TEXT NOT NULL,   -- store.AuditAction: view, list, report, wrapup, live
		target    TEXT NOT NULL,   -- the interaction, report or agent
		detail    TEXT NOT NULL    -- the filter, format or wrap-up code
	)`,
	`CREATE INDEX audit_log_at ON audit_log (at)`,
	// How the caller was identified (flow.Interaction.IDType: ani, customer_id, account,
	// …), the verification factors asked and passed, and why the risk rule added some
	// (comma-separated; never a factor's value).
	`ALTER TABLE interactions ADD COLUMN id_type TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE interactions ADD COLUMN factors_asked TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE interactions ADD COLUMN factors_passed TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE interactions ADD COLUMN risk TEXT NOT NULL DEFAULT ''`,
	// The agent's wrap-up note (free text, web.MaxNoteLen at most): shown in the
	// interaction's detail, never in a report unless one is written to include it.
	`ALTER TABLE interactions ADD COLUMN wrapup_note TEXT NOT NULL DEFAULT ''`,
	// The agent's desk (history, pending wrap-up) and the agent filter read by agent.
	`CREATE INDEX interactions_agent_started ON interactions (agent, started_at)`,
	// The calling number's keyed hash (HMAC-SHA256 under store_keys' 'ani' key, which the
	// database keeps so that every instance and restart uses one): the context lookup
	// (GET /api/interactions?ani=) matches the whole number without the store keeping it
	// in clear; '' for a withheld or invalid number.
	`CREATE TABLE store_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`ALTER TABLE interactions ADD COLUMN ani_key TEXT NOT NULL DEFAULT ''`,
	`CREATE INDEX interactions_ani_key ON interactions (ani_key, started_at)`,
}

func (s *Store) dialectSQL(q string) string {
	r := strings.NewReplacer("{INT}", "INTEGER")
	if s.dialect == Postgres {
		r = strings.NewReplacer("{INT}", "BIGINT")
	}
	return r.Replace(q)
}

func (s *Store) migrate(ctx context.Context) error {
	// Up to date: nothing to write (a read-only database is still usable for reading).
	var current int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err == nil && current == len(migrations) {
		return nil
	}
	for {
		done, err := s.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrationLock is the PostgreSQL advisory lock key under which instances migrate.
const migrationLock = 0x1d5_0001

// migrateOne applies the next migration in a transaction of its own; done is true when
// there is none left. Instances starting at once on one database take turns: SQLite's
// transactions are BEGIN IMMEDIATE, PostgreSQL's take an advisory lock first, before
// even the migrations table is created.
func (s *Store) migrateOne(ctx context.Context) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return false, fmt.Errorf("migrate: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.dialectSQL(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at {INT} NOT NULL)`)); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	if have > len(migrations) {
		return false, fmt.Errorf("database schema version %d is newer than this idv (%d): upgrade idv", have, len(migrations))
	}
	if have == len(migrations) {
		return true, nil
	}
	v := have + 1
	if _, err := tx.ExecContext(ctx, s.dialectSQL(migrations[v-1])); err != nil {
		return false, fmt.Errorf("migrate %d: %w", v, err)
	}
	if _, err := tx.ExecContext(ctx, s.bind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), v, time.Now().UnixMilli()); err != nil {
		return false, fmt.Errorf("migrate %d: %w", v, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %d: %w", v, err)
	}
	return false, nil
}
