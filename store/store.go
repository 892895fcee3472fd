// Package store keeps interaction records and their step events (flow.Interaction)
// in SQLite (modernc.org/sqlite, no cgo; the default) or PostgreSQL (pgx), behind one type.
// Reports read only these tables, through ReportGroups, EventCounts and DetailRows; the
// instances sharing PostgreSQL share their live state through live_parts (live.go). No
// other package speaks SQL.
//
// SQLite runs in WAL mode with synchronous=NORMAL: a committed record survives the idv
// process being killed (the WAL is in the OS's hands), and only an OS crash or power loss
// may lose the last transactions. Writers wait for each other (busy_timeout) rather than
// fail. PostgreSQL is for several idv instances sharing one database.
package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
	_ "modernc.org/sqlite"             // the database/sql driver "sqlite"

	"github.com/idv-project/idv/flow"
)

// Drivers idv stores to.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Store is the interaction database. It implements flow.Recorder.
type Store struct {
	db      *sql.DB
	dialect string
	// stmts holds statements prepared on first use (stmt), by query: preparing on every
	// record cost a tenth of a call's CPU.
	stmts sync.Map
	// w commits records in groups (writer.go).
	w       *writer
	closeMu sync.RWMutex
	closed  bool
	// MaskANI hides digits of calling numbers before they are stored.
	MaskANI func(string) string
	// aniKey keys the hash of calling numbers (ani_key) that the context lookup matches.
	aniKey []byte
	// aniHashes are HMACs keyed with aniKey, for ANIKey to reuse.
	aniHashes sync.Pool
}

// key is the secret of that name the database keeps, made (32 random bytes) the first
// time it is asked for: every instance sharing the database reads the same one.
// A database opened read-only that has none yet gets a key of this process's: it
// writes no ani_key the key must match later.
func (s *Store) key(ctx context.Context, name string) ([]byte, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.bind(`SELECT value FROM store_keys WHERE name = ?`), name).Scan(&v)
	if err == nil {
		return hex.DecodeString(v)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, s.bind(`INSERT INTO store_keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`),
		name, hex.EncodeToString(fresh)); err != nil {
		return fresh, nil // read-only: nothing this process writes needs the key again
	}
	// Another instance may have inserted its key first: the database's is the one.
	if err := s.db.QueryRowContext(ctx, s.bind(`SELECT value FROM store_keys WHERE name = ?`), name).Scan(&v); err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	return hex.DecodeString(v)
}

// ANIKey is the keyed hash of an E.164 calling number as ani_key holds it; "" for "".
func (s *Store) ANIKey(e164 string) string {
	if e164 == "" {
		return ""
	}
	// Each record hashes its number: the keyed hashes are reset and reused, not made
	// anew (six allocations each).
	h, _ := s.aniHashes.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, s.aniKey)
	} else {
		h.Reset()
	}
	h.Write([]byte(e164))
	var sum [sha256.Size]byte
	key := hex.EncodeToString(h.Sum(sum[:0]))
	s.aniHashes.Put(h)
	return key
}

// Open opens the database — for SQLite a file path (created if needed), for PostgreSQL a
// connection string — and migrates it to this version's schema.
func Open(ctx context.Context, driver, dsn string) (*Store, error) {
	var db *sql.DB
	var err error
	switch driver {
	case SQLite:
		// A path may carry more of the driver's parameters: idv.db?_pragma=cache_size(-20000).
		path, extra, _ := strings.Cut(dsn, "?")
		q, qerr := url.ParseQuery(extra)
		if qerr != nil {
			return nil, fmt.Errorf("store %s: %w", dsn, qerr)
		}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(ON)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		db, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		// One writer at a time is SQLite's rule; a small pool serves concurrent readers.
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4) // opening a connection reads the schema again: keep them
	case Postgres:
		db, err = sql.Open("pgx", dsn)
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
	default:
		return nil, fmt.Errorf("store: unknown driver %q (sqlite, postgres)", driver)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", driver, err)
	}
	s := &Store{db: db, dialect: driver}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", driver, err)
	}
	// SQLite has one writer at a time anyway; PostgreSQL takes a few batches at once.
	writers := 1
	if driver == Postgres {
		writers = 4
	}
	// The statements a transaction runs are prepared now: preparing one first inside a
	// transaction would take a second connection from the pool while holding one, and
	// with the pool full of others waiting for the same lock (SQLite's one writer, a
	// customer's reservations) nobody would get one: calls stalled.
	for _, q := range inTransaction() {
		if _, err := s.stmt(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("store %s: prepare: %w", driver, err)
		}
	}
	if s.aniKey, err = s.key(ctx, "ani"); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", driver, err)
	}
	s.startWriters(writers)
	return s, nil
}

// OpenExisting opens a database that must already exist, for commands that only read
// (idv report, idv backup): a SQLite path that names no file is an error that names it,
// where Open would create an empty database and the report come out empty.
func OpenExisting(ctx context.Context, driver, dsn string) (*Store, error) {
	if driver == SQLite {
		path, _, _ := strings.Cut(dsn, "?")
		if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("store: no SQLite database at %s (store.path; idv serve creates it on its first start)", path)
		}
	}
	return Open(ctx, driver, dsn)
}

// prepared is a statement of inTransaction, prepared when the store opened: inside a
// transaction no statement may be prepared on the pool (see Open).
func (s *Store) prepared(query string) (*sql.Stmt, error) {
	st, ok := s.stmts.Load(query)
	if !ok {
		return nil, fmt.Errorf("store: statement not prepared at open: %.60s…", query)
	}
	return st.(*sql.Stmt), nil
}

// inTransaction are the statements that run inside transactions, through Stmt.
func inTransaction() []string {
	qs := []string{countAttemptsSQL, insertAttemptSQL, upsertSQL}
	for _, byKind := range eventInserts {
		qs = append(qs, byKind[1:]...)
	}
	return qs
}

// Driver is the back end: SQLite or Postgres.
func (s *Store) Driver() string { return s.dialect }

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store %s: %w", s.dialect, err)
	}
	return nil
}

// Close writes the records still queued and closes the database.
func (s *Store) Close() error {
	s.stopWriters()
	s.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}

// stmt is the query (with ? placeholders) prepared, once per store: the queries of every
// call should not be parsed again on every call.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, s.bind(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// bind rewrites ? placeholders as $1, $2… for PostgreSQL.
func (s *Store) bind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

const (
	// upsertSQL writes a record; a record of a call still in progress never overwrites one
	// of the call's end: several writers (PostgreSQL) may commit a call's two records out
	// of order when the first was still queued as the second came.
	upsertSQL = `INSERT INTO interactions (id, line, script, started_at, ended_at, ani, ani_e164,
		dnis, channel, uniqueid, language, customer_id, customer_name, identifier, status, reason, method,
		identify_attempts, verify_attempts, route, queue_status, id_type, factors_asked, factors_passed, risk, ani_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, ani_e164 = excluded.ani_e164,
		language = excluded.language, customer_id = excluded.customer_id, customer_name = excluded.customer_name,
		identifier = excluded.identifier, status = excluded.status, reason = excluded.reason, method = excluded.method,
		identify_attempts = excluded.identify_attempts, verify_attempts = excluded.verify_attempts,
		route = excluded.route, queue_status = excluded.queue_status, id_type = excluded.id_type,
		factors_asked = excluded.factors_asked, factors_passed = excluded.factors_passed, risk = excluded.risk,
		ani_key = excluded.ani_key
		WHERE interactions.ended_at IS NULL OR excluded.ended_at IS NOT NULL`
	insertEventSQL = `INSERT INTO events (interaction_id, seq, at, kind, name, result, count, latency_us, detail, line, started_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// list reads a comma-separated column; nil for "".
func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (s *Store) mask(ani string) string {
	if s.MaskANI == nil {
		return ani
	}
	return s.MaskANI(ani)
}

func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// ErrNotFound is returned for an interaction that is not stored.
var ErrNotFound = errors.New("interaction not found")

// Interaction reads one interaction and its events.
func (s *Store) Interaction(ctx context.Context, id string) (*flow.Interaction, error) {
	in := &flow.Interaction{ID: id}
	var started int64
	var ended sql.NullInt64
	var status, reason, method string
	var wait, talk sql.NullInt64
	var asked, passed, risk string
	err := s.db.QueryRowContext(ctx, s.bind(`SELECT line, script, started_at, ended_at, ani, ani_e164, dnis, channel,
		uniqueid, language, customer_id, customer_name, identifier, status, reason, method, identify_attempts,
		verify_attempts, route, queue_status, agent, wrapup, wait_ms, talk_ms, id_type, factors_asked, factors_passed, risk
		FROM interactions WHERE id = ?`), id).Scan(
		&in.Line, &in.Script, &started, &ended, &in.ANI, &in.ANIE164, &in.DNIS, &in.Channel, &in.UniqueID,
		&in.Language, &in.CustomerID, &in.CustomerName, &in.Identifier, &status, &reason, &method,
		&in.IdentifyAttempts, &in.VerifyAttempts, &in.Route, &in.QueueStatus, &in.Agent, &in.WrapUp, &wait, &talk,
		&in.IDType, &asked, &passed, &risk)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", id, err)
	}
	in.Status, in.Reason, in.Method = flow.Status(status), flow.Reason(reason), flow.Method(method)
	in.FactorsAsked, in.FactorsPassed, in.Risk = list(asked), list(passed), list(risk)
	in.Started = time.UnixMilli(started)
	if ended.Valid {
		in.Ended = time.UnixMilli(ended.Int64)
	}
	for _, d := range []struct {
		v   sql.NullInt64
		set **time.Duration
	}{{wait, &in.Wait}, {talk, &in.Talk}} {
		if d.v.Valid {
			ms := time.Duration(d.v.Int64) * time.Millisecond
			*d.set = &ms
		}
	}
	rows, err := s.db.QueryContext(ctx, s.bind(`SELECT at, kind, name, result, count, latency_us, detail FROM events
		WHERE interaction_id = ? ORDER BY seq`), id)
	if err != nil {
		return nil, fmt.Errorf("store %s events: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev flow.Event
		var at, lat int64
		var kind string
		if err := rows.Scan(&at, &kind, &ev.Name, &ev.Result, &ev.Count, &lat, &ev.Detail); err != nil {
			return nil, fmt.Errorf("store %s events: %w", id, err)
		}
		ev.At, ev.Kind, ev.Latency = time.UnixMilli(at), flow.EventKind(kind), time.Duration(lat)*time.Microsecond
		in.Events = append(in.Events, ev)
	}
	return in, rows.Err()
}
