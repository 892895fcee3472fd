package report_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// benchRows is how many interactions BenchmarkReports generates: IDV_BENCH_ROWS, else
// 20,000 (CI runs benchmarks once; the closing note's figures use 1,000,000).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("IDV_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// fill writes n interactions, each with a CRM event, through the store's Record from
// many goroutines at once, so that group commit writes them in few transactions.
func fill(b *testing.B, st *store.Store, n int, start time.Time) {
	ctx := context.Background()
	statuses := []flow.Status{flow.StatusVerified, flow.StatusIdentified, flow.StatusUnidentified}
	reasons := []flow.Reason{flow.ReasonOK, flow.ReasonNotRequired, flow.ReasonNotFound}
	methods := []flow.Method{flow.MethodANI, flow.MethodDTMF, flow.MethodNone}
	results := []flow.Result{flow.ResultFound, flow.ResultNotFound, flow.ResultTimeout}
	next := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 512 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				at := start.Add(time.Duration(i) * 30 * 24 * time.Hour / time.Duration(n))
				k := i % 3
				route := "queue:support"
				if i%5 == 0 {
					route = "goto:selfservice,s,1"
				}
				in := &flow.Interaction{ID: fmt.Sprintf("01B%09d", i), Line: []string{"retail", "default"}[i%2], Script: "idv",
					Started: at, Ended: at.Add(40 * time.Second), ANI: "+*******5678", DNIS: "1000", Channel: "PJSIP/x",
					UniqueID: "u", Language: "ja", CustomerID: fmt.Sprint(100000 + i%5000), CustomerName: "佐藤 花子",
					Status: statuses[k], Reason: reasons[k], Method: methods[k], IdentifyAttempts: k, VerifyAttempts: k % 2,
					Route: route, Events: []flow.Event{{At: at, Kind: flow.EventCRM, Name: flow.OpByPhone, Result: results[i%3],
						Latency: time.Duration(1000+i%50000) * time.Microsecond}}}
				if err := st.Record(ctx, in); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// BenchmarkReports times each report over a month of generated interactions, on each
// back end: building it (the query and aggregation) and rendering it (PDF, except the
// detail report, whose PDF is for narrow filters).
func BenchmarkReports(b *testing.B) {
	n := benchRows()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, tokyo)
	for _, driver := range storetest.Drivers(b) {
		st := storetest.Open(b, driver)
		t0 := time.Now()
		fill(b, st, n, start)
		b.Logf("%s: %d interactions written in %s", driver, n, time.Since(t0).Round(time.Millisecond))
		f := report.Filter{From: start, To: start.AddDate(0, 1, 0), Location: tokyo}
		for _, def := range report.Library {
			b.Run(fmt.Sprintf("%s/%s/%d", driver, def.Name, n), func(b *testing.B) {
				for b.Loop() {
					r, err := def.Run(context.Background(), st, f, time.Now(), report.English)
					if err != nil {
						b.Fatal(err)
					}
					format := report.PDF
					if def.Name == "detail" {
						format = report.CSV
					}
					if err := report.Render(io.Discard, r, format, report.Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
