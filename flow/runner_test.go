package flow

import (
	"context"
	"testing"
	"time"
)

// fakeCall is a live call that types nothing.
type fakeCall struct {
	vars  map[string]string
	queue string
}

func (f *fakeCall) Answer(context.Context) error { return nil }

// SayDigits says nothing a test reads.
func (f *fakeCall) SayDigits(context.Context, string, string) (rune, error) { return 0, nil }

func (f *fakeCall) Play(context.Context, string, string) (rune, error) {
	return 0, nil
}
func (f *fakeCall) WaitDigit(context.Context, time.Duration) (rune, error) { return 0, nil }
func (f *fakeCall) SetVariable(_ context.Context, n, v string) error {
	f.vars[n] = v
	return nil
}
func (f *fakeCall) SetLanguage(context.Context, string) error { return nil }
func (f *fakeCall) Variable(_ context.Context, n string) (string, bool, error) {
	v, ok := f.vars[n]
	return v, ok, nil
}
func (f *fakeCall) Queue(_ context.Context, args string) (string, error) {
	f.queue = args
	return "CONTINUE", nil
}
func (f *fakeCall) Goto(context.Context, string, string, string) error { return nil }

type panicky struct{}

func (panicky) FindByPhone(context.Context, string) ([]Customer, error) {
	panic("nil map in a CRM adapter")
}
func (panicky) FindBy(context.Context, string, string) (*Customer, error)       { return nil, nil }
func (panicky) SendCode(context.Context, Customer, Secret) error                { return nil }
func (panicky) Verify(context.Context, string, string, Secret) (Verdict, error) { return Rejected, nil }

type records struct{ n int }

func (r *records) Record(context.Context, *Interaction) error { r.n++; return nil }

// TestABugStillRoutesTheCaller: a panic inside the flow ends on the error route with a
// record, not with a dropped call.
func TestABugStillRoutesTheCaller(t *testing.T) {
	errRoute, _ := ParseRoute("queue:fallback")
	line := &Line{Name: "x", ANILookup: true, Region: "JP", IdentifyAttempts: 1, CRMBudget: time.Second,
		Routes: Routes{Error: errRoute}}
	call := &fakeCall{vars: map[string]string{}}
	rec := &records{}
	in := (&Runner{Directory: panicky{}, Recorder: rec}).Run(context.Background(), call,
		Request{ID: "01X", Script: ScriptIDV, Line: line, ANI: "+81312345678"})
	if in.Reason != ReasonBackendUnavailable || call.queue != "fallback" || call.vars[VarReason] != "BACKEND_UNAVAILABLE" || rec.n < 2 {
		t.Errorf("reason %s queue %q vars %v records %d", in.Reason, call.queue, call.vars, rec.n)
	}
	var logged bool
	for _, ev := range in.Events {
		logged = logged || ev.Kind == EventError && ev.Detail == "internal error: nil map in a CRM adapter"
	}
	if !logged {
		t.Errorf("no error event naming the panic: %+v", in.Events)
	}
}
