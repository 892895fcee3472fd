package loadtest

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	zagi "github.com/zaf/agi"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// The fair floor is the second baseline of `idv loadtest -baseline`: the bare zaf/agi
// server of ServeBaseline, plus the work idv cannot avoid — the same CRM requests, made
// with a plain net/http client, and the same record (the interaction row and its event
// rows), written with plain database/sql inserts in one transaction per call. idv's
// cost above the floor is its own: the flow, the security guard's queries, the second
// record of a queued call, logs, metrics and the live views.

// FloorCall is what the floor does for one call of a scenario.
type FloorCall struct {
	// Commands are the AGI command lines idv sent.
	Commands []string `json:"commands"`
	// CRM are the requests idv made to the CRM, in order.
	CRM []CRMRequest `json:"crm"`
	// Record is the interaction row idv stored (its columns in the order of
	// floorColumns), Events its event rows.
	Record []any   `json:"record"`
	Events [][]any `json:"events"`
}

// CRMRequest is one request to the CRM, relative to its base URL.
type CRMRequest struct {
	Op     string `json:"op"` // by_phone, by_id or verify
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   string `json:"body,omitempty"`
}

// FloorPlan is the floor's calls by scenario name.
type FloorPlan map[string]FloorCall

// FloorScript is the script a call of this scenario asks the floor server for.
func FloorScript(sc Scenario) string { return "floor/" + sc.Name }

// floorColumns are the interaction columns the floor copies and writes.
const floorColumns = `line, script, started_at, ended_at, ani, ani_e164, dnis, channel, uniqueid, language,
	customer_id, customer_name, identifier, status, reason, method, identify_attempts, verify_attempts, route, queue_status`

// floorEventColumns are the event columns the floor copies and writes.
const floorEventColumns = `seq, at, kind, name, result, count, latency_us, detail, line, started_at`

// floorSchema is the floor's database: the columns of idv's two record tables, with no
// index beyond the primary keys.
const floorSchema = `CREATE TABLE IF NOT EXISTS interactions (id TEXT PRIMARY KEY, line TEXT, script TEXT, started_at INTEGER,
	ended_at INTEGER, ani TEXT, ani_e164 TEXT, dnis TEXT, channel TEXT, uniqueid TEXT, language TEXT, customer_id TEXT,
	customer_name TEXT, identifier TEXT, status TEXT, reason TEXT, method TEXT, identify_attempts INTEGER,
	verify_attempts INTEGER, route TEXT, queue_status TEXT);
CREATE TABLE IF NOT EXISTS events (interaction_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER, kind TEXT, name TEXT,
	result TEXT, count INTEGER, latency_us INTEGER, detail TEXT, line TEXT, started_at INTEGER,
	PRIMARY KEY (interaction_id, seq))`

// PlanFloor builds the floor's calls from the captured calls: their commands, and what
// idv's database holds of each (the CRM operations in its events, the record itself).
// db is idv's SQLite file; ids are the captured calls' interaction ids by scenario.
func PlanFloor(ctx context.Context, db string, mix []Scenario, seqs Sequences, ids map[string]string) (FloorPlan, error) {
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	plan := FloorPlan{}
	for _, sc := range mix {
		fc := FloorCall{Commands: seqs[sc.Name]}
		id := ids[sc.Name]
		if id == "" {
			plan[sc.Name] = fc
			continue
		}
		rec := make([]any, strings.Count(floorColumns, ",")+1)
		ptrs := make([]any, len(rec))
		for i := range rec {
			ptrs[i] = &rec[i]
		}
		if err := conn.QueryRowContext(ctx, "SELECT "+floorColumns+" FROM interactions WHERE id = ?", id).Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("floor: record of %s (%s): %w", sc.Name, id, err)
		}
		fc.Record = rec
		rows, err := conn.QueryContext(ctx, "SELECT "+floorEventColumns+" FROM events WHERE interaction_id = ? ORDER BY seq", id)
		if err != nil {
			return nil, err
		}
		var ops []string
		for rows.Next() {
			ev := make([]any, strings.Count(floorEventColumns, ",")+1)
			ptrs := make([]any, len(ev))
			for i := range ev {
				ptrs[i] = &ev[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			for i, v := range ev { // SQLite hands text back as text or bytes; JSON wants text
				if b, ok := v.([]byte); ok {
					ev[i] = string(b)
				}
			}
			if ev[2] == "crm" {
				ops = append(ops, fmt.Sprint(ev[3]))
			}
			fc.Events = append(fc.Events, ev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for i, v := range fc.Record {
			if b, ok := v.([]byte); ok {
				fc.Record[i] = string(b)
			}
		}
		fc.CRM = crmRequests(sc, ops, fmt.Sprint(fc.Record[10]))
		plan[sc.Name] = fc
	}
	return plan, nil
}

// crmRequests are the requests of idv's CRM operations for a call of sc (the reference
// API, docs/crm-api.md): the calling number for by_phone, the entries the caller typed,
// in order, for by_id and verify.
func crmRequests(sc Scenario, ops []string, customer string) []CRMRequest {
	entries := strings.Split(sc.Keys, "#")
	next := func() string {
		if len(entries) == 0 {
			return ""
		}
		e := entries[0]
		entries = entries[1:]
		return e
	}
	var out []CRMRequest
	for _, op := range ops {
		switch op {
		case "by_phone":
			out = append(out, CRMRequest{Op: op, Method: http.MethodGet, Path: "/customers?phone=" + url.QueryEscape(e164JP(sc.ANI))})
		case "by_id":
			out = append(out, CRMRequest{Op: op, Method: http.MethodGet, Path: "/customers/" + url.PathEscape(next())})
		case "verify":
			out = append(out, CRMRequest{Op: op, Method: http.MethodPost, Path: "/customers/" + url.PathEscape(customer) + "/verify",
				Body: `{"pin":"` + next() + `"}`})
		}
	}
	return out
}

// e164JP writes a Japanese national number in E.164, as idv does for the default line's
// region; others are left as they are.
func e164JP(ani string) string {
	if strings.HasPrefix(ani, "0") {
		return "+81" + ani[1:]
	}
	return ani
}

// Save writes the plan as JSON.
func (p FloorPlan) Save(path string) error { return saveJSON(path, p) }

// LoadFloorPlan reads what Save wrote.
func LoadFloorPlan(path string) (FloorPlan, error) { return loadJSON[FloorPlan](path) }

// Floor is the fair-floor server: ServeBaseline's bare server that also makes each
// call's CRM requests to CRM (a base URL) and writes its record to DB.
type Floor struct {
	Plan FloorPlan
	CRM  string
	DB   *sql.DB
	// HTTP is the CRM client: net/http's transport, keeping as many idle connections as
	// idv's CRM client does.
	HTTP *http.Client

	seq sync.Mutex
	n   int
}

// OpenFloorDB opens (and creates) the floor's SQLite database with idv's settings (WAL,
// synchronous NORMAL) and one connection: SQLite takes one writer at a time.
func OpenFloorDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(floorSchema); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// NewFloor is a floor server for plan, with its CRM at crm and its records in db.
func NewFloor(plan FloorPlan, crm string, db *sql.DB) *Floor {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	return &Floor{Plan: plan, CRM: strings.TrimRight(crm, "/"), DB: db, HTTP: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// Serve accepts calls on ln until it is closed. Each call sends its scenario's commands
// ("floor/NAME") and reads each reply; the CRM requests are made where idv makes them
// (the number lookup after the welcome prompt, each other request after an entry ended
// with '#'), and the record is written before the route (SET CONTEXT or EXEC Queue) or
// at the end.
func (f *Floor) Serve(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go f.serveConn(conn)
	}
}

func (f *Floor) serveConn(conn net.Conn) {
	defer conn.Close()
	a := zagi.New()
	if a.Init(bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn))) != nil {
		return
	}
	fc := f.Plan[strings.TrimPrefix(a.Env["network_script"], "floor/")]
	crm, written, prompts := fc.CRM, false, 0
	for _, line := range fc.Commands {
		if !written && (strings.HasPrefix(line, "SET CONTEXT") || strings.HasPrefix(line, "EXEC Queue")) {
			f.record(fc)
			written = true
		}
		r, err := a.RawCommand(line)
		if err != nil && (errors.Is(err, io.EOF) || isNetError(err)) {
			break
		}
		if strings.HasPrefix(line, "STREAM FILE") {
			prompts++
		}
		if len(crm) > 0 && (crm[0].Op == "by_phone" && prompts == 1 || crm[0].Op != "by_phone" && r.Res == '#') {
			f.request(crm[0])
			crm = crm[1:]
		}
	}
	if !written {
		f.record(fc)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.CloseWrite()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, conn)
	}
}

// request makes one CRM request and reads its answer.
func (f *Floor) request(r CRMRequest) {
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, f.CRM+r.Path, body)
	if err != nil {
		return
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.HTTP.Do(req)
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// record writes the call's record in one transaction: the interaction row, then each
// event row, with plain INSERTs.
func (f *Floor) record(fc FloorCall) {
	if fc.Record == nil {
		return
	}
	f.seq.Lock()
	f.n++
	id := fmt.Sprintf("floor-%012d", f.n)
	f.seq.Unlock()
	tx, err := f.DB.Begin()
	if err != nil {
		return
	}
	defer tx.Rollback()
	args := append([]any{id}, fc.Record...)
	if _, err := tx.Exec("INSERT INTO interactions (id, "+floorColumns+") VALUES (?"+strings.Repeat(", ?", len(fc.Record))+")", args...); err != nil {
		return
	}
	for _, ev := range fc.Events {
		args := append([]any{id}, ev...)
		if _, err := tx.Exec("INSERT INTO events (interaction_id, "+floorEventColumns+") VALUES (?"+strings.Repeat(", ?", len(ev))+")", args...); err != nil {
			return
		}
	}
	tx.Commit()
}

// ListenAndServeFloor serves the floor on addr with the plan Save wrote to file, the
// CRM at crm and its database at db, until ctx is done: the process the load test starts
// for its -baseline run.
func ListenAndServeFloor(ctx context.Context, addr, file, crm, db string) error {
	plan, err := LoadFloorPlan(file)
	if err != nil {
		return err
	}
	conn, err := OpenFloorDB(db)
	if err != nil {
		return err
	}
	defer conn.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer context.AfterFunc(ctx, func() { ln.Close() })()
	return NewFloor(plan, crm, conn).Serve(ln)
}
