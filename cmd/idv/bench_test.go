package main

import (
	"context"
	"net"
	"testing"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/loadtest"
)

// BenchmarkCallANIHit is one whole call through idv — FastAGI over TCP, the CRM lookup
// over HTTP, two SQLite writes — for a caller identified by number and queued. Compare
// with BenchmarkCallBareAGI, the same AGI command sequence from a server doing nothing
// else, measured in the same run.
func BenchmarkCallANIHit(b *testing.B) {
	testLogLevel = "warn"
	defer func() { testLogLevel = "debug" }()
	h := newHarness(b, "")
	caller := agitest.Caller{ANI: "+81312345679"}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := caller.Call(ctx, h.addr)
		if err != nil || res.Var("IDV_STATUS") != "IDENTIFIED" {
			b.Fatalf("call: %v %v", err, res.Vars)
		}
	}
}

// BenchmarkCallBareAGI is the baseline: loadtest's bare github.com/zaf/agi server
// sending the very commands idv sent for that call (recorded from idv first), with no
// flow, CRM or store.
func BenchmarkCallBareAGI(b *testing.B) {
	testLogLevel = "warn"
	defer func() { testLogLevel = "debug" }()
	h := newHarness(b, "")
	mix := []loadtest.Scenario{{Name: "ani", Weight: 1, ANI: "+81312345679", Status: "IDENTIFIED"}}
	seqs, err := loadtest.Capture(context.Background(), h.addr, "idv", mix)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go loadtest.ServeBaseline(ln, seqs)
	caller := agitest.Caller{ANI: "+81312345679", Script: loadtest.BaselineScript(mix[0])}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := caller.Call(ctx, ln.Addr().String())
		if err != nil || len(res.Commands) != len(seqs["ani"]) || res.Var("IDV_STATUS") != "IDENTIFIED" {
			b.Fatalf("call: %v, %d commands of %d", err, len(res.Commands), len(seqs["ani"]))
		}
	}
}

// BenchmarkLoadMix is loadtest's default mix, 50 calls at once, against an in-process
// idv (demo CRM, SQLite): one op is one call. It is the profile target for the server's
// hot paths under concurrency (go test -bench LoadMix -cpuprofile).
func BenchmarkLoadMix(b *testing.B) {
	testLogLevel = "warn"
	defer func() { testLogLevel = "debug" }()
	h := newHarness(b, "", loadSecurity)
	b.ReportAllocs()
	b.ResetTimer()
	sum, err := loadtest.Run(context.Background(), loadtest.Options{Target: h.addr, Script: "idv", Concurrency: 50, Calls: b.N})
	if err != nil {
		b.Fatal(err)
	}
	if sum.Completed != b.N {
		b.Fatalf("%d of %d calls completed: %v", sum.Completed, b.N, sum.Errors)
	}
	b.ReportMetric(sum.CallsPerSecond(), "calls/s")
}
