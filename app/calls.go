package app

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/agi"
	"github.com/idv-project/idv/flow"
)

// Observer sees calls, steps and AGI round trips (metrics, the live views and the ARI
// observer implement it). id is the interaction id.
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

// Calls is the FastAGI handler of the ID&V scripts (/idv, /identify, /verify): it picks
// the call's service line, runs the flow on the session, and tells the observers and the
// log what happens. Use must have given it rules before it serves a call.
type Calls struct {
	Log zerolog.Logger
	// NewID makes interaction ids.
	NewID func() string
	// OnUnknownLine is told of a call refused because it names a line that is not
	// configured.
	OnUnknownLine func()
	// Observers are told of every call and step.
	Observers []Observer
	// StepLevel is the level of each step's log line (log.steps); its zero value is
	// debug, so that info has one summary line per call. Failed steps log at warn or
	// error whatever it is.
	StepLevel zerolog.Level

	rules atomic.Pointer[Rules]
}

// Rules are what a call runs by, and what a configuration reload replaces.
type Rules struct {
	Runner *flow.Runner
	Lines  flow.Lines
	// ANIVisibleDigits is how many trailing digits of the calling number the log shows
	// (-1: all).
	ANIVisibleDigits int
}

// Use makes new calls run by r; calls in progress finish with the rules they started
// with.
func (c *Calls) Use(r *Rules) { c.rules.Store(r) }

// ServeAGI implements agi.Handler.
func (c *Calls) ServeAGI(ctx context.Context, sess *agi.Session) {
	rules := c.rules.Load()
	script := flow.Script(sess.Request.Script)
	id := c.NewID()
	name := sess.Request.Query.Get("line")
	if name == "" && len(sess.Request.Args) > 0 {
		name = sess.Request.Args[0]
	}
	line, lerr := rules.Lines.Resolve(name, sess.Env["dnid"], sess.Env["extension"])
	if lerr != nil {
		// A mistyped line in the dialplan: the dialplan's fallback (AGISTATUS=FAILURE) is
		// the safe way, where the default line might ask no PIN. No interaction starts.
		log := c.Log.With().Str("interaction", id).Str("channel", sess.Env["channel"]).Logger()
		log.Error().Err(lerr).Str("script", string(script)).Msg("unknown service line; answering FAILURE so the dialplan falls back (idv check -dialplan finds these)")
		if c.OnUnknownLine != nil {
			c.OnUnknownLine()
		}
		if err := sess.Fail(); err != nil {
			log.Warn().Err(err).Msg("could not send FAILURE")
		}
		return
	}
	// One context for every line of the call, built once.
	log := c.Log.With().Str("interaction", id).Str("channel", sess.Env["channel"]).Str("line", line.Name).Logger()
	sess.OnPromptFailed = func(prompt string) {
		log.Error().Str("prompt", prompt).Msg("asterisk could not play prompt on a live channel (missing sound file?); continuing")
	}
	ani := sess.Env["callerid"]
	maskedANI := flow.Mask(ani, rules.ANIVisibleDigits)
	log.WithLevel(c.StepLevel).Str("script", string(script)).Str("ani", maskedANI).Str("dnid", sess.Env["dnid"]).
		Str("uniqueid", sess.Env["uniqueid"]).Msg("call started")

	observe := func(in *flow.Interaction, ev flow.Event) {
		logEvent(log, c.StepLevel, ev)
		for _, o := range c.Observers {
			o.Step(in, ev)
		}
	}
	sess.OnCommand = func(command string, took time.Duration) {
		for _, o := range c.Observers {
			o.AGICommand(command, took)
		}
	}
	for _, o := range c.Observers {
		o.CallStarted(id, line.Name, string(script))
	}
	var in *flow.Interaction
	defer func() {
		// Also after a panic (in is nil then), which the server answers with FAILURE. A
		// panic of an observer here, after the call was routed, must not answer FAILURE
		// for a routed call: it is logged.
		defer func() {
			if p := recover(); p != nil {
				log.Error().Interface("panic", p).Msg("an observer panicked at the end of the call")
			}
		}()
		for _, o := range c.Observers {
			o.CallEnded(id, in)
		}
	}()
	req := flow.Request{ID: id, Script: script, Line: line, ANI: ani, Presentation: sess.Env.Presentation(),
		DNIS: sess.Env["dnid"], Channel: sess.Env["channel"], UniqueID: sess.Env["uniqueid"], Language: sess.Env["language"],
		Observe: observe}
	in = rules.Runner.Run(ctx, sess, req)
	// The call's summary: with the steps at debug, the one line a call writes at info.
	var crm time.Duration
	crmCalls := 0
	for _, ev := range in.Events {
		if ev.Kind == flow.EventCRM {
			crmCalls++
			crm += ev.Latency
		}
	}
	log.Info().Str("script", string(script)).Str("ani", maskedANI).Str("dnid", sess.Env["dnid"]).Str("uniqueid", sess.Env["uniqueid"]).
		Str("status", string(in.Status)).Str("reason", string(in.Reason)).Str("method", string(in.Method)).
		Str("customer_id", in.CustomerID).Str("attempts", in.Attempts()).Str("route", in.Route).
		Str("queue_status", in.QueueStatus).Int("crm_requests", crmCalls).Dur("crm_ms", crm).Int("steps", len(in.Events)).
		Dur("duration_ms", in.Ended.Sub(in.Started)).Msg("call ended")
}

// Agents is the FastAGI handler of the /agent script, which the queue member gosub runs
// on the agent's channel: IDV_INTERACTION (inherited from the caller) names the call that
// reached this agent.
type Agents struct {
	Log     zerolog.Logger
	Connect AgentConnect
}

// ServeAGI implements agi.Handler. The agent's channel carries the caller's interaction
// and has none of its own (a second "interaction" key in its log lines would contradict
// the first).
func (a *Agents) ServeAGI(ctx context.Context, sess *agi.Session) {
	log := a.Log.With().Str("channel", sess.Env["channel"]).Logger()
	id, _, err := sess.Variable(ctx, flow.VarInteraction)
	agent := flow.AgentEndpoint(sess.Env["channel"])
	switch {
	case err != nil:
		log.Warn().Err(err).Msg("agent connect: reading IDV_INTERACTION")
	case id == "":
		log.Info().Str("agent", agent).Msg("agent connect: the call carries no IDV_INTERACTION")
	default:
		if err := a.Connect.AgentConnected(ctx, id, agent); err != nil {
			log.Error().Err(err).Str("interaction", id).Msg("agent connect")
			return
		}
		log.Info().Str("interaction", id).Str("agent", agent).Msg("call connected to agent")
	}
}

// logEvent writes one line per step of a call at level (log.steps), or at warn or error
// for a step that failed; the logger carries the interaction id. Events never hold
// secret digits, only their count.
func logEvent(log zerolog.Logger, level zerolog.Level, ev flow.Event) {
	switch {
	case ev.Kind == flow.EventError:
		level = zerolog.ErrorLevel
	case ev.Kind == flow.EventCRM && ev.Detail != "", ev.Kind == flow.EventHangup:
		level = zerolog.WarnLevel
	}
	e := log.WithLevel(level)
	if e == nil {
		return // below the logger's level: nothing to build
	}
	e = e.Str("step", string(ev.Kind))
	if ev.Name != "" {
		e = e.Str("name", ev.Name)
	}
	if ev.Result != "" {
		e = e.Str("result", string(ev.Result))
	}
	if ev.Kind == flow.EventDigits {
		e = e.Int("digits", ev.Count)
	}
	if ev.Latency > 0 {
		e = e.Dur("latency_ms", ev.Latency)
	}
	if ev.Detail != "" {
		e = e.Str("detail", ev.Detail)
	}
	e.Msg(string(ev.Kind))
}
