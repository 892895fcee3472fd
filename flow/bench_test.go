package flow

import (
	"context"
	"testing"
	"time"
)

// directory is an in-memory CRM with one customer who needs no PIN.
type directory struct{}

func (directory) FindByPhone(context.Context, string) ([]Customer, error) {
	return []Customer{{ID: "100235", Name: "田中 一郎"}}, nil
}
func (directory) SendCode(context.Context, Customer, Secret) error { return nil }

func (directory) FindBy(context.Context, string, string) (*Customer, error) {
	return &Customer{ID: "100235", Name: "田中 一郎"}, nil
}
func (directory) Verify(context.Context, string, string, Secret) (Verdict, error) {
	return Verified, nil
}

// BenchmarkFlowANIHit is the domain's whole work for a caller found by number and queued
// — every step, event and variable — with the call, CRM and recorder in memory: what
// idv adds on top of the I/O.
func BenchmarkFlowANIHit(b *testing.B) {
	route, _ := ParseRoute("queue:support")
	line := &Line{Name: "default", ANILookup: true, Region: "JP", IdentifyAttempts: 3, VerifyAttempts: 3, CRMBudget: time.Second,
		Routes: Routes{Verified: route, Identified: route, Unidentified: route, OptedOut: route, Error: route}}
	r := &Runner{Directory: directory{}, Recorder: &records{}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		call := &fakeCall{vars: map[string]string{}}
		in := r.Run(ctx, call, Request{ID: "01X", Script: ScriptIDV, Line: line, ANI: "0312345679"})
		if in.Status != StatusIdentified || call.queue != "support" {
			b.Fatalf("%s %s", in.Status, call.queue)
		}
	}
}
