package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/crm/demo"
)

// process is `idv serve` running as its own process, with its JSON log lines.
type process struct {
	cmd   *exec.Cmd
	lines chan map[string]any
}

func startProcess(t *testing.T, config string) *process {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "idv")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "-config", config)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan map[string]any, 1000)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines <- m
			}
		}
		close(p.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return p
}

// await reads the log until a line with this message; it fails the test if the process
// ends or a minute passes first.
func (p *process) await(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case m, ok := <-p.lines:
			if !ok {
				t.Fatalf("idv ended before logging %q", msg)
			}
			if m["message"] == msg {
				return m
			}
		case <-timeout:
			t.Fatalf("idv did not log %q", msg)
		}
	}
}

// TestServeProcessReloadsOnSIGHUPAndDrainsOnSIGTERM runs the real binary: a bad file on
// SIGHUP is rejected and the running configuration stays, a good one applies to the next
// call, and SIGTERM ends the process with status 0.
func TestServeProcessReloadsOnSIGHUPAndDrainsOnSIGTERM(t *testing.T) {
	crm := httptest.NewServer(demo.New(demo.Seed).Handler())
	defer crm.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	write := func(extra string) {
		text := fmt.Sprintf("[agi]\nlisten = \"127.0.0.1:0\"\n[web]\nlisten = \"\"\n[log]\nformat = \"json\"\n[democrm]\nenabled = false\n"+
			"[sounds]\ndir = \"\"\n[store]\npath = %q\n[crm]\nbase_url = %q\n%s", filepath.Join(dir, "idv.db"), crm.URL, extra)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	p := startProcess(t, path)
	addr := p.await(t, "idv serving FastAGI")["listen"].(string)
	call := func(keys string) string {
		res, err := agitest.Caller{ANI: "+81312345679", Keys: keys}.Call(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		return res.Var("IDV_STATUS") + "/" + res.Var("IDV_REASON")
	}
	if got := call("2222#"); got != "IDENTIFIED/NOT_REQUIRED" {
		t.Fatalf("before reload: %s", got)
	}

	write("[lines.default]\nverify = maybe\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.await(t, "configuration rejected; the running configuration stays")
	if got := call("2222#"); got != "IDENTIFIED/NOT_REQUIRED" {
		t.Errorf("after a rejected reload: %s, want the running configuration", got)
	}

	write("[lines.default]\nverify = true\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.await(t, "configuration reloaded")
	if got := call("2222#"); got != "VERIFIED/OK" {
		t.Errorf("after reload: %s, want the line to ask for the PIN", got)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	p.await(t, "idv stopped")
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("idv exited with %v after SIGTERM, want status 0", err)
	}
}
