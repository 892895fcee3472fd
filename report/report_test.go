package report_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
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

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// generated is a set of interactions and the figures the test expects, counted here
// directly from the set, not with the report code.
type generated struct {
	ins      []*flow.Interaction
	verified map[string]int // per line
	calls    map[string]int
	byDay    map[string]int // calls per Tokyo day
	aniHits  map[string]int
	lookups  map[string]int
	agents   map[string]int // queue-routed calls per line
}

var names = []string{"佐藤 花子", "田中 一郎", "John Smith", "Zoë Müller", "=HYPERLINK(\"x\")"}

func generate(n int, start time.Time) *generated {
	rng := rand.New(rand.NewPCG(1, 2))
	g := &generated{verified: map[string]int{}, calls: map[string]int{}, byDay: map[string]int{}, aniHits: map[string]int{},
		lookups: map[string]int{}, agents: map[string]int{}}
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(rng.IntN(3*24*3600)) * time.Second)
		line := []string{"retail", "default"}[rng.IntN(2)]
		in := &flow.Interaction{ID: fmt.Sprintf("01G%07d", i), Line: line, Script: "idv", Started: at, Ended: at.Add(40 * time.Second),
			ANI: "+81312345678", Status: flow.StatusUnidentified, Reason: flow.ReasonNotFound, Method: flow.MethodNone, Route: "queue:support"}
		lookup := rng.IntN(4) > 0
		if lookup {
			g.lookups[line]++
			hit := rng.IntN(3) > 0
			res := flow.ResultNotFound
			if hit {
				res = flow.ResultFound
				g.aniHits[line]++
			}
			in.Events = append(in.Events, flow.Event{At: at, Kind: flow.EventCRM, Name: "by_phone", Result: res, Latency: time.Duration(5+rng.IntN(50)) * time.Millisecond})
			if hit {
				in.Method, in.Status, in.Reason = flow.MethodANI, flow.StatusIdentified, flow.ReasonNotRequired
				in.CustomerID, in.CustomerName = fmt.Sprint(100000+i), names[i%len(names)]
			}
		} else {
			in.Events = append(in.Events, flow.Event{At: at, Kind: flow.EventANI, Result: "withheld"})
		}
		if in.Status == flow.StatusIdentified && rng.IntN(2) == 0 {
			in.Status, in.Reason, in.VerifyAttempts = flow.StatusVerified, flow.ReasonOK, 1
			g.verified[line]++
		}
		if rng.IntN(5) == 0 {
			in.Route = "goto:selfservice,s,1"
		} else {
			g.agents[line]++
		}
		g.calls[line]++
		g.byDay[at.In(tokyo).Format("2006-01-02")]++
		g.ins = append(g.ins, in)
	}
	return g
}

func TestReportsAgainstIndependentFigures(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) { testReports(t, driver) })
	}
}

func testReports(t *testing.T, driver string) {
	ctx := context.Background()
	st := storetest.Open(t, driver)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, tokyo)
	g := generate(600, start)
	for _, in := range g.ins {
		if err := st.Record(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// A record outside the period must not count.
	st.Record(ctx, &flow.Interaction{ID: "01OUTSIDE", Line: "retail", Script: "idv", Started: start.Add(-time.Hour),
		Status: flow.StatusVerified, Reason: flow.ReasonOK, Method: flow.MethodANI})
	f := report.Filter{From: start, To: start.AddDate(0, 0, 3), Location: tokyo}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, tokyo)
	run := func(name string, f report.Filter) *report.Report {
		d, err := report.Find(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := d.Run(ctx, st, f, now, report.English)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	out := run("outcomes", f)
	for _, row := range out.Tables[0].Rows {
		line := row[0].(string)
		if line == "Total" {
			continue
		}
		if row[1].(int64) != int64(g.calls[line]) || row[2].(int64) != int64(g.verified[line]) {
			t.Errorf("outcomes %s: calls %v verified %v, want %d %d", line, row[1], row[2], g.calls[line], g.verified[line])
		}
	}
	for _, row := range out.Tables[1].Rows {
		if day := row[0].(string); day != "Total" && row[1].(int64) != int64(g.byDay[day]) {
			t.Errorf("outcomes day %s: %v calls, want %d", day, row[1], g.byDay[day])
		}
	}
	retailOnly := run("outcomes", report.Filter{From: f.From, To: f.To, Location: tokyo, Lines: []string{"retail"}})
	if len(retailOnly.Tables[0].Rows) != 1 || retailOnly.Tables[0].Rows[0][1].(int64) != int64(g.calls["retail"]) {
		t.Errorf("line filter: %v", retailOnly.Tables[0].Rows)
	}
	for _, row := range run("methods", f).Tables[0].Rows {
		line := row[0].(string)
		if line == "Total" {
			continue
		}
		want := float64(g.aniHits[line]) / float64(g.lookups[line])
		if got := row[6].(float64); fmt.Sprintf("%.6f", got) != fmt.Sprintf("%.6f", want) {
			t.Errorf("methods %s: hit rate %v, want %v", line, got, want)
		}
	}
	// With a filter beyond period and line, events are counted through the interactions:
	// filtering on every status must give the same figures.
	all := run("methods", report.Filter{From: f.From, To: f.To, Location: tokyo, Statuses: []string{"VERIFIED", "IDENTIFIED", "UNIDENTIFIED"}})
	if fmt.Sprint(all.Tables[0].Rows) != fmt.Sprint(run("methods", f).Tables[0].Rows) {
		t.Errorf("methods through the join differ:\n%v\n%v", all.Tables[0].Rows, run("methods", f).Tables[0].Rows)
	}
	for _, row := range run("containment", f).Tables[0].Rows {
		if line := row[0].(string); line != "Total" && row[3].(int64) != int64(g.agents[line]) {
			t.Errorf("containment %s: %v to agents, want %d", line, row[3], g.agents[line])
		}
	}
	be := run("backend", f).Tables[0].Rows
	if len(be) != 1 || be[0][0] != "by_phone" || be[0][1].(int64) != int64(g.lookups["retail"]+g.lookups["default"]) {
		t.Errorf("backend: %v", be)
	}

	// Every report renders in every format; the files hold the figures and the names.
	// IDV_REPORT_OUT keeps them, to look at.
	dir := t.TempDir()
	if d := os.Getenv("IDV_REPORT_OUT"); d != "" {
		dir = d
	}
	for _, def := range report.Library {
		r := run(def.Name, f)
		for _, format := range []report.Format{report.CSV, report.XLSX, report.PDF} {
			if format == report.CSV {
				renderSections(t, dir, r)
				continue
			}
			var buf bytes.Buffer
			if err := report.Render(&buf, r, format, report.Options{}); err != nil {
				t.Fatalf("%s %s: %v", def.Name, format, err)
			}
			os.WriteFile(filepath.Join(dir, r.FileName(format)), buf.Bytes(), 0o644)
		}
	}
	verifiedRetail := strconv.Itoa(g.verified["retail"])

	x, err := excelize.OpenFile(filepath.Join(dir, "outcomes_2026-11-01_2026-11-03.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	sheets := x.GetSheetList()
	rows, _ := x.GetRows(sheets[0])
	var found bool
	for _, r := range rows {
		if len(r) > 2 && r[0] == "retail" && strings.ReplaceAll(r[2], ",", "") == verifiedRetail {
			found = true
		}
	}
	if !found {
		t.Errorf("xlsx lacks retail verified %s: %v", verifiedRetail, rows)
	}
	if typ, _ := x.GetCellType(sheets[0], "B5"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("calls cell is %v, want a number", typ)
	}
	if panes, _ := x.GetPanes(sheets[0]); !panes.Freeze {
		t.Error("header row not frozen")
	}
	zr, err := zip.OpenReader(filepath.Join(dir, "outcomes_2026-11-01_2026-11-03.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	charts := 0
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "xl/charts/chart") {
			charts++
		}
	}
	zr.Close()
	if charts != 2 { // by day (stacked) and by hour, as in the PDF
		t.Errorf("%d native charts in the outcomes workbook, want 2", charts)
	}
	x.Close()

	cr := csv.NewReader(bytes.NewReader(mustRead(t, filepath.Join(dir, "detail_2026-11-01_2026-11-03.csv"))))
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("detail csv: %v", err)
	}
	if len(recs) != len(g.ins)+1 {
		t.Errorf("detail csv has %d records for %d interactions", len(recs), len(g.ins))
	}
	csvText := string(mustRead(t, filepath.Join(dir, "detail_2026-11-01_2026-11-03.csv")))
	if !strings.Contains(csvText, "佐藤 花子") || strings.Contains(csvText, "\n=HYPERLINK") || !strings.Contains(csvText, "'=HYPERLINK") {
		t.Error("detail csv: names missing or a formula not defused")
	}

	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext missing: .ci/run installs poppler-utils")
		}
		t.Skip("pdftotext not installed (poppler-utils)")
	}
	text := pdfText(t, filepath.Join(dir, "outcomes_2026-11-01_2026-11-03.pdf"))
	if !strings.Contains(text, "ID&V outcomes") || !strings.Contains(text, verifiedRetail) || !strings.Contains(text, "page 1 of") {
		t.Errorf("outcomes pdf text:\n%s", text)
	}
	detail := pdfText(t, filepath.Join(dir, "detail_2026-11-01_2026-11-03.pdf"))
	if !strings.Contains(detail, "佐藤 花子") || !strings.Contains(detail, "田中 一郎") {
		t.Errorf("detail pdf lacks the Japanese names:\n%.2000s", detail)
	}
	if strings.Count(detail, "Interaction") < 2 {
		t.Error("detail pdf: the table header is not repeated on later pages")
	}
}

// renderSections writes a CSV per section of r into dir.
func renderSections(t *testing.T, dir string, r *report.Report) {
	t.Helper()
	for _, tab := range r.Tables {
		part, err := r.Only(tab.Name)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := report.Render(&buf, part, report.CSV, report.Options{}); err != nil {
			t.Fatalf("%s %s csv: %v", r.Name, tab.Name, err)
		}
		os.WriteFile(filepath.Join(dir, part.FileName(report.CSV)), buf.Bytes(), 0o644)
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pdfText(t *testing.T, path string) string {
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return string(out)
}

func TestRangesAndFilters(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, tokyo) // a Wednesday
	d := func(s string) time.Time { v, _ := time.ParseInLocation("2006-01-02", s, tokyo); return v }
	cases := map[string][2]string{
		"yesterday": {"2026-11-24", "2026-11-25"}, "today": {"2026-11-25", "2026-11-26"},
		"last-week": {"2026-11-16", "2026-11-23"}, "this-week": {"2026-11-23", "2026-11-26"},
		"last-month": {"2026-10-01", "2026-11-01"}, "last-7-days": {"2026-11-18", "2026-11-25"},
	}
	for name, want := range cases {
		from, to, err := report.Range(name, now, tokyo)
		if err != nil || !from.Equal(d(want[0])) || !to.Equal(d(want[1])) {
			t.Errorf("%s = %s – %s, %v; want %v", name, from, to, err, want)
		}
	}
	f, err := report.ParseFilter(map[string][]string{"from": {"2026-11-01"}, "to": {"2026-11-30"}, "line": {"retail, default"},
		"status": {"verified"}}, now, tokyo) // a status as its code, in any case
	if err != nil || !f.From.Equal(d("2026-11-01")) || !f.To.Equal(d("2026-12-01")) || len(f.Lines) != 2 || f.Statuses[0] != "VERIFIED" {
		t.Errorf("filter = %+v, %v", f, err)
	}
	for _, bad := range []map[string][]string{{"from": {"2026-11-30"}, "to": {"2026-11-01"}}, {"from": {"yesterday"}}, {"range": {"fortnight"}}, {"tz": {"Mars/Base"}, "range": {"today"}}} {
		if _, err := report.ParseFilter(bad, now, tokyo); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestConflictingParametersAreRefused: range with from or to, or a bound given twice, is
// an error that names what conflicts, not a period that silently ignores one of them.
func TestConflictingParametersAreRefused(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, tokyo)
	for _, tc := range []struct {
		q    map[string][]string
		want []string
	}{
		{map[string][]string{"range": {"today"}, "from": {"2026-11-01"}}, []string{`range "today"`, `from "2026-11-01"`, "conflict"}},
		{map[string][]string{"range": {"last-week"}, "to": {"2026-11-30"}}, []string{`range "last-week"`, `to "2026-11-30"`}},
		{map[string][]string{"from": {"2026-11-01", "2026-11-02"}, "to": {"2026-11-30"}}, []string{"from is given 2 times", "2026-11-01, 2026-11-02"}},
		{map[string][]string{"range": {"today", "yesterday"}}, []string{"range is given 2 times"}},
	} {
		_, err := report.ParseFilter(tc.q, now, tokyo)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %v, want it to say %q", tc.q, err, w)
			}
		}
	}
}

// TestPeriodNamesItsZone: the period is labelled with its zone's name; the machine's own
// zone (report.timezone = "Local") by the name TZ gives it, not "Local".
func TestPeriodNamesItsZone(t *testing.T) {
	r := &report.Report{Filter: report.Filter{From: time.Date(2026, 11, 1, 0, 0, 0, 0, tokyo), To: time.Date(2026, 12, 1, 0, 0, 0, 0, tokyo), Location: tokyo}}
	if got := r.Describe(); got != "2026-11-01 – 2026-11-30 (Asia/Tokyo)" {
		t.Errorf("period %q", got)
	}
	t.Setenv("TZ", "Asia/Tokyo")
	if got := report.ZoneName(time.Local); got != "Asia/Tokyo" {
		t.Errorf("the local zone is named %q with TZ=Asia/Tokyo", got)
	}
	t.Setenv("TZ", "/usr/share/zoneinfo/Europe/Paris")
	if got := report.ZoneName(time.Local); got != "Europe/Paris" {
		t.Errorf("the local zone is named %q with TZ a zone file", got)
	}
	t.Setenv("TZ", "")
	if got := report.ZoneName(time.Local); got != "UTC" {
		t.Errorf("the local zone is named %q with TZ empty (UTC)", got)
	}
}

// TestCSVIsOneTable: a report's CSV is one of its sections, the first by default: a
// header row and the rows, no title, blank line, total or note; every record has the
// header's fields, so that a tool imports it. Reasons are words with their codes in the
// header; an unknown section is an error naming the report's sections.
func TestCSVIsOneTable(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo)
	src := &fakeSource{groups: []store.ReportGroup{
		{Start: at, Line: "retail", Status: flow.StatusIdentified, Reason: flow.ReasonVerifyFailed, VerifyAttempts: 3, N: 2},
		{Start: at, Line: "default", Status: flow.StatusVerified, Reason: flow.ReasonOK, N: 5},
	}}
	f := report.Filter{From: at.Add(-9 * time.Hour), To: at.Add(15 * time.Hour), Location: tokyo}
	for _, tc := range []struct {
		report, section, lang, header, file string
		rows                                int
	}{
		{"outcomes", "", "en", "Line,Calls,Verified,Identified only,Unidentified,Opted out,Errors,Verified %,Of which hung up", "outcomes-by-line_2026-11-02_2026-11-02.csv", 2},
		{"outcomes", "by-hour", "en", "Hour,Calls,", "outcomes-by-hour_2026-11-02_2026-11-02.csv", 24},
		{"outcomes", "by-line", "ja", "回線,通話数,本人確認済み,特定のみ,未特定,スキップ,エラー,本人確認率,うち途中切断", "outcomes-by-line_2026-11-02_2026-11-02.csv", 2},
		{"attempts", "reasons", "en", "Line,Calls,Verified [OK],Verification not required [NOT_REQUIRED],Opted out [OPTED_OUT],Customer not found [NOT_FOUND],No input [NO_INPUT],Verification failed [VERIFY_FAILED],", "attempts-reasons_2026-11-02_2026-11-02.csv", 2},
		{"containment", "", "en", "Line,Calls,Self-service,", "containment_2026-11-02_2026-11-02.csv", 2},
	} {
		part, buf := sectionCSV(t, src, f, at, report.Lang(tc.lang), tc.report, tc.section)
		// Japanese CSVs start with a byte-order mark, for Excel; English ones do not.
		body, bom := strings.CutPrefix(buf.String(), "\ufeff")
		if bom != (tc.lang == "ja") {
			t.Errorf("%s %s %s: byte-order mark %v", tc.report, tc.section, tc.lang, bom)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll() // every record as wide as the header
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", tc.report, tc.section, err, buf.String())
		}
		if !strings.HasPrefix(strings.Join(recs[0], ","), tc.header) || len(recs)-1 != tc.rows || part.FileName(report.CSV) != tc.file {
			t.Errorf("%s %s %s: %s, %d rows:\n%s", tc.report, tc.section, tc.lang, part.FileName(report.CSV), len(recs)-1, buf.String())
		}
		if strings.Contains(buf.String(), "Total") || strings.Contains(buf.String(), "合計") || strings.Contains(buf.String(), "\r\n\r\n") {
			t.Errorf("%s %s: a total row or a blank line:\n%s", tc.report, tc.section, buf.String())
		}
	}
	def, _ := report.Find("outcomes")
	r, _ := def.Run(context.Background(), src, f, at, report.English)
	if _, err := r.Only("by-week"); err == nil || !strings.Contains(err.Error(), "by-line, by-day, by-hour") {
		t.Errorf("unknown section: %v", err)
	}
	if err := report.Render(io.Discard, r, report.CSV, report.Options{}); err == nil {
		t.Error("a CSV of three sections was written")
	}
}

// TestUnknownFilterValuesAreRefused: a line, queue, agent, status, language or wrap-up
// code that neither the configuration nor the records know is an error naming it and
// what is known; one the configuration names with no calls yet, or one recorded though
// no longer configured, is accepted.
func TestUnknownFilterValuesAreRefused(t *testing.T) {
	src := &fakeSource{recorded: map[store.Field][]string{store.FieldLine: {"retail", "old-line"}, store.FieldQueue: {"support"}}}
	known := report.Known{Lines: []string{"retail", "new-line"}, Queues: []string{"support", "billing"}, WrapUps: []string{"resolved"}}
	for _, tc := range []struct {
		f    report.Filter
		want string // "" when accepted
	}{
		{report.Filter{Lines: []string{"retail", "new-line", "old-line"}, Queues: []string{"billing"}, Statuses: []string{"VERIFIED"}}, ""},
		{report.Filter{Lines: []string{"retial"}}, `line "retial" is not known (known: new-line, old-line, retail)`},
		{report.Filter{Queues: []string{"sales"}}, `queue "sales" is not known (known: billing, support)`},
		{report.Filter{Statuses: []string{"verified"}}, `status "verified" is not known (known: IDENTIFIED, UNIDENTIFIED, VERIFIED)`},
		{report.Filter{Agents: []string{"PJSIP/agent9"}}, `agent "PJSIP/agent9" is not known: none is configured or recorded`},
		{report.Filter{WrapUps: []string{"sold"}}, `wrapup "sold" is not known (known: resolved)`},
	} {
		err := tc.f.Check(context.Background(), src, known)
		var unknown *report.UnknownError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v refused: %v", tc.f, err)
		case tc.want != "" && (!errors.As(err, &unknown) || err.Error() != tc.want):
			t.Errorf("%+v: %v, want %s", tc.f, err, tc.want)
		}
	}
}

// TestSafeTextDefusesFormulas: a cell a spreadsheet would read as a formula — also after
// leading spaces or a line break, or in the full-width forms Japanese Excel reads alike —
// is kept text with an apostrophe; names and figures are left as they are.
func TestSafeTextDefusesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+cmd": "'+cmd", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)", "\t=1": "'\t=1", "\r=1": "'\r=1",
		" =1+1": "' =1+1", "\n=1+2": "'\n=1+2", "\u3000=1": "'\u3000=1", "＝HYPERLINK(\"x\")": "'＝HYPERLINK(\"x\")", "＋1": "'＋1",
		"佐藤 花子": "佐藤 花子", "O'Brien": "O'Brien", "Zoë Müller-Lüdenscheidt": "Zoë Müller-Lüdenscheidt", "100234": "100234", "": "",
	} {
		if got := report.SafeText(in); got != want {
			t.Errorf("SafeText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNothingMeasuredIsNoZero: a figure with nothing to measure — the wait and talk of
// queued calls ARI did not follow, the hit rate of a line that looked no number up — is
// "—" in the PDF and an empty cell in the CSV, not 0:00 or 0.0 %, which read as
// "answered at once" and "every lookup failed".
func TestNothingMeasuredIsNoZero(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo)
	src := &fakeSource{groups: []store.ReportGroup{
		{Start: at, Line: "bank", Status: flow.StatusIdentified, Reason: flow.ReasonNotRequired, Method: flow.MethodDTMF,
			Route: "queue:support", Agent: "PJSIP/agent1", N: 3},
	}}
	f := report.Filter{From: at.Add(-9 * time.Hour), To: at.Add(15 * time.Hour), Location: tokyo}
	for _, tc := range []struct{ report, section, row string }{
		{"queues", "", "support,3,3,0,0,0,,"},
		{"queues", "agents", "PJSIP/agent1,3,,"},
		{"methods", "", "bank,3,0,3,0,0,,0,0.0%,0"}, // no lookup: no hit rate; a share of 0 withheld is 0.0 %
	} {
		_, buf := sectionCSV(t, src, f, at, report.English, tc.report, tc.section)
		if !strings.Contains(buf.String(), "\n"+tc.row) {
			t.Errorf("%s %s: want a row starting %q:\n%s", tc.report, tc.section, tc.row, buf.String())
		}
	}
	def, _ := report.Find("queues")
	r, err := def.Run(context.Background(), src, f, at, report.English)
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Join(pdfPages(t, renderPDF(t, r)), "\f")
	if strings.Contains(pages, "0:00") || !strings.Contains(pages, "—") {
		t.Errorf("queues pdf: want — for the waits and talks not measured, no 0:00:\n%s", pages)
	}
}

// sectionCSV runs the report name over src and renders its section as CSV.
func sectionCSV(t *testing.T, src report.Source, f report.Filter, at time.Time, l report.Lang, name, section string) (*report.Report, *bytes.Buffer) {
	t.Helper()
	def, _ := report.Find(name)
	r, err := def.Run(context.Background(), src, f, at, l)
	if err != nil {
		t.Fatal(err)
	}
	part, err := r.Only(section)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, part, report.CSV, report.Options{}); err != nil {
		t.Fatal(err)
	}
	return part, &buf
}
