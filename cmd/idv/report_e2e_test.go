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
	if !bytes.Contains(csv, []byte("retail,3,1,1,0,1,0,0,33.3%")) || bytes.Contains(csv, []byte("default,")) {
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
	files, _ := filepath.Glob(filepath.Join(dir, "every-minute_outcomes_*"))
	if len(files) != 2 {
		t.Fatalf("delivered %v", files)
	}
	csv, _ := os.ReadFile(files[0])
	if !strings.Contains(string(csv), "default,1,0,1,0,0,0,0,0.0%") && !strings.Contains(string(files[0]), ".xlsx") {
		t.Errorf("scheduled csv:\n%s", csv)
	}
}
