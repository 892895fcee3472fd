package report_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

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

// fill writes n interactions, each with a CRM event, in one transaction.
func fill(b *testing.B, st *store.Store, n int, start time.Time) {
	ctx := context.Background()
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	ins, _ := tx.Prepare(store.Bind(st.Driver(), `INSERT INTO interactions (id, line, script, started_at, ended_at, ani, ani_e164, dnis,
		channel, uniqueid, language, customer_id, customer_name, identifier, status, reason, method, identify_attempts,
		verify_attempts, route, queue_status) VALUES (?, ?, 'idv', ?, ?, '+*******5678', '', '1000', 'PJSIP/x', 'u', 'ja', ?, ?, '', ?, ?, ?, ?, ?, ?, '')`))
	ev, _ := tx.Prepare(store.Bind(st.Driver(), `INSERT INTO events (interaction_id, seq, at, kind, name, result, count, latency_us, detail, line, started_at)
		VALUES (?, 0, ?, 'crm', 'by_phone', ?, 0, ?, '', ?, ?)`))
	statuses := []string{"VERIFIED", "IDENTIFIED", "UNIDENTIFIED"}
	reasons := []string{"OK", "NOT_REQUIRED", "NOT_FOUND"}
	methods := []string{"ANI", "DTMF", "NONE"}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("01B%09d", i)
		at := start.Add(time.Duration(i) * 30 * 24 * time.Hour / time.Duration(n)).UnixMilli()
		k := i % 3
		route := "queue:support"
		if i%5 == 0 {
			route = "goto:selfservice,s,1"
		}
		if _, err := ins.Exec(id, []string{"retail", "default"}[i%2], at, at+40000, fmt.Sprint(100000+i%5000), "佐藤 花子",
			statuses[k], reasons[k], methods[k], k, k%2, route); err != nil {
			b.Fatal(err)
		}
		if _, err := ev.Exec(id, at, []string{"found", "not_found", "timeout"}[i%3], 1000+i%50000, []string{"retail", "default"}[i%2], at); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
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
		src := report.NewSource(st)
		f := report.Filter{From: start, To: start.AddDate(0, 1, 0), Location: tokyo}
		for _, def := range report.Library {
			b.Run(fmt.Sprintf("%s/%s/%d", driver, def.Name, n), func(b *testing.B) {
				for b.Loop() {
					r, err := def.Run(context.Background(), src, f, time.Now())
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
