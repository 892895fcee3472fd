package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/internal/testlog"
	"github.com/rs/zerolog"
)

// startAGI starts idv with agi settings (the [agi] table's lines) and no CRM calls.
func startAGI(t *testing.T, agiLines string) (*App, *testlog.Buffer) {
	t.Helper()
	cfg := site{AGI: agiLines, CRM: "http://" + startDemoCRM(t)}.config(t)
	return startSite(t, cfg)
}

// TestConnectionsPastTheCapAreRefusedAndCounted: with agi.max_connections calls in
// progress, the next FastAGI connection gets FAILURE (the dialplan's fallback) and is
// closed, and idv_agi_connections_refused_total counts it.
func TestConnectionsPastTheCapAreRefusedAndCounted(t *testing.T) {
	a, logs := startAGI(t, "listen = \"127.0.0.1:0\"\nmax_connections = 1")
	dial := func() (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", a.AGIAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, "agi_network: yes\nagi_network_script: idv\nagi_callerid: anonymous\n\n")
		return conn, bufio.NewReader(conn)
	}
	held, r := dial()
	defer held.Close() // before Shutdown: the call ends at once
	if cmd, err := r.ReadString('\n'); cmd != "ANSWER\n" {
		t.Fatalf("the call within the cap got %q, %v", cmd, err)
	}
	refused, r2 := dial()
	defer refused.Close()
	if got, _ := io.ReadAll(r2); string(got) != "FAILURE\n" {
		t.Errorf("the call past the cap got %q, want FAILURE and the connection closed", got)
	}
	if n := counted(t, a, "idv_agi_connections_refused_total", "max_connections"); n != 1 {
		t.Errorf("idv_agi_connections_refused_total{reason=max_connections} = %v, want 1", n)
	}
	if !strings.Contains(logs.String(), `"max_connections":1,"config"`) || !strings.Contains(logs.String(), "agi.max_connections calls in progress") {
		t.Errorf("the log does not give the cap and the refusal:\n%s", logs)
	}
}

// TestStartWarnsOfAnOpenAGIPort: with agi.allow empty and agi.listen off loopback, any
// host that reaches the port can attach any interaction to any agent (/agent): idv
// starts, and its log says so, naming agi.allow.
func TestStartWarnsOfAnOpenAGIPort(t *testing.T) {
	_, logs := startAGI(t, "listen = \"0.0.0.0:0\"")
	if !strings.Contains(logs.String(), `"level":"warn","key":"agi.allow"`) || !strings.Contains(logs.String(), "agent") {
		t.Errorf("no warning naming agi.allow:\n%s", logs)
	}
	_, logs = startAGI(t, "listen = \"0.0.0.0:0\"\nallow = [\"127.0.0.1\"]")
	if strings.Contains(logs.String(), `"key":"agi.allow"`) {
		t.Errorf("a warning with agi.allow set:\n%s", logs)
	}
}

// counted is the value of a counter of a's metrics with the label value given.
func counted(t *testing.T, a *App, name, label string) float64 {
	t.Helper()
	families, err := a.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{%s} in the metrics", name, label)
	return 0
}

// TestAnUnknownLineFallsBackToTheDialplan: AGI(agi://…/idv?line=retial) — a typo — does
// not run the default line (which may ask no PIN where retail would): the call is
// answered FAILURE before any prompt, so the dialplan's fallback takes it; the log
// names the line and the configured ones, and idv_unknown_line_calls_total counts it.
func TestAnUnknownLineFallsBackToTheDialplan(t *testing.T) {
	a, logs := startAGI(t, "listen = \"127.0.0.1:0\"")
	conn, err := net.Dial("tcp", a.AGIAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "agi_network: yes\nagi_network_script: idv?line=retial\nagi_callerid: +81312345678\nagi_channel: PJSIP/trunk-1\n\n")
	if got, _ := io.ReadAll(conn); string(got) != "FAILURE\n" {
		t.Errorf("a call on an unknown line got %q, want FAILURE and the connection closed", got)
	}
	if !strings.Contains(logs.String(), `service line \"retial\" is not configured`) || !strings.Contains(logs.String(), "default") {
		t.Errorf("the log does not name the unknown line and the configured ones:\n%s", logs)
	}
	if strings.Contains(logs.String(), "call started") {
		t.Errorf("a flow started on an unknown line:\n%s", logs)
	}
	families, _ := a.metrics.Registry.Gather()
	var n float64
	for _, f := range families {
		if f.GetName() == "idv_unknown_line_calls_total" {
			n = f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if n != 1 {
		t.Errorf("idv_unknown_line_calls_total = %v, want 1", n)
	}
}

// TestStartErrorsNameTheFileAndTheKey: when idv serve cannot take what the configuration
// names — a port another program holds, a database it cannot create — its error names
// the configuration file and the key to change, as idv check's do.
func TestStartErrorsNameTheFileAndTheKey(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for _, tc := range []struct{ name, key string }{
		{"FastAGI port taken", "agi.listen"},
		{"web port taken", "web.listen"},
		{"database in a missing directory", "store.path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := site{}
			switch tc.key {
			case "agi.listen":
				s.AGI = fmt.Sprintf("listen = %q", held.Addr())
			case "web.listen":
				s.Web = fmt.Sprintf("listen = %q", held.Addr())
			case "store.path":
				s.DB = "/nonexistent/dir/idv.db"
			}
			a, err := Start(context.Background(), s.config(t), zerolog.Nop())
			if err == nil {
				a.Shutdown()
				t.Fatal("started")
			}
			if !strings.HasPrefix(err.Error(), "t.toml: "+tc.key+": ") {
				t.Errorf("error %q, want it to start with the file and %s", err, tc.key)
			}
		})
	}
}

// TestLogStepsChoosesTheStepsLevel: a call logs one summary line at info, and its steps
// at log.steps: debug by default (out of an info log), info when set so.
func TestLogStepsChoosesTheStepsLevel(t *testing.T) {
	for _, tc := range []struct {
		steps string
		want  bool
	}{{"", false}, {`steps = "info"`, true}} {
		a, logs := startSite(t, site{Log: tc.steps, CRM: "http://" + startDemoCRM(t)}.config(t))
		if _, err := (agitest.Caller{ANI: "+81312345678", Keys: "1234#"}).Call(context.Background(), a.AGIAddr().String()); err != nil {
			t.Fatal(err)
		}
		a.Shutdown()
		text := logs.String()
		if got := strings.Contains(text, `{"level":"info","interaction"`) && strings.Contains(text, `"step":"prompt"`) &&
			!strings.Contains(text, `"level":"debug"`); got != tc.want {
			t.Errorf("log.steps %q: step lines logged %v, want %v\n%s", tc.steps, got, tc.want, text)
		}
		if !strings.Contains(text, "call ended") {
			t.Errorf("log.steps %q: no summary line\n%s", tc.steps, text)
		}
	}
}
