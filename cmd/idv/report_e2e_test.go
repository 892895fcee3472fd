package main

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/idv-project/idv/agi/agitest"
)

// TestReportsFromRealCalls: calls through idv, then the outcomes report downloaded from
// the web server and built by `idv report` shows them.
func TestReportsFromRealCalls(t *testing.T) {
	h := newHarness(t, "")
	for _, c := range []agitest.Caller{
		{Script: "idv?line=retail", ANI: "+81312345679", Keys: "2222#"},  // verified
		{Script: "idv?line=retail", ANI: "+81312345679", Keys: "1#2#3#"}, // identified only
		{Script: "idv?line=retail", ANI: "anonymous", Keys: "*"},         // opted out
		{ANI: "+81312345678", Keys: "1234#"},                             // verified, default line
	} {
		h.call(c)
	}
	today := time.Now().Format("2006-01-02")
	url := fmt.Sprintf("http://%s/api/reports/outcomes?from=%s&to=%s&format=xlsx", h.svc.WebAddr(), today, today)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		params["filename"] != "outcomes_"+today+"_"+today+".xlsx" {
		t.Errorf("headers %v", resp.Header)
	}
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows(x.GetSheetList()[0])
	got := map[string][]string{}
	for _, r := range rows {
		if len(r) > 5 {
			got[r[0]] = r[1:6]
		}
	}
	// Calls, verified, identified only, unidentified, opted out.
	if strings.Join(got["retail"], " ") != "3 1 1 0 1" || strings.Join(got["default"], " ") != "1 1 0 0 0" {
		t.Errorf("outcomes by line: %v", got)
	}

	for _, bad := range []string{"/api/reports/sales?from=" + today + "&to=" + today, "/api/reports/outcomes?from=" + today,
		"/api/reports/outcomes?range=yesterday&format=docx"} {
		resp, err := http.Get("http://" + h.svc.WebAddr().String() + bad)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 4 || len(msg) < 10 {
			t.Errorf("GET %s: %d %q, want a 4xx that says why", bad, resp.StatusCode, msg)
		}
	}

	// The CLI reads the same records through the configuration.
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[store]\npath = %q\n", h.db)), 0o644)
	out := filepath.Join(t.TempDir(), "o.csv")
	if err := reportCmd([]string{"-config", cfg, "-name", "outcomes", "-from", today, "-to", today, "-line", "retail", "-format", "csv", "-o", out}); err != nil {
		t.Fatal(err)
	}
	csv, _ := os.ReadFile(out)
	if !bytes.Equal(csv, []byte("Line,Calls,Verified,Identified only,Unidentified,Opted out,Errors,Verified %,Of which hung up\r\nretail,3,1,1,0,1,0,33.3%,0\r\n")) {
		t.Errorf("idv report csv:\n%s", csv)
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		pdf := filepath.Join(t.TempDir(), "o.pdf")
		if err := reportCmd([]string{"-config", cfg, "-name", "detail", "-range", "today", "-format", "pdf", "-o", pdf}); err != nil {
			t.Fatal(err)
		}
		text, _ := exec.Command("pdftotext", "-layout", pdf, "-").Output()
		if !bytes.Contains(text, []byte("佐藤 花子")) || !bytes.Contains(text, []byte("田中 一郎")) {
			t.Errorf("detail pdf:\n%s", text)
		}
	}
}

// TestScheduleFromConfig: a schedule in config.toml delivers into its directory.
func TestScheduleFromConfig(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, "", fmt.Sprintf(`[[report.schedule]]
name = "every-minute"
cron = "* * * * *"
report = "outcomes"
range = "today"
formats = ["csv", "xlsx"]
directory = %q`, dir))
	h.call(agitest.Caller{ANI: "+81312345679"})
	if err := h.svc.Scheduler.Tick(t.Context(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "every-minute_outcomes*"))
	if len(files) != 4 { // a CSV per section, the workbook
		t.Fatalf("delivered %v", files)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "every-minute_outcomes-by-line_"+time.Now().Format("2006-01-02")+"_"+time.Now().Format("2006-01-02")+".csv"))
	if !strings.Contains(string(csv), "\r\ndefault,1,0,1,0,0,0,0.0%,0\r\n") {
		t.Errorf("scheduled csv:\n%s", csv)
	}
}

// TestReportCommandRefusesWhatItCannotHonour: idv report fails, saying why, on -range
// with -from (it used to ignore -from), on a line that does not exist (it used to write
// an empty report), and on a section of a PDF; -lang ja writes the report in Japanese,
// and -section picks the CSV's table.
func TestReportCommandRefusesWhatItCannotHonour(t *testing.T) {
	h := newHarness(t, "")
	h.call(agitest.Caller{ANI: "+81312345678", Keys: "1234#"})
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[store]\npath = %q\n[lines.retail]\n", h.db)), 0o644)
	out := filepath.Join(t.TempDir(), "o.csv")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-range", "today", "-from", "2026-11-01"}, `range "today" and from "2026-11-01" conflict: give either range, or from and to`},
		{[]string{"-range", "today", "-line", "retial"}, `line "retial" is not known (known: default, retail)`},
		{[]string{"-range", "today", "-format", "pdf", "-section", "by-day"}, "-section by-day: only a CSV is cut into sections"},
		{[]string{"-range", "today", "-section", "by-week"}, "report outcomes has by-line, by-day, by-hour"},
		{[]string{"-range", "today", "-lang", "fr"}, `lang "fr": want en or ja`},
	} {
		err := reportCmd(append([]string{"-config", cfg, "-name", "outcomes", "-format", "csv", "-o", out}, tc.args...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("idv report %v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if err := reportCmd([]string{"-config", cfg, "-name", "outcomes", "-range", "today", "-lang", "ja", "-section", "by-hour", "-format", "csv", "-o", out}); err != nil {
		t.Fatal(err)
	}
	// A Japanese CSV starts with a byte-order mark, for Excel.
	if csv, _ := os.ReadFile(out); !bytes.HasPrefix(csv, []byte("\ufeff時間帯,通話数,本人確認済み,")) || bytes.Count(csv, []byte("\r\n")) != 25 {
		t.Errorf("idv report -lang ja -section by-hour:\n%s", csv)
	}
}
