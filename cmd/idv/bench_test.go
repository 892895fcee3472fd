package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

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

// BenchmarkLoadMixAllocs plays BenchmarkLoadMix's calls with every allocation recorded
// (runtime.MemProfileRate = 1, so it is slow: read its allocation counts, not its time)
// and splits the allocations per call by whose code made them: the load generator
// (agi/agitest, loadtest), the demo CRM (crm/demo and the HTTP server it runs on) and
// idv (everything else: agi, flow, app, crm's client, store, live, metrics and the
// libraries they call). BenchmarkLoadMix's allocs/op is the three together.
func BenchmarkLoadMixAllocs(b *testing.B) {
	testLogLevel = "warn"
	defer func() { testLogLevel = "debug" }()
	h := newHarness(b, "", loadSecurity)
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	before := allocsByOwner()
	b.ResetTimer()
	sum, err := loadtest.Run(context.Background(), loadtest.Options{Target: h.addr, Script: "idv", Concurrency: 50, Calls: b.N})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if sum.Completed != b.N {
		b.Fatalf("%d of %d calls completed: %v", sum.Completed, b.N, sum.Errors)
	}
	after := allocsByOwner()
	for _, o := range []string{"idv", "loadgen", "democrm"} {
		b.ReportMetric(float64(after[o]-before[o])/float64(b.N), o+"-allocs/call")
	}
}

// allocsByOwner counts the allocations made so far (as of the last collection) by owner:
// "loadgen", "democrm" or "idv". A stack cut at the profile's depth without either
// owner's frames counts as idv's.
func allocsByOwner() map[string]int64 {
	runtime.GC()
	runtime.GC() // the profile reports allocations as of the collection before last
	var recs []runtime.MemProfileRecord
	for {
		n, ok := runtime.MemProfile(recs, true)
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+n/4+64)
	}
	owners := map[string]int64{}
	for _, r := range recs {
		owner := "idv"
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			switch fn := f.Function; {
			case strings.HasSuffix(fn, ".allocsByOwner"):
				owner = "bench" // the count's own, made while counting
			case strings.HasPrefix(fn, "github.com/idv-project/idv/agi/agitest."),
				strings.HasPrefix(fn, "github.com/idv-project/idv/loadtest."):
				owner = "loadgen"
			case strings.HasPrefix(fn, "github.com/idv-project/idv/crm/demo."),
				strings.HasPrefix(fn, "net/http.(*conn)."), strings.HasPrefix(fn, "net/http.(*response)."),
				strings.HasPrefix(fn, "net/http.serverHandler."):
				owner = "democrm"
			}
			if owner != "idv" || !more {
				break
			}
		}
		owners[owner] += r.AllocObjects
	}
	return owners
}

var heldProfile = flag.String("heldprofile", "", "BenchmarkHeldCalls: write the heap profile taken at the most calls held to this file")

// BenchmarkHeldCalls holds 1,000 calls at once at a live call's pace (3 s prompts,
// 400 ms keys, 20 s in the queue) against an in-process idv and reports, after a
// collection at the most calls in progress, the Go heap and goroutine stacks in use per
// call held: what idv serve's memory per call (its RSS, which the load test reads) is
// made of. The load generator runs in this process too; -heldprofile writes the heap
// profile of that moment, whose allocation sites tell idv's (agi, flow, app, crm, store)
// from the load generator's (agi/agitest, loadtest).
func BenchmarkHeldCalls(b *testing.B) {
	if *heldProfile != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 64 // every call's few allocations, not one in 512 KiB
	}
	testLogLevel = "warn"
	defer func() { testLogLevel = "debug" }()
	h := newHarness(b, "", loadSecurity)
	const held = 1000
	for b.Loop() {
		var idle, peak runtime.MemStats
		var idleG, peakG int
		var prof bytes.Buffer
		first := true
		memory := func() (int64, error) {
			runtime.GC()
			m, g := &peak, &peakG
			if first {
				m, g, first = &idle, &idleG, false
			}
			runtime.ReadMemStats(m)
			*g = runtime.NumGoroutine()
			if *heldProfile != "" && m == &peak {
				prof.Reset()
				pprof.Lookup("heap").WriteTo(&prof, 0)
			}
			return int64(m.HeapInuse + m.StackInuse), nil
		}
		sum, err := loadtest.Run(context.Background(), loadtest.Options{Target: h.addr, Script: "idv", Concurrency: held,
			RampUp: 5 * time.Second, Duration: 15 * time.Second, PromptTime: 3 * time.Second, KeyTime: 400 * time.Millisecond,
			QueueTime: 20 * time.Second, Memory: memory})
		if err != nil {
			b.Fatal(err)
		}
		if sum.ErrorCount() > 0 || sum.MemAtInFlight < held {
			b.Fatalf("%d calls held at most, %d failed: %v", sum.MemAtInFlight, sum.ErrorCount(), sum.Errors)
		}
		n := float64(sum.MemAtInFlight)
		b.ReportMetric(float64(peak.HeapInuse-idle.HeapInuse)/n, "heap-B/call")
		b.ReportMetric(float64(peak.StackInuse-idle.StackInuse)/n, "stack-B/call")
		b.ReportMetric(float64(peakG-idleG)/n, "goroutines/call")
		if *heldProfile != "" {
			if err := os.WriteFile(*heldProfile, prof.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}
