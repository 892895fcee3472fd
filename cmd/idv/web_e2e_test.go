package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/idv-project/idv/agi/agitest"
)

// TestMetricsAndReadiness: after real calls, /metrics counts them the way Prometheus reads
// it, and /readyz says idv takes calls.
func TestMetricsAndReadiness(t *testing.T) {
	h := newHarness(t, "")
	h.call(agitest.Caller{ANI: "+81312345678", Keys: "1234#"})
	h.call(agitest.Caller{ANI: "anonymous", Keys: "*"})
	get := func(path string) string {
		resp, err := http.Get("http://" + h.svc.WebAddr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	m := get("/metrics")
	for _, want := range []string{
		`idv_calls_total{line="default",script="idv"} 2`,
		`idv_calls_active 0`,
		`idv_outcomes_total{line="default",method="ANI",reason="OK",status="VERIFIED"} 1`,
		`idv_outcomes_total{line="default",method="NONE",reason="OPTED_OUT",status="UNIDENTIFIED"} 1`,
		`idv_crm_request_seconds_count{endpoint="verify",result="verified"} 1`,
		`idv_agi_command_seconds_count{command="ANSWER"} 2`,
		`idv_steps_total{result="opt_out",step="digits"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if got := get("/readyz"); got != "ready\n" {
		t.Errorf("/readyz = %q", got)
	}
}

func TestHashPassword(t *testing.T) {
	var out strings.Builder
	if err := hashPassword(nil, strings.NewReader("correct horse\n"), &out); err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(strings.TrimSpace(out.String())), []byte("correct horse")) != nil {
		t.Errorf("hash %q does not match", out.String())
	}
	if err := hashPassword(nil, strings.NewReader("short\n"), &out); err == nil {
		t.Error("a 5-character password was hashed")
	}
}
