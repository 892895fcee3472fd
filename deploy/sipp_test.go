package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSIPpScenarios runs every caller scenario with sipp against the agent-phone scenario
// on loopback, one call each: sipp parses both, and they must complete a call together.
// A broken scenario fails here. (The agent talks longer than any caller's script, and the
// callers wait 50 ms per prompt.)
func TestSIPpScenarios(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sipp is not installed; .ci/run installs sip-tester")
		}
		t.Skip("sipp not installed (apt-get install sip-tester)")
	}
	agentXML, err := os.ReadFile("sipp/agent.xml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(agentXML, []byte(`timeout="20000"`)) {
		t.Fatal(`agent.xml lost its talk time timeout="20000", which run.sh rewrites`)
	}
	callers, _ := filepath.Glob("sipp/caller-*.xml")
	if len(callers) < 5 {
		t.Fatalf("only %d caller scenarios", len(callers))
	}
	for i, caller := range callers {
		t.Run(filepath.Base(caller), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			agent := filepath.Join(dir, "agent.xml")
			os.WriteFile(agent, bytes.Replace(agentXML, []byte(`timeout="20000"`), []byte(`timeout="8000"`), 1), 0o644)
			caller, _ := filepath.Abs(caller)
			agentPort, callerPort := 25070+2*i, 25071+2*i
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			run := func(args ...string) *exec.Cmd {
				cmd := exec.CommandContext(ctx, sipp, args...)
				cmd.Dir = dir
				return cmd
			}
			peer := run("-sf", agent, "-i", "127.0.0.1", "-p", fmt.Sprint(agentPort), "-mp", fmt.Sprint(27000+200*i),
				"-m", "1", "-nostdin", "-trace_err", "-timeout", "40s")
			var peerOut bytes.Buffer
			peer.Stdout, peer.Stderr = &peerOut, &peerOut
			if err := peer.Start(); err != nil {
				t.Fatal(err)
			}
			out, err := run(fmt.Sprintf("127.0.0.1:%d", agentPort), "-sf", caller, "-s", "1000", "-i", "127.0.0.1",
				"-p", fmt.Sprint(callerPort), "-mp", fmt.Sprint(26000+200*i), "-d", "50", "-m", "1", "-nostdin",
				"-trace_err", "-timeout", "40s").CombinedOutput()
			perr := peer.Wait()
			logs, _ := filepath.Glob(filepath.Join(dir, "*_errors.log"))
			var errs strings.Builder
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				errs.Write(b)
			}
			if err != nil || perr != nil {
				t.Errorf("caller: %v, agent: %v\nerrors:\n%s\ncaller output (tail):\n%s", err, perr, errs.String(), tail(out))
			}
		})
	}
}

// TestShellScriptsParse: bash reads the kit's scripts without a syntax error.
func TestShellScriptsParse(t *testing.T) {
	for _, f := range []string{"sipp/run.sh", "../sounds/generate.sh", "../.ci/run"} {
		if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		}
	}
	if out, err := exec.Command("bash", "sipp/run.sh", "-h").CombinedOutput(); err == nil || !strings.Contains(string(out), "-t  how long agents talk") {
		t.Errorf("run.sh -h: %v\n%s", err, out)
	}
}

func tail(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}
