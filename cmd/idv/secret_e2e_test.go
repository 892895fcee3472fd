package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/report"
)

// TestPINNeverLeaks types a unique PIN in every kind of scenario and then searches the
// logs (at debug level), the database files and everything sent to Asterisk for it.
func TestPINNeverLeaks(t *testing.T) {
	const pin = "86420975"
	customers := append([]demo.Customer{{ID: "777001", Name: "Canary", VerifyRequired: true, Phones: []string{"+81300000001"}, PIN: pin}}, demo.Seed...)
	crm := httptest.NewServer(demo.New(customers).Handler())
	t.Cleanup(crm.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/verify") {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		demo.New(customers).Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(broken.Close)

	scenarios := []struct {
		crm    string
		caller agitest.Caller
	}{
		{crm.URL, agitest.Caller{ANI: "+81300000001", Keys: pin + "#"}},                                 // verified
		{crm.URL, agitest.Caller{ANI: "+81312345678", Keys: pin + "#" + pin + "#" + pin + "#"}},         // rejected three times
		{crm.URL, agitest.Caller{ANI: "+81312345678", Keys: pin}},                                       // ends on max length
		{crm.URL, agitest.Caller{ANI: "+81312345678", Keys: pin[:5] + "!"}},                             // hang-up while typing
		{crm.URL, agitest.Caller{ANI: "+81300000001", Keys: pin + "#", HangupOnPrompt: "idv/verified"}}, // hang-up after
		{crm.URL, agitest.Caller{Script: "verify", Keys: pin + "#", Vars: map[string]string{"IDV_CUSTOMER_ID": "777001"}}},
		{crm.URL, agitest.Caller{ANI: "anonymous", Keys: pin + "#"}},                                        // typed as identifier
		{broken.URL, agitest.Caller{ANI: "+81300000001", Keys: pin + "#"}},                                  // CRM fails verifying it
		{crm.URL, agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679", Keys: "1#" + pin + "#2#"}}, // mixed with wrong ones
	}
	for i, sc := range scenarios {
		h := newHarness(t, sc.crm)
		res, _ := h.call(sc.caller)
		if !strings.Contains(res.Typed, pin[:5]) {
			t.Fatalf("scenario %d: Asterisk delivered %q, not the PIN; the test proves nothing", i, res.Typed)
		}
		for _, c := range res.Commands {
			if strings.Contains(c.Line, pin) {
				t.Errorf("scenario %d: sent to Asterisk: %q", i, c.Line)
			}
		}
		for k, v := range res.Vars {
			if strings.Contains(v, pin) {
				t.Errorf("scenario %d: channel variable %s=%q", i, k, v)
			}
		}
		if leaks := reportAndMetricLeaks(t, h, pin); len(leaks) > 0 {
			t.Errorf("scenario %d: the PIN is in %v", i, leaks)
		}
		dir := filepath.Dir(h.db)
		h.stop() // flush and close the database
		if strings.Contains(h.logs.String(), pin) {
			t.Errorf("scenario %d: the PIN is in the log", i)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte(pin)) {
				t.Errorf("scenario %d: the PIN is in %s", i, filepath.Base(f))
			}
		}
	}
}

// reportAndMetricLeaks renders every report in every format (unzipping XLSX, extracting the
// PDF's text) and reads /metrics, and names where the PIN appears.
func reportAndMetricLeaks(t *testing.T, h *harness, pin string) []string {
	t.Helper()
	var leaks []string
	today := time.Now().Format("2006-01-02")
	for _, def := range report.Library {
		for _, format := range []string{"csv", "xlsx", "pdf"} {
			resp, err := http.Get(fmt.Sprintf("http://%s/api/reports/%s?from=%s&to=%s&format=%s", h.svc.WebAddr(), def.Name, today, today, format))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			text := string(body)
			switch format {
			case "xlsx":
				zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
				if err != nil {
					t.Fatalf("%s xlsx: %v", def.Name, err)
				}
				text = ""
				for _, f := range zr.File {
					rc, _ := f.Open()
					b, _ := io.ReadAll(rc)
					rc.Close()
					text += string(b)
				}
			case "pdf":
				if _, err := exec.LookPath("pdftotext"); err != nil {
					continue
				}
				cmd := exec.Command("pdftotext", "-", "-")
				cmd.Stdin = bytes.NewReader(body)
				out, _ := cmd.Output()
				text = string(out)
			}
			if strings.Contains(text, pin) {
				leaks = append(leaks, def.Name+"."+format)
			}
		}
	}
	resp, err := http.Get("http://" + h.svc.WebAddr().String() + "/metrics")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), pin) {
			leaks = append(leaks, "/metrics")
		}
	}
	return leaks
}
