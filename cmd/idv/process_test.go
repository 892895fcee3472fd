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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/store"
)

// process is `idv serve` running as its own process, with its JSON log lines.
type process struct {
	cmd   *exec.Cmd
	lines chan map[string]any
}

// binDir holds the built command, removed by TestMain.
var binDir string

// TestMain removes the command built for the process tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds the idv command once for the tests that run it as its own process.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "idv-test-bin")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "idv")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// idvBinary is the built command, or the test fails.
func idvBinary(t *testing.T) string {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// startTestProcess starts idv serve against a fresh demo CRM and database, with extra
// TOML in [agi] and after it, and returns it with its database path.
func startTestProcess(t *testing.T, agiExtra, extra string) (*process, string) {
	t.Helper()
	crm := httptest.NewServer(demo.New(demo.Seed).Handler())
	t.Cleanup(crm.Close)
	dir := t.TempDir()
	db, path := filepath.Join(dir, "idv.db"), filepath.Join(dir, "config.toml")
	writeConfig(t, path, db, crm.URL, agiExtra, extra)
	return startProcess(t, path), db
}

func startProcess(t *testing.T, config string) *process {
	t.Helper()
	cmd := exec.Command(idvBinary(t), "serve", "-config", config)
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

// writeConfig writes a configuration for a process under test: FastAGI on a free port, no
// web server, JSON logs, no demo CRM or prompt check, the given database and CRM, then
// extra TOML (the [agi] table's shutdown_timeout may be passed as agiExtra).
func writeConfig(t *testing.T, path, db, crmURL, agiExtra, extra string) {
	t.Helper()
	storeKeys := fmt.Sprintf("path = %q", db)
	if strings.HasPrefix(db, "postgres://") {
		storeKeys = fmt.Sprintf("driver = \"postgres\"\ndsn = %q", db)
	}
	text := fmt.Sprintf("[agi]\nlisten = \"127.0.0.1:0\"\n%s\n[web]\nlisten = \"\"\n[log]\nformat = \"json\"\nlevel = \"debug\" # the tests follow the steps of calls, logged at debug (log.steps)\n[democrm]\nenabled = false\n"+
		"[sounds]\ndir = \"\"\n[store]\n%s\n[crm]\nbase_url = %q\n%s", agiExtra, storeKeys, crmURL, extra)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
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
	write := func(extra string) { writeConfig(t, path, filepath.Join(dir, "idv.db"), crm.URL, "", extra) }
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

// TestSIGKILLLosesNoRoutedCall kills idv with SIGKILL while calls run: every call whose
// route reached Asterisk has its record, with that route. (SQLite in WAL mode with
// synchronous=NORMAL: a committed transaction survives the process; the record is
// committed before the route is sent.)
func TestSIGKILLLosesNoRoutedCall(t *testing.T) {
	p, db := startTestProcess(t, "", "[security]\nverify_lockout_failures = 0\nidentify_per_ani = 0\n")
	results := killMidLoad(t, p, "")
	st, err := store.Open(context.Background(), store.SQLite, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkRouted(t, st, results)
}

// killMidLoad places calls from 8 callers at once on p and kills it with SIGKILL after
// 200 were routed; it returns every call's result. With fallback set, a caller whose
// call cannot reach p calls fallback instead, as the dialplan's next AGI target does.
func killMidLoad(t *testing.T, p *process, fallback string) []*agitest.Result {
	t.Helper()
	addr := p.await(t, "idv serving FastAGI")["listen"].(string)
	go func() { // keep the log pipe drained
		for range p.lines {
		}
	}()

	var mu sync.Mutex
	var results []*agitest.Result
	routed := make(chan struct{}, 10000)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := agitest.Caller{ANI: "+81312345679", Timeout: 10 * time.Second}.Call(context.Background(), addr)
				if res == nil && fallback != "" {
					res, err = agitest.Caller{ANI: "+81312345679", Timeout: 10 * time.Second}.Call(context.Background(), fallback)
					if err != nil {
						t.Errorf("the fallback instance did not take the call: %v", err)
					}
					mu.Lock()
					results = append(results, res)
					mu.Unlock()
					return
				}
				if res != nil {
					mu.Lock()
					results = append(results, res)
					mu.Unlock()
					if len(res.Apps) > 0 {
						routed <- struct{}{}
					}
				}
				if err != nil && res == nil {
					return // idv is gone
				}
			}
		}()
	}
	for range 200 {
		<-routed
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	close(stop)
	wg.Wait()
	return results
}

// checkRouted: every call whose route reached Asterisk has its record with that route.
func checkRouted(t *testing.T, st *store.Store, results []*agitest.Result) {
	t.Helper()
	checked := 0
	for _, res := range results {
		if len(res.Apps) == 0 {
			continue
		}
		id := res.Var("IDV_INTERACTION")
		in, err := st.Interaction(context.Background(), id)
		if err != nil || in.Route != "queue:support,,,,300" {
			t.Errorf("routed call %s: record %v, %v", id, in, err)
		}
		checked++
	}
	if checked < 200 {
		t.Errorf("only %d routed calls checked", checked)
	}
	t.Logf("%d calls placed, %d routed and all recorded after SIGKILL", len(results), checked)
}

// TestSIGTERMUnderLoad: SIGTERM while callers are in the flow. idv stops taking calls,
// waits agi.shutdown_timeout, hands the calls still in the flow to the dialplan fallback
// (AGISTATUS=FAILURE), records them, and exits 0.
func TestSIGTERMUnderLoad(t *testing.T) {
	p, db := startTestProcess(t, "shutdown_timeout = \"500ms\"", "")
	addr := p.await(t, "idv serving FastAGI")["listen"].(string)

	// Two callers who never type: they wait at the PIN prompt when idv is told to stop.
	results := make(chan *agitest.Result, 2)
	for range 2 {
		go func() {
			res, _ := agitest.Caller{ANI: "+81312345678", Keypad: make(chan rune)}.Call(context.Background(), addr)
			results <- res
		}()
	}
	for n := 0; n < 2; {
		if m := p.await(t, "prompt"); m["name"] == "idv/enter-secret" {
			n++
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.await(t, "idv stopped")
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
	st, err := store.Open(context.Background(), store.SQLite, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for range 2 {
		res := <-results
		if res == nil || res.AGIStatus != "FAILURE" {
			t.Fatalf("a cut call did not reach the fallback: %+v", res)
		}
		in, err := st.Interaction(context.Background(), res.Var("IDV_INTERACTION"))
		if err != nil || in.Reason != "BACKEND_UNAVAILABLE" || in.Ended.IsZero() {
			t.Errorf("cut call record %+v, %v", in, err)
		}
	}
}
