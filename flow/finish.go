package flow

import (
	"context"
	"errors"
)

// finish ends the interaction whatever happened: it names the outcome, sets the channel
// variables, stores the record before the route is sent (so a routed call always has
// one), routes, and records QUEUESTATUS (the wait, agent and talk come later from ARI).
// A goto route is the call's last step, so its record is written once; a queue route's
// twice (before and after the queue).
func (s *session) finish(ctx context.Context, err error) {
	in := s.in
	switch {
	case err == nil:
	case errors.Is(err, ErrHangup):
		in.Reason = ReasonHangup
		s.event(Event{Kind: EventHangup, Detail: err.Error()})
	case errors.Is(err, errBackend):
		in.Reason = ReasonBackendUnavailable
	default:
		// A failure of ours or of the AGI channel: route on the error path all the same.
		in.Reason = ReasonBackendUnavailable
		s.event(Event{Kind: EventError, Detail: err.Error()})
	}
	if in.Status == StatusUnidentified {
		in.CustomerID, in.CustomerName, in.Method, in.IDType = "", "", MethodNone, ""
	}
	// A hang-up or failure above keeps the phase it happened in; from here on the call
	// is being routed.
	s.phase = PhaseRouting
	s.event(Event{Kind: EventOutcome, Name: string(in.Status), Result: Result(in.Reason)})

	if !s.setVariables(ctx) || s.script != ScriptIDV {
		s.end(ctx)
		return
	}
	route, prompt := s.destination()
	in.Route = route.String()
	if route.Kind == RouteQueue {
		// Before the queue, which may hold the caller for hours: a routed call always
		// has its record, whatever happens to idv meanwhile.
		s.record(ctx)
	}
	if err := s.play(ctx, prompt, ""); err != nil {
		// The caller left (or the channel broke) before the route ran: the call was not
		// routed, and the final record says so (the one before the queue kept the route,
		// so that a crash during the queue still shows where the call was going).
		s.lost(err)
		s.resetReason(ctx)
		in.Route = ""
		s.end(ctx)
		return
	}
	s.event(Event{Kind: EventRoute, Name: in.Route})
	switch route.Kind {
	case RouteQueue:
		s.phase = PhaseQueue
		status, err := s.call.Queue(ctx, route.QueueArgs)
		in.QueueStatus = status
		if err != nil && !errors.Is(err, ErrHangup) {
			s.event(Event{Kind: EventError, Name: "queue", Detail: err.Error()})
		}
		s.event(Event{Kind: EventQueue, Name: route.QueueArgs, Result: Result(status)})
		s.end(ctx)
	case RouteGoto:
		// Nothing of the call happens after the goto: its record is stored once, before
		// the goto is sent (a routed call always has its record), and again only if the
		// goto failed.
		s.end(ctx)
		if err := s.call.Goto(ctx, route.Context, route.Extension, route.Priority); err != nil {
			s.event(Event{Kind: EventError, Name: "goto", Detail: err.Error()})
			s.record(ctx)
		}
	default:
		s.end(ctx)
	}
}

// outcomeVars are the variables every call ends with, in the order they are set.
var outcomeVars = [...]string{VarStatus, VarCustomerID, VarCustomerName, VarMethod, VarReason, VarLine,
	VarAttempts, VarIDType, VarFactors}

// setInteraction sets IDV_INTERACTION, the id of the call's record. A hang-up still
// lets it be set (Asterisk allows SET VARIABLE on a dead channel).
func (s *session) setInteraction(ctx context.Context) error {
	err := s.call.SetVariable(ctx, VarInteraction, s.in.ID)
	s.interactionSet = err == nil || errors.Is(err, ErrHangup)
	return err
}

// setVariables sets the outcome's channel variables (IDV_INTERACTION was set first
// thing, after the answer; when the caller hung up before it, here) and reports whether
// the caller is still there. They are set even after a hang-up: Asterisk allows SET
// VARIABLE on a dead channel and the dialplan's h extension may read them (a caller who
// hung up during the answer still has the record's id on the channel, for the hang-up
// handler and the CDR). A hang-up noticed while setting them turns the reason into HANGUP.
func (s *session) setVariables(ctx context.Context) bool {
	in := s.in
	if !s.interactionSet {
		if err := s.setInteraction(ctx); err != nil && !errors.Is(err, ErrHangup) {
			s.lost(err)
			return false // the AGI channel is broken; nothing more will get through
		}
	}
	value := func(name string) string {
		switch name {
		case VarStatus:
			return string(in.Status)
		case VarCustomerID:
			return in.CustomerID
		case VarCustomerName:
			return in.CustomerName
		case VarMethod:
			return string(in.Method)
		case VarReason:
			return string(in.Reason)
		case VarLine:
			return in.Line
		case VarAttempts:
			return in.Attempts()
		case VarIDType:
			return IDType(in.IDType)
		}
		return in.Factors() // VarFactors
	}
	alive := in.Reason != ReasonHangup
	reasonSet := in.Reason
	for _, name := range outcomeVars {
		err := s.call.SetVariable(ctx, name, value(name))
		if name == VarReason {
			reasonSet = in.Reason
		}
		if err != nil {
			alive = false
			s.lost(err)
			if !errors.Is(err, ErrHangup) {
				return false // the AGI channel is broken; nothing more will get through
			}
		}
	}
	if reasonSet != in.Reason {
		s.resetReason(ctx)
	}
	return alive
}

// lost records a call failure met while finishing.
func (s *session) lost(err error) {
	if !errors.Is(err, ErrHangup) {
		s.event(Event{Kind: EventError, Detail: err.Error()})
		return
	}
	if s.in.Reason != ReasonHangup {
		s.in.Reason = ReasonHangup
		s.event(Event{Kind: EventHangup, Detail: err.Error()})
	}
}

// resetReason sets IDV_REASON again after a hang-up changed it; on the dead channel
// Asterisk still sets it (and the adapter reports the hang-up, which we know).
func (s *session) resetReason(ctx context.Context) {
	if err := s.call.SetVariable(ctx, VarReason, string(s.in.Reason)); err != nil && !errors.Is(err, ErrHangup) {
		s.event(Event{Kind: EventError, Name: "variables", Detail: err.Error()})
	}
}

func (s *session) end(ctx context.Context) {
	if s.in.Ended.IsZero() {
		s.in.Ended = s.r.now()
	}
	s.record(ctx)
}

func (s *session) record(ctx context.Context) {
	timeout := s.r.RecordTimeout
	if timeout <= 0 {
		timeout = DefaultRecordTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := s.r.Recorder.Record(ctx, s.in); err != nil {
		// The caller is routed regardless; the observer logs the failure.
		s.event(Event{Kind: EventError, Name: "record", Detail: err.Error()})
	}
}

// destination picks the route and the prompt played before it.
func (s *session) destination() (Route, string) {
	rt, p := s.line.Routes, s.line.Prompts
	in := s.in
	var route Route
	var prompt string
	switch {
	case in.Reason == ReasonBackendUnavailable:
		route, prompt = rt.Error, p.Unavailable
	case in.Reason == ReasonOptedOut:
		route = rt.OptedOut
	case in.Reason == ReasonLocked:
		route, prompt = rt.VerifyFailed, p.Locked
	case in.Reason == ReasonVerifyFailed:
		route, prompt = rt.VerifyFailed, p.TooMany
	case in.Status == StatusVerified:
		route = rt.Verified
	case in.Status == StatusIdentified:
		route = rt.Identified
	default:
		route, prompt = rt.Unidentified, p.TooMany
	}
	if prompt == "" && route.Kind == RouteQueue {
		prompt = p.Transfer
	}
	return route, prompt
}
