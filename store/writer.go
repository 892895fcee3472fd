package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/idv-project/idv/flow"
)

// Group commit. Every call writes its record twice (when the route is sent and when the
// call leaves idv), each a transaction; one transaction per record made SQLite's WAL
// writes a third of a call's CPU. Record therefore hands its record to a writer, which
// takes every record waiting at that moment and commits them in one transaction; each
// Record still returns only once its own record is committed, so durability is as
// before, and under load one commit carries many calls. A batch that fails is retried
// record by record, so one bad record fails only its own call.

// maxBatch bounds the records of one transaction.
const maxBatch = 256

// batchTimeout bounds one transaction, whatever the callers' own deadlines: a record
// whose caller gave up waiting is still written.
const batchTimeout = 30 * time.Second

// job is one record waiting for the writer: a copy of the interaction as it was when
// Record was called (the flow goes on changing its own).
type job struct {
	in   flow.Interaction
	done chan error
}

// writer commits records in batches.
type writer struct {
	jobs chan job
	// overflow holds, in order, the records that found jobs full: a burst of calls
	// ending at once (a trunk lost, Asterisk restarted, thousands of callers hanging up)
	// must not lose a record because the queue was full. It is bounded (maxOverflow):
	// records whose callers stopped waiting stay queued while the database is slow.
	// While it holds any, new records join it, so that a call's records keep their
	// order; more wakes a writer for it.
	omu      sync.Mutex
	overflow []job
	more     chan struct{}
	quit     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	// stored remembers how many of an interaction's flow events are in the database, so
	// the next record inserts only the new ones without asking. A miss (a restart, a
	// full cache) inserts them all and lets the primary key skip those already there.
	stored map[string]int
}

// maxStored bounds the stored-events cache; past it the cache starts over.
const maxStored = 50000

func (s *Store) startWriters(n int) {
	s.w = &writer{jobs: make(chan job, 4*maxBatch), more: make(chan struct{}, 1), quit: make(chan struct{}), stored: map[string]int{}}
	for range n {
		s.w.wg.Add(1)
		go s.write()
	}
}

// stopWriters writes what is queued and stops the writers.
func (s *Store) stopWriters() {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return
	}
	s.closed = true
	close(s.w.quit)
	s.closeMu.Unlock()
	s.w.wg.Wait()
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("the database is closed")

// Record implements flow.Recorder: it writes the interaction as it is now, with the
// events not yet stored, and returns once that is committed (or ctx ends; the record is
// then still written when the database allows).
func (s *Store) Record(ctx context.Context, in *flow.Interaction) error {
	// A copy of the fields; the events are shared: the flow only ever appends to them,
	// which leaves the first len(Events) that the writer reads as they are.
	j := job{in: *in, done: make(chan error, 1)}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return fmt.Errorf("store record %s: %w", in.ID, ErrClosed)
	}
	queued := s.w.enqueue(j)
	s.closeMu.RUnlock()
	if !queued {
		return fmt.Errorf("store record %s: %d records wait for the database already (is it down?): this one is dropped", in.ID, maxOverflow+4*maxBatch)
	}
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("store record %s: not committed in time (it is written when the database allows): %w", in.ID, ctx.Err())
	}
}

// maxOverflow bounds the overflow: a burst of calls ending at once fits (two records
// per call, 32,768 calls), a database down for minutes under load does not grow the
// heap until the process is killed.
const maxOverflow = 65536

// enqueue queues a record for the writers, never waiting: past the channel's room it
// joins the overflow; false when that is full too.
func (w *writer) enqueue(j job) bool {
	w.omu.Lock()
	defer w.omu.Unlock()
	if len(w.overflow) == 0 {
		select {
		case w.jobs <- j:
			return true
		default:
		}
	}
	if len(w.overflow) >= maxOverflow {
		return false
	}
	w.overflow = append(w.overflow, j)
	select {
	case w.more <- struct{}{}:
	default:
	}
	return true
}

// fill adds to batch, up to maxBatch, the records waiting in the channel and then those
// of the overflow (which came after them), and wakes another pass for any left.
func (w *writer) fill(batch []job) []job {
drain:
	for len(batch) < maxBatch {
		select {
		case j := <-w.jobs:
			batch = append(batch, j)
		default:
			break drain
		}
	}
	w.omu.Lock()
	defer w.omu.Unlock()
	n := min(maxBatch-len(batch), len(w.overflow))
	batch = append(batch, w.overflow[:n]...)
	clear(w.overflow[:n]) // the array keeps no taken record alive
	w.overflow = w.overflow[n:]
	if len(w.overflow) == 0 {
		w.overflow = nil // let the burst's array go
	} else {
		select {
		case w.more <- struct{}{}:
		default:
		}
	}
	return batch
}

// write is one writer: it takes a record, every other one already waiting, and commits
// them together.
func (s *Store) write() {
	defer s.w.wg.Done()
	batch := make([]job, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case j := <-s.w.jobs:
			batch = append(batch, j)
		case <-s.w.more:
		case <-s.w.quit:
			// Write what was queued before Close.
			for {
				if batch = s.w.fill(batch[:0]); len(batch) == 0 {
					return
				}
				s.commit(batch)
			}
		}
		if batch = s.w.fill(batch); len(batch) > 0 {
			s.commit(batch)
		}
	}
}

// commit writes a batch in one transaction, or each record alone when that fails.
func (s *Store) commit(batch []job) {
	stored, err := s.writeBatch(batch)
	if err == nil {
		s.remember(stored)
		for _, j := range batch {
			j.done <- nil
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- err
		return
	}
	for _, j := range batch {
		stored, err := s.writeBatch([]job{j})
		if err == nil {
			s.remember(stored)
		}
		j.done <- err
	}
}

func (s *Store) remember(stored map[string]int) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if len(s.w.stored)+len(stored) > maxStored {
		clear(s.w.stored)
	}
	for id, n := range stored {
		s.w.stored[id] = n
	}
}

func (s *Store) known(id string) (int, bool) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	n, ok := s.w.stored[id]
	return n, ok
}

// writeBatch writes the records in one transaction and returns how many flow events
// each interaction now has stored.
func (s *Store) writeBatch(batch []job) (map[string]int, error) {
	// On SQLite every statement run under a context that can end starts a goroutine to
	// interrupt it, and the wait for the write lock is bounded by busy_timeout already,
	// under batchTimeout: there only the wait for a pooled connection has the deadline,
	// and the batch runs without one.
	bounded, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	ctx := bounded
	prepared, err := s.prepared(upsertSQL)
	if err != nil {
		return nil, fmt.Errorf("store record %s: %w", batch[0].in.ID, err)
	}
	var tx *sql.Tx
	if s.dialect == SQLite {
		var conn *sql.Conn
		if conn, err = s.db.Conn(bounded); err != nil {
			return nil, fmt.Errorf("store record %s: %w", batch[0].in.ID, err)
		}
		defer conn.Close()
		ctx = context.Background()
		tx, err = conn.BeginTx(ctx, nil)
	} else {
		tx, err = s.db.BeginTx(ctx, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("store record %s: %w", batch[0].in.ID, err)
	}
	defer tx.Rollback()
	upsert := tx.StmtContext(ctx, prepared)
	stored := make(map[string]int, len(batch))
	for _, j := range batch {
		in := &j.in
		// The words (line, status, route…) come boxed from the cache; the caller's own
		// values (numbers, customer, ids) are never kept in it.
		if _, err := upsert.ExecContext(ctx,
			in.ID, words.box(in.Line), words.box(in.Script), in.Started.UnixMilli(), ms(in.Ended), s.mask(in.ANI), s.mask(in.ANIE164),
			in.DNIS, in.Channel, in.UniqueID, words.box(in.Language), in.CustomerID, in.CustomerName, in.Identifier,
			words.box(string(in.Status)), words.box(string(in.Reason)), words.box(string(in.Method)), int64(in.IdentifyAttempts), int64(in.VerifyAttempts),
			words.box(in.Route), words.box(in.QueueStatus), words.box(in.IDType), words.box(strings.Join(in.FactorsAsked, ",")),
			words.box(strings.Join(in.FactorsPassed, ",")), words.box(strings.Join(in.Risk, ",")), s.ANIKey(in.ANIE164)); err != nil {
			return nil, fmt.Errorf("store record %s: %w", in.ID, err)
		}
		from, ok := stored[in.ID]
		if !ok {
			from, ok = s.known(in.ID)
		}
		if !ok {
			from = 0 // some may be stored: let the primary key skip them
		}
		if err := s.insertEvents(ctx, tx, in, from, !ok); err != nil {
			return nil, err
		}
		stored[in.ID] = max(from, len(in.Events))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store record %s: %w", batch[0].in.ID, err)
	}
	return stored, nil
}

// boxes holds interface values of strings, made once: boxing a string for a query
// argument allocates, and an event's kind, step name and result come from a few
// distinct words.
type boxes struct {
	mu sync.RWMutex
	m  map[string]any
}

// maxBoxes bounds the words kept; past it a word is boxed afresh each time.
const maxBoxes = 4096

// maxBoxedLen keeps long texts (which repeat rarely) out of the cache.
const maxBoxedLen = 64

var words = &boxes{m: map[string]any{}}

// box returns s as an interface value, from the cache when s has been boxed before.
func (b *boxes) box(s string) any {
	if s == "" || len(s) > maxBoxedLen {
		return s
	}
	b.mu.RLock()
	v, ok := b.m[s]
	b.mu.RUnlock()
	if ok {
		return v
	}
	v = strings.Clone(s) // s may be a piece of a larger string (the AGI environment's, with the caller's number)
	b.mu.Lock()
	if len(b.m) < maxBoxes {
		b.m[s] = v
	}
	b.mu.Unlock()
	return v
}

// eventsPerInsert bounds the rows of one INSERT statement.
const eventsPerInsert = 32

// eventInserts are the INSERT statements of 1 to eventsPerInsert events, [1] of them
// skipping events already stored: written once, not on every record.
var eventInserts = func() (q [2][eventsPerInsert + 1]string) {
	for n := 1; n <= eventsPerInsert; n++ {
		q[0][n] = insertEventSQL + strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", n-1)
		q[1][n] = q[0][n] + ` ON CONFLICT (interaction_id, seq) DO NOTHING`
	}
	return q
}()

// insertEvents inserts the interaction's events from index from, several rows per
// statement (one statement per event was a tenth of a call's CPU).
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, in *flow.Interaction, from int, skipStored bool) error {
	for from < len(in.Events) {
		n := min(len(in.Events)-from, eventsPerInsert)
		q := eventInserts[0][n]
		if skipStored {
			q = eventInserts[1][n]
		}
		st, err := s.prepared(q)
		if err != nil {
			return fmt.Errorf("store record %s: %w", in.ID, err)
		}
		// The values every row repeats (the interaction's id, line and start) are boxed
		// once, and the few distinct words (kinds, step names, results) once for all
		// calls: an interface value per column was a third of a record's allocations.
		id, line, started := any(in.ID), any(in.Line), any(in.Started.UnixMilli())
		args := make([]any, 0, n*11)
		for i := from; i < from+n; i++ {
			ev := &in.Events[i]
			args = append(args, id, int64(i), ev.At.UnixMilli(), words.box(string(ev.Kind)), words.box(ev.Name),
				words.box(string(ev.Result)), int64(ev.Count), ev.Latency.Microseconds(), ev.Detail, line, started)
		}
		if _, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store record %s events %d-%d: %w", in.ID, from, from+n-1, err)
		}
		from += n
	}
	return nil
}
