// Package agi is idv's FastAGI server: it accepts Asterisk's connections
// (AGI(agi://host:4573/idv?line=retail)), reads the agi_* environment, and runs the
// flow over the AGI commands of github.com/zaf/agi, one goroutine per call.
package agi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/flow"
)

// Observer sees calls, steps and AGI round trips (metrics and the live views implement
// it). id is the interaction id.
type Observer interface {
	CallStarted(id, line, script string)
	CallEnded(id string, in *flow.Interaction)
	Step(in *flow.Interaction, ev flow.Event)
	AGICommand(command string, took time.Duration)
}

// AgentConnect is told when the /agent script runs on an agent's channel (the queue
// member gosub), i.e. when a call reaches an agent, where ARI does not say so.
type AgentConnect interface {
	AgentConnected(ctx context.Context, interaction, agent string) error
}

// LineResolver picks the service line of a call: the ?line= parameter, else the first
// AGI argument, else a DNIS match, else the default line. It returns the line it chose
// and, when a named line does not exist, an error to log next to the fallback line.
type LineResolver interface {
	ResolveLine(name, dnid, extension string) (*flow.Line, error)
}

// Server serves FastAGI connections.
type Server struct {
	Runner   *flow.Runner
	Lines    LineResolver
	Timeouts Timeouts
	Log      zerolog.Logger
	// NewID makes interaction ids.
	NewID func() string
	// MaskANI hides digits of the calling number in logs.
	MaskANI func(string) string
	// Observers are told of every call and step.
	Observers []Observer
	// Allow, when not empty, lists the networks Asterisk may connect from; other peers are
	// closed at once and logged.
	Allow []netip.Prefix
	// Agents is told of /agent requests; nil refuses them.
	Agents AgentConnect

	reloaded atomic.Pointer[routing]

	mu     sync.Mutex
	lns    map[net.Listener]struct{}
	calls  sync.WaitGroup
	cancel context.CancelFunc
	ctx    context.Context
	closed bool
}

// routing is what a configuration reload replaces.
type routing struct {
	runner *flow.Runner
	lines  LineResolver
}

// Reload makes new calls use runner and lines; calls in progress finish with what they
// started with.
func (s *Server) Reload(runner *flow.Runner, lines LineResolver) {
	s.reloaded.Store(&routing{runner: runner, lines: lines})
}

func (s *Server) routing() routing {
	if r := s.reloaded.Load(); r != nil {
		return *r
	}
	return routing{runner: s.Runner, lines: s.Lines}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("agi: server closed")

func (s *Server) init() {
	if s.lns == nil {
		s.lns = map[net.Listener]struct{}{}
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.init()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
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
			s.Log.Warn().Err(err).Dur("retry_in", backoff).Msg("agi accept failed")
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !s.allowed(conn.RemoteAddr()) {
			s.Log.Warn().Str("peer", conn.RemoteAddr().String()).Msg("FastAGI connection refused: peer not in agi.allow")
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
		s.calls.Add(1)
		s.mu.Unlock()
		go s.serveConn(conn)
	}
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
	log := s.Log.With().Str("peer", conn.RemoteAddr().String()).Logger()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	// Cutting the call on shutdown: a past deadline ends any read or write at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	sess, err := newSession(ctx, conn, s.Timeouts.withDefaults())
	if err != nil {
		log.Error().Err(err).Msg("agi connection refused: bad environment")
		return
	}

	script := flow.Script(sess.Request.Script)
	if script == "agent" && s.Agents != nil {
		// The agent's channel carries the caller's interaction; it has none of its own
		// (a second "interaction" key in its log lines would contradict the first).
		s.agentConnected(ctx, sess, log.With().Str("channel", sess.Env["channel"]).Logger())
		return
	}
	id := s.NewID()
	log = log.With().Str("interaction", id).Str("channel", sess.Env["channel"]).Logger()
	switch script {
	case flow.ScriptIDV, flow.ScriptIdentify, flow.ScriptVerify:
	default:
		log.Error().Str("script", sess.Request.Script).Msg("unknown agi script; answering FAILURE so the dialplan falls back (want idv, identify or verify)")
		if err := sess.Fail(); err != nil {
			log.Warn().Err(err).Msg("could not send FAILURE")
		}
		return
	}
	name := sess.Request.Query.Get("line")
	if name == "" && len(sess.Request.Args) > 0 {
		name = sess.Request.Args[0]
	}
	rt := s.routing()
	line, lerr := rt.lines.ResolveLine(name, sess.Env["dnid"], sess.Env["extension"])
	if lerr != nil {
		log.Error().Err(lerr).Str("using_line", line.Name).Msg("unknown service line")
	}
	log = log.With().Str("line", line.Name).Logger()
	sess.OnPromptFailed = func(prompt string) {
		log.Error().Str("prompt", prompt).Msg("asterisk could not play prompt on a live channel (missing sound file?); continuing")
	}
	ani := sess.Env["callerid"]
	maskedANI := ani
	if s.MaskANI != nil {
		maskedANI = s.MaskANI(ani)
	}
	log.Info().Str("script", string(script)).Str("ani", maskedANI).Str("dnid", sess.Env["dnid"]).
		Str("uniqueid", sess.Env["uniqueid"]).Msg("call started")

	observe := func(in *flow.Interaction, ev flow.Event) {
		logEvent(log, ev)
		for _, o := range s.Observers {
			o.Step(in, ev)
		}
	}
	sess.onCommand = func(command string, took time.Duration) {
		for _, o := range s.Observers {
			o.AGICommand(command, took)
		}
	}
	for _, o := range s.Observers {
		o.CallStarted(id, line.Name, string(script))
	}
	req := flow.Request{ID: id, Script: script, Line: line, ANI: ani, Presentation: sess.Env.Presentation(),
		DNIS: sess.Env["dnid"], Channel: sess.Env["channel"], UniqueID: sess.Env["uniqueid"], Language: sess.Env["language"],
		Observe: observe}
	in := s.run(ctx, rt.runner, sess, req, log)
	for _, o := range s.Observers {
		o.CallEnded(id, in)
	}
	if ctx.Err() != nil {
		// Cut by the shutdown deadline: FAILURE hands the caller to the dialplan's
		// AGISTATUS fallback (Asterisk reads it after the command in progress).
		if err := sess.Fail(); err != nil {
			log.Warn().Err(err).Msg("could not hand the cut call to the fallback")
		}
	}
	if in == nil {
		return
	}
	log.Info().Str("status", string(in.Status)).Str("reason", string(in.Reason)).Str("method", string(in.Method)).
		Str("customer_id", in.CustomerID).Str("attempts", in.Attempts()).Str("route", in.Route).
		Str("queue_status", in.QueueStatus).Dur("duration", in.Ended.Sub(in.Started)).Msg("call ended")
}

// agentConnected is the /agent script: on the agent's channel, IDV_INTERACTION (inherited
// from the caller) names the call that reached this agent.
func (s *Server) agentConnected(ctx context.Context, sess *Session, log zerolog.Logger) {
	id, _, err := sess.Variable(ctx, flow.VarInteraction)
	agent := flow.AgentEndpoint(sess.Env["channel"])
	switch {
	case err != nil:
		log.Warn().Err(err).Msg("agent connect: reading IDV_INTERACTION")
	case id == "":
		log.Info().Str("agent", agent).Msg("agent connect: the call carries no IDV_INTERACTION")
	default:
		if err := s.Agents.AgentConnected(ctx, id, agent); err != nil {
			log.Error().Err(err).Str("interaction", id).Msg("agent connect")
			return
		}
		log.Info().Str("interaction", id).Str("agent", agent).Msg("call connected to agent")
	}
}

// run runs the flow and turns a panic into FAILURE, so a bug of ours still hands the
// call back to the dialplan's fallback.
func (s *Server) run(ctx context.Context, runner *flow.Runner, sess *Session, req flow.Request, log zerolog.Logger) (in *flow.Interaction) {
	defer func() {
		if p := recover(); p != nil {
			log.Error().Interface("panic", p).Str("stack", string(debug.Stack())).Msg("flow panicked; answering FAILURE so the dialplan falls back")
			if err := sess.Fail(); err != nil {
				log.Warn().Err(err).Msg("could not send FAILURE")
			}
			in = nil
		}
	}()
	return runner.Run(ctx, sess, req)
}

// logEvent writes one line per step of a call; the logger carries the interaction id.
// Events never hold secret digits, only their count.
func logEvent(log zerolog.Logger, ev flow.Event) {
	var e *zerolog.Event
	switch {
	case ev.Kind == flow.EventError:
		e = log.Error()
	case ev.Kind == flow.EventCRM && ev.Detail != "", ev.Kind == flow.EventHangup:
		e = log.Warn()
	default:
		e = log.Info()
	}
	e = e.Str("step", string(ev.Kind))
	if ev.Name != "" {
		e = e.Str("name", ev.Name)
	}
	if ev.Result != "" {
		e = e.Str("result", ev.Result)
	}
	if ev.Kind == flow.EventDigits {
		e = e.Int("digits", ev.Count)
	}
	if ev.Latency > 0 {
		e = e.Dur("latency", ev.Latency)
	}
	if ev.Detail != "" {
		e = e.Str("detail", ev.Detail)
	}
	e.Msg(string(ev.Kind))
}
