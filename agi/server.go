// Package agi is idv's FastAGI server: it accepts Asterisk's connections
// (AGI(agi://host:4573/idv?line=retail)), reads the agi_* environment, and hands each call
// to a Handler as a Session, which speaks the AGI commands of github.com/zaf/agi with
// deadlines and hang-up tracking and implements flow.Call. It knows nothing of the
// business flow.
package agi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Handler answers one FastAGI request. ServeAGI runs on the call's own goroutine; ctx
// ends when the server's shutdown deadline cuts the call. When ServeAGI returns, the
// server closes the connection, and Asterisk goes on in the dialplan.
type Handler interface {
	ServeAGI(ctx context.Context, s *Session)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, s *Session)

// ServeAGI calls f.
func (f HandlerFunc) ServeAGI(ctx context.Context, s *Session) { f(ctx, s) }

// Mux sends each request to the handler of its script, the path of the AGI URL
// (agi://host:4573/SCRIPT?query), in the manner of net/http's ServeMux. A script
// nobody handles is logged and answered FAILURE, so that the dialplan falls back.
type Mux struct {
	Log      zerolog.Logger
	handlers map[string]Handler
}

// Handle routes script to h.
func (m *Mux) Handle(script string, h Handler) {
	if m.handlers == nil {
		m.handlers = map[string]Handler{}
	}
	m.handlers[script] = h
}

// ServeAGI implements Handler.
func (m *Mux) ServeAGI(ctx context.Context, s *Session) {
	if h, ok := m.handlers[s.Request.Script]; ok {
		h.ServeAGI(ctx, s)
		return
	}
	scripts := make([]string, 0, len(m.handlers))
	for name := range m.handlers {
		scripts = append(scripts, name)
	}
	slices.Sort(scripts)
	m.Log.Error().Str("channel", s.Env["channel"]).Str("script", s.Request.Script).Strs("want", scripts).
		Msg("unknown agi script; answering FAILURE so the dialplan falls back")
	if err := s.Fail(); err != nil {
		m.Log.Warn().Err(err).Msg("could not send FAILURE")
	}
}

// Server serves FastAGI connections: it checks the peer, reads the environment, and hands
// each call to Handler on a goroutine of its own.
type Server struct {
	Handler  Handler
	Timeouts Timeouts
	Log      zerolog.Logger
	// Allow, when not empty, lists the networks Asterisk may connect from; other peers are
	// closed at once and logged.
	Allow []netip.Prefix
	// MaxConns, when positive, caps the connections served at once. Past it a connection
	// is answered FAILURE and closed before its environment is read: Asterisk sets
	// AGISTATUS=FAILURE and the dialplan's fallback takes the caller, rather than a call
	// failing later for want of a file descriptor. DefaultMaxConns derives a cap from the
	// open-file limit.
	MaxConns int
	// OnRefused, when set, is told of each connection refused, with why (RefusedFull,
	// RefusedPeer). The log has a line per interval, not one per connection.
	OnRefused func(reason string)

	mu       sync.Mutex
	lns      map[net.Listener]struct{}
	calls    sync.WaitGroup
	active   int // connections being served
	cancel   context.CancelFunc
	ctx      context.Context
	closed   bool
	refusals refusals
}

// Why a connection was refused (Server.OnRefused).
const (
	RefusedFull = "max_connections" // MaxConns connections were being served
	RefusedPeer = "allow"           // the peer is outside Allow
)

// DefaultMaxConns is a connection cap that keeps idv within its open-file limit
// (RLIMIT_NOFILE): a call holds its FastAGI connection, so the limit less reserve, the
// descriptors everything else may hold (the CRM client's connections, the database's,
// the web server's, ARI, the listeners and the log); at least 64. It is 0 (no cap) where
// the limit is unknown.
func DefaultMaxConns(reserve int) int {
	n := openFileLimit()
	if n <= 0 {
		return 0
	}
	return max(n-reserve, 64)
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("agi: server closed")

func (s *Server) init() {
	if s.lns == nil {
		s.lns = map[net.Listener]struct{}{}
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
}

// Serve accepts connections on ln until Shutdown, and closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	s.mu.Lock()
	s.init()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("agi accept: %w", err)
			}
			// Out of file descriptors and the like: back off, keep serving.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.Log.Warn().Err(err).Dur("retry_in_ms", backoff).Msg("agi accept failed")
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !s.allowed(conn.RemoteAddr()) {
			// Counted and logged before the close, which the peer sees.
			s.refused(conn, RefusedPeer, "FastAGI connection refused: peer not in agi.allow")
			conn.Close()
			continue
		}
		// Added under the lock that Shutdown takes before waiting, so no call starts
		// after Shutdown began to wait for them.
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return ErrServerClosed
		}
		if s.MaxConns > 0 && s.active >= s.MaxConns {
			s.mu.Unlock()
			// Closed without FAILURE, the AGI would end with AGISTATUS=SUCCESS and the
			// dialplan would go on as if idv had served the call.
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			io.WriteString(conn, "FAILURE\n")
			s.refused(conn, RefusedFull, "FastAGI connection refused: agi.max_connections calls in progress; answered FAILURE so the dialplan falls back")
			conn.Close()
			continue
		}
		s.active++
		s.calls.Add(1)
		s.mu.Unlock()
		if n := s.refusals.resume(RefusedFull); n > 0 {
			s.Log.Info().Int("refused", n).Int("max_connections", s.MaxConns).
				Msg("FastAGI connections accepted again below agi.max_connections")
		}
		go s.serveConn(conn)
	}
}

// refusalLogEvery is how often the log tells of refused connections while they go on.
const refusalLogEvery = 10 * time.Second

// refusals counts refused connections between log lines, so that a flood of them writes
// a line per refusalLogEvery and reason, not one per connection.
type refusals struct {
	mu       sync.Mutex
	unlogged map[string]int       // refused since the last line, by reason
	logged   map[string]time.Time // when the last line was written, by reason
}

// add counts a refusal and says how many to log now (0: not yet).
func (r *refusals) add(reason string, now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unlogged == nil {
		r.unlogged, r.logged = map[string]int{}, map[string]time.Time{}
	}
	r.unlogged[reason]++
	if now.Sub(r.logged[reason]) < refusalLogEvery {
		return 0
	}
	n := r.unlogged[reason]
	r.unlogged[reason], r.logged[reason] = 0, now
	return n
}

// resume says how many refusals for reason were not logged yet, and forgets them.
func (r *refusals) resume(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.unlogged[reason]
	if n > 0 {
		r.unlogged[reason] = 0
	}
	return n
}

// refused counts a refused connection and logs it: at most one line per
// refusalLogEvery and reason, whose "refused" is the number since the line before.
func (s *Server) refused(conn net.Conn, reason, msg string) {
	if s.OnRefused != nil {
		s.OnRefused(reason)
	}
	n := s.refusals.add(reason, time.Now())
	if n == 0 {
		return
	}
	e := s.Log.Warn().Str("peer", conn.RemoteAddr().String()).Int("refused", n)
	if reason == RefusedFull {
		e = e.Int("max_connections", s.MaxConns)
	}
	e.Msg(msg)
}

func (s *Server) allowed(addr net.Addr) bool {
	if len(s.Allow) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range s.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Shutdown stops accepting calls and waits for the calls in progress to end. When ctx
// ends first, the remaining calls are cut (their records are still written) and
// Shutdown returns ctx's error once they have finished.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.init()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.calls.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.cancel()
		<-done
		return ctx.Err()
	}
}

func (s *Server) serveConn(conn net.Conn) {
	defer s.calls.Done()
	defer conn.Close()
	defer func() {
		// Before the close: a peer that sees the connection end can connect again.
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	log := s.Log.With().Str("peer", conn.RemoteAddr().String()).Logger()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	// Cutting the call on shutdown: a past deadline ends any read or write at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	sess, err := newSession(ctx, conn, s.Timeouts.withDefaults())
	if errors.Is(err, ErrNothingSent) {
		// A TCP health check connects and closes: at debug, not an error every few seconds.
		log.Debug().Msg("agi connection closed before it sent anything (a health check?)")
		return
	}
	if err != nil {
		log.Error().Err(err).Msg("agi connection refused: bad environment")
		return
	}
	s.serve(ctx, sess, log)
	if sess.violation != nil {
		// Replies no longer matched their commands: FAILURE hands the caller to the
		// dialplan's AGISTATUS fallback.
		log.Warn().Err(sess.violation).Str("channel", sess.Env["channel"]).
			Msg("agi peer broke the protocol; answering FAILURE so the dialplan falls back")
		if err := sess.Fail(); err != nil {
			log.Warn().Err(err).Msg("could not send FAILURE")
		}
	}
	if ctx.Err() != nil {
		// Cut by the shutdown deadline: FAILURE hands the caller to the dialplan's
		// AGISTATUS fallback (Asterisk reads it after the command in progress).
		if err := sess.Fail(); err != nil {
			log.Warn().Err(err).Msg("could not hand the cut call to the fallback")
		}
	}
}

// serve runs the handler and turns a panic into FAILURE, so that a bug of ours still
// hands the call back to the dialplan's fallback.
func (s *Server) serve(ctx context.Context, sess *Session, log zerolog.Logger) {
	defer func() {
		if p := recover(); p != nil {
			log.Error().Interface("panic", p).Str("channel", sess.Env["channel"]).Str("stack", string(debug.Stack())).
				Msg("agi handler panicked; answering FAILURE so the dialplan falls back")
			if err := sess.Fail(); err != nil {
				log.Warn().Err(err).Msg("could not send FAILURE")
			}
		}
	}()
	s.Handler.ServeAGI(ctx, sess)
}
