package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// month is November 2026 in Tokyo, with n generated calls of every kind recorded in st:
// verified, identified, not found, no input, wrong PINs, locked, CRM failures, hang-ups,
// opt-outs; by number, typed or neither; to queues (answered, abandoned, timed out, or
// with no word from ARI), to self-service or nowhere.
type month struct {
	st     *store.Store
	filter report.Filter
	ids    []string
	starts []time.Time
	now    time.Time
}

func generateMonth(t *testing.T, driver string, n int) *month {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, driver)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, tokyo)
	m := &month{st: st, filter: report.Filter{From: start, To: start.AddDate(0, 1, 0), Location: tokyo},
		now: time.Date(2026, 12, 1, 9, 0, 0, 0, tokyo)}
	rng := rand.New(rand.NewPCG(3, 4))
	type kind struct {
		status   flow.Status
		reason   flow.Reason
		method   flow.Method
		ident    int
		verify   int
		routeNil bool // the caller hung up before a route
	}
	kinds := []kind{
		{flow.StatusVerified, flow.ReasonOK, flow.MethodANI, 0, 1, false},
		{flow.StatusVerified, flow.ReasonOK, flow.MethodDTMF, 2, 2, false},
		{flow.StatusIdentified, flow.ReasonNotRequired, flow.MethodANI, 0, 0, false},
		{flow.StatusUnidentified, flow.ReasonNotFound, flow.MethodNone, 3, 0, false},
		{flow.StatusUnidentified, flow.ReasonNoInput, flow.MethodNone, 3, 0, false},
		{flow.StatusIdentified, flow.ReasonVerifyFailed, flow.MethodANI, 0, 3, false},
		{flow.StatusIdentified, flow.ReasonLocked, flow.MethodDTMF, 1, 0, false},
		{flow.StatusUnidentified, flow.ReasonBackendUnavailable, flow.MethodNone, 0, 0, false},
		{flow.StatusUnidentified, flow.ReasonHangup, flow.MethodNone, 1, 0, true},
		{flow.StatusIdentified, flow.ReasonHangup, flow.MethodANI, 0, 1, true},
		{flow.StatusUnidentified, flow.ReasonOptedOut, flow.MethodNone, 1, 0, false},
	}
	routes := []string{"queue:support", "queue:billing,t,,,300", "goto:selfservice,s,1", "continue"}
	for i := range n {
		at := start.Add(time.Duration(rng.IntN(30*24*3600)) * time.Second)
		k := kinds[rng.IntN(len(kinds))]
		id := fmt.Sprintf("01JM%022d", i) // 26 characters, as a ULID
		in := &flow.Interaction{ID: id, Line: []string{"retail", "default", "business"}[rng.IntN(3)], Script: "idv",
			Started: at, Ended: at.Add(time.Duration(20+rng.IntN(200)) * time.Second), ANI: "+81312345678",
			Status: k.status, Reason: k.reason, Method: k.method, IdentifyAttempts: k.ident, VerifyAttempts: k.verify}
		if k.status != flow.StatusUnidentified {
			in.CustomerID, in.CustomerName = strconv.Itoa(100000+i), names[i%len(names)]
			in.IDType = flow.KindANI
			if k.method == flow.MethodDTMF {
				in.IDType = []string{flow.KindCustomerID, "account", ""}[rng.IntN(3)] // "": a record from before kinds
			}
		}
		if k.verify > 0 {
			in.FactorsAsked = [][]string{{"pin"}, {"dob", "pin"}, {"pin", "otp"}}[rng.IntN(3)]
			if k.status == flow.StatusVerified {
				in.FactorsPassed = in.FactorsAsked
			}
		}
		if !k.routeNil {
			in.Route = routes[rng.IntN(len(routes))]
		}
		switch rng.IntN(4) {
		case 0:
			in.Events = append(in.Events, flow.Event{At: at, Kind: flow.EventANI, Result: flow.ResultWithheld})
		case 1:
			in.Events = append(in.Events, flow.Event{At: at, Kind: flow.EventANI, Result: flow.ResultInvalid})
		default:
			res := flow.ResultFound
			if k.method != flow.MethodANI {
				res = flow.ResultNotFound
			}
			in.Events = append(in.Events, flow.Event{At: at, Kind: flow.EventCRM, Name: flow.OpByPhone, Result: res,
				Latency: time.Duration(5+rng.IntN(80)) * time.Millisecond})
		}
		if k.reason == flow.ReasonBackendUnavailable {
			in.Events = append(in.Events, flow.Event{At: at.Add(time.Second), Kind: flow.EventCRM, Name: flow.OpByID,
				Result: flow.ResultTimeout, Latency: 2 * time.Second})
		}
		if err := st.Record(ctx, in); err != nil {
			t.Fatal(err)
		}
		if q := flow.QueueOf(in.Route); q != "" {
			entered := at.Add(30 * time.Second)
			o := flow.QueueOutcome{Queue: q, Entered: entered, Ended: entered.Add(time.Duration(10+rng.IntN(400)) * time.Second)}
			switch rng.IntN(4) {
			case 0:
				o.Result = flow.QueueAbandoned
			case 1:
				o.Result = flow.QueueLeft("TIMEOUT")
			case 2:
				o.Agent, o.Answered, o.Result = fmt.Sprintf("PJSIP/agent%d", 1+rng.IntN(3)), entered.Add(time.Duration(5+rng.IntN(90))*time.Second), flow.QueueAnswered
			}
			if o.Result != "" { // else ARI never said how the call ended
				if err := st.QueueOutcome(ctx, id, o); err != nil {
					t.Fatal(err)
				}
			}
		}
		m.ids, m.starts = append(m.ids, id), append(m.starts, at)
	}
	return m
}

func (m *month) run(t *testing.T, name string, l report.Lang) *report.Report {
	t.Helper()
	def, err := report.Find(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := def.Run(context.Background(), m.st, m.filter, m.now, l)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBreakdownsAddUp: over a generated month, on each back end, every breakdown of
// every report adds up to its whole on every row (the outcomes to the calls, the reasons
// to the calls, the queue endings to the calls offered, …), every total row is the sum
// of the rows above it, and the outcomes' calls are the calls of the month, by line, by
// day and by hour alike. Overlapping counts (hang-ups) are columns set apart.
func TestBreakdownsAddUp(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			m := generateMonth(t, driver, 1500)
			for _, def := range report.Library {
				r := m.run(t, def.Name, report.English)
				for _, tab := range r.Tables {
					if len(tab.Sums) == 0 && tab.Name != "agents" && tab.Name != "interactions" && tab.Name != "attempts" {
						t.Errorf("%s %s: no breakdown declared", def.Name, tab.Name)
					}
					for _, sum := range tab.Sums {
						for _, row := range tab.Rows {
							var parts int64
							var names []string
							for _, p := range sum.Parts {
								parts += row[p].(int64)
								names = append(names, tab.Columns[p].Name)
							}
							if whole := row[sum.Whole].(int64); whole != parts {
								t.Errorf("%s %s row %v: %s %d ≠ %s %d", def.Name, tab.Name, row[0], tab.Columns[sum.Whole].Name, whole,
									strings.Join(names, " + "), parts)
							}
						}
					}
					if tab.TotalRow {
						last := tab.Rows[len(tab.Rows)-1]
						for ci, c := range tab.Columns {
							if c.Kind != report.Int {
								continue
							}
							var sum int64
							for _, row := range tab.Rows[:len(tab.Rows)-1] {
								sum += row[ci].(int64)
							}
							if last[ci] != sum {
								t.Errorf("%s %s: total %s %v, the rows add up to %d", def.Name, tab.Name, c.Name, last[ci], sum)
							}
						}
					}
				}
			}
			out := m.run(t, "outcomes", report.English)
			for _, tab := range out.Tables {
				total := tab.Rows[len(tab.Rows)-1]
				if total[0] != "Total" || total[1] != int64(len(m.ids)) {
					t.Errorf("outcomes %s: total row %v, want %d calls", tab.Name, total, len(m.ids))
				}
				if hung := tab.Columns[len(tab.Columns)-1]; !hung.Apart || hung.Name != "Of which hung up" {
					t.Errorf("outcomes %s: hang-ups column %+v, want it apart and named so", tab.Name, hung)
				}
			}
			if n := len(out.Tables[1].Rows); n != 31 { // 30 days and the total
				t.Errorf("outcomes by day: %d rows, want the 30 days of November and the total", n)
			}
			// What a tool reading the CSV sees: the outcomes add up to the calls there too.
			by, err := out.Only("by-line")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := report.Render(&buf, by, report.CSV, report.Options{}); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs[1:] {
				calls, _ := strconv.Atoi(rec[1])
				sum := 0
				for _, s := range rec[2:7] {
					n, _ := strconv.Atoi(s)
					sum += n
				}
				if calls != sum {
					t.Errorf("outcomes csv %v: calls %d, outcomes add up to %d", rec, calls, sum)
				}
			}
		})
	}
}

// pdfPages is the text of each page of a PDF, as pdftotext lays it out.
func pdfPages(t *testing.T, pdf []byte) []string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext missing: .ci/run installs poppler-utils")
		}
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	pages := strings.Split(string(out), "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	return pages
}

func renderPDF(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Render(&buf, r, report.PDF, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("IDV_REPORT_OUT"); d != "" { // to look at
		os.WriteFile(filepath.Join(d, string(r.Lang)+"_"+r.FileName(report.PDF)), buf.Bytes(), 0o644)
	}
	return buf.Bytes()
}

// lastLine is the last line of a page's body: above the footer "idv · name · page …".
func lastLine(page string) string {
	lines := strings.Split(strings.TrimRight(page, "\n "), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "idv · ") {
			continue
		}
		return l
	}
	return ""
}

// TestPDFAsAReaderSeesIt reads the PDFs of a generated month, in English and Japanese, as
// text: the period is labelled Asia/Tokyo; no page ends with a section's heading; the
// hourly chart and table show all 24 hours; wait and talk read as m:ss, not ms; reasons
// read as words ("Verification failed (3 tries)"), not codes; the detail shows every start time and
// interaction id whole; and the Japanese PDF is Japanese.
func TestPDFAsAReaderSeesIt(t *testing.T) {
	m := generateMonth(t, store.SQLite, 600)
	for _, tc := range []struct {
		lang                 report.Lang
		title, reason, pages string
		english              []string // words that must not appear
	}{
		{report.English, "ID&V outcomes", "Verification failed", "page 1 of", nil},
		{report.Japanese, "本人確認の結果", "本人確認失敗（3回）", "ページ中 1ページ",
			[]string{"Calls", "Verified", "Total", "By day", "page", "generated", "Verification failed", "Hour"}},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			texts := map[string][]string{}
			for _, def := range report.Library {
				r := m.run(t, def.Name, tc.lang)
				pages := pdfPages(t, renderPDF(t, r))
				texts[def.Name] = pages
				titles := map[string]bool{}
				for _, tab := range r.Tables {
					titles[tab.Title] = true
				}
				for i, p := range pages {
					if last := lastLine(p); titles[last] {
						t.Errorf("%s page %d ends with the heading %q alone", def.Name, i+1, last)
					}
					if !strings.Contains(p, "2026-11-01 – 2026-11-30 (Asia/Tokyo)") {
						t.Errorf("%s page %d: the period is not labelled with its zone:\n%.400s", def.Name, i+1, p)
					}
				}
			}
			outcomes := strings.Join(texts["outcomes"], "\f")
			if !strings.Contains(outcomes, tc.title) || !strings.Contains(outcomes, tc.pages) {
				t.Errorf("outcomes pdf lacks %q or %q", tc.title, tc.pages)
			}
			for h := range 24 { // a label under the chart and a row of the table
				if hh := fmt.Sprintf("%02d:00", h); strings.Count(outcomes, hh) < 2 {
					t.Errorf("hour %s appears %d times in the outcomes pdf, want the chart's label and the table's row", hh, strings.Count(outcomes, hh))
				}
			}
			queues := strings.Join(texts["queues"], "\f")
			if strings.Contains(queues, "ms") || !regexp.MustCompile(`\b\d+:\d\d\b`).MatchString(queues) {
				t.Errorf("queues pdf: want wait and talk as m:ss, not ms:\n%s", queues)
			}
			detail := strings.Join(texts["detail"], "\f")
			if !strings.Contains(detail, tc.reason) || strings.Contains(detail, "VERIFY_FAILED") || strings.Contains(detail, "…") {
				t.Errorf("detail pdf: want %q in words, no codes, nothing cut short", tc.reason)
			}
			for i, id := range m.ids {
				if !strings.Contains(detail, id) || !strings.Contains(detail, m.starts[i].In(tokyo).Format("2006-01-02 15:04:05")) {
					t.Fatalf("detail pdf lacks interaction %s started %s whole", id, m.starts[i].In(tokyo).Format("2006-01-02 15:04:05"))
				}
			}
			all := strings.Join(slicesOf(texts), "\f")
			for _, w := range tc.english {
				if strings.Contains(all, w) {
					t.Errorf("the Japanese pdfs still say %q", w)
				}
			}
		})
	}
}

func slicesOf(texts map[string][]string) []string {
	var out []string
	for _, pages := range texts {
		out = append(out, pages...)
	}
	return out
}

// TestNoHeadingAloneAtPageEnd: whatever the number of rows before it, a section's
// heading is never the last thing on a page; it moves to the next page with its chart
// and first rows.
func TestNoHeadingAloneAtPageEnd(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo)
	def, _ := report.Find("outcomes")
	for lines := 1; lines <= 30; lines++ {
		var groups []store.ReportGroup
		for i := range lines {
			groups = append(groups, store.ReportGroup{Start: at, Line: fmt.Sprintf("line-%02d", i), Status: flow.StatusVerified, Reason: flow.ReasonOK, N: 1})
		}
		for _, l := range []report.Lang{report.English, report.Japanese} {
			r, err := def.Run(context.Background(), &fakeSource{groups: groups},
				report.Filter{From: at.Add(-9 * time.Hour), To: at.Add(15 * time.Hour), Location: tokyo}, at, l)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range pdfPages(t, renderPDF(t, r)) {
				last := lastLine(p)
				for _, tab := range r.Tables {
					if last == tab.Title {
						t.Errorf("%d lines, %s: page %d ends with the heading %q", lines, l, i+1, last)
					}
				}
			}
		}
	}
}

// TestXLSXKeepsCodesAndDurations: the workbook, in either language, keeps the reason
// codes beside their words (a "Reason code" column, codes in the reasons' headers), has
// wait and talk as durations Excel counts (m:ss), and is in the language asked.
func TestXLSXKeepsCodesAndDurations(t *testing.T) {
	m := generateMonth(t, store.SQLite, 300)
	for _, tc := range []struct {
		lang                         report.Lang
		reasonCode, wrongPIN, sheet  string
		waitHeader, firstQueueHeader string
	}{
		{report.English, "Reason code", "Verification failed [VERIFY_FAILED]", "2 Reasons by line", "Avg wait", "Queue"},
		{report.Japanese, "理由コード", "本人確認失敗 [VERIFY_FAILED]", "2 終了理由（回線別）", "平均待ち時間", "キュー"},
	} {
		open := func(name string) *excelize.File {
			var buf bytes.Buffer
			if err := report.Render(&buf, m.run(t, name, tc.lang), report.XLSX, report.Options{}); err != nil {
				t.Fatal(err)
			}
			x, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { x.Close() })
			return x
		}
		detail := open("detail")
		hdr, _ := detail.GetRows(detail.GetSheetList()[0])
		codes := map[string]bool{}
		for ci, h := range hdr[3] {
			if h == tc.reasonCode {
				for _, row := range hdr[4:] {
					codes[row[ci]] = true
				}
			}
		}
		if !codes["VERIFY_FAILED"] || !codes["HANGUP"] {
			t.Errorf("%s detail workbook: reason codes %v, want a %q column with them", tc.lang, codes, tc.reasonCode)
		}
		attempts := open("attempts")
		rows, _ := attempts.GetRows(tc.sheet)
		if len(rows) < 4 || !strings.Contains(strings.Join(rows[3], "|"), tc.wrongPIN) {
			t.Errorf("%s attempts workbook, sheet %q: header %v, want %q", tc.lang, tc.sheet, rows, tc.wrongPIN)
		}
		queues := open("queues")
		sheet := queues.GetSheetList()[0]
		rows, _ = queues.GetRows(sheet)
		if rows[3][0] != tc.firstQueueHeader || rows[3][6] != tc.waitHeader {
			t.Errorf("%s queues header %v", tc.lang, rows[3])
		}
		style, _ := queues.GetCellStyle(sheet, "G5")
		st, _ := queues.GetStyle(style)
		if v := rows[4][6]; st == nil || st.CustomNumFmt == nil || *st.CustomNumFmt != "[m]:ss" || !regexp.MustCompile(`^\d+:\d\d$`).MatchString(v) {
			t.Errorf("%s queues: average wait %q, want a duration shown as m:ss", tc.lang, v)
		}
	}
}
