package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idv-project/idv/loadtest"
)

// The load run: 600 calls at 20 calls/s through Asterisk, keys as SIP INFO, agents
// answering: 594 callers found by number who type their PIN and go to self-service, and
// 6 who type a customer number and are queued to an agent (at 1 call/s from the start:
// three agents take them in two rounds while the others arrive). The same calls then run
// against a bare zaf/agi server that replays the command lines idv sent (captured here
// from real calls), so that idv's CPU per call, ARI included, compares with the floor
// measured in the same run. Correctness is asserted; the figures are printed (and written
// to $IDV_E2E_REPORT when set), never asserted: they depend on the machine.
const (
	loadVerified = 594
	loadQueued   = 6
	loadRate     = 20.0 // calls per second, over both
	queuedRate   = 1.0  // calls per second of the queued ones
)

func TestLoadThroughAsterisk(t *testing.T) {
	e := need(t)
	verified := caller(t, "0312345678", pause(afterWelcome), keys("1234#"), awaitBye())
	queuedCall := caller(t, "anonymous", pause(afterWelcome), keys("42#"), awaitBye())

	// idv's command lines for one call of each kind, captured on the way to Asterisk.
	seqs := e.capture(t, func() {
		var wg sync.WaitGroup
		for _, c := range []struct{ xml, exten string }{{verified, "1000"}, {queuedCall, "2000"}} {
			wg.Add(1)
			go func() { defer wg.Done(); e.placeAsync(c.xml, c.exten, 1, 1) }()
		}
		wg.Wait()
	})
	for _, script := range []string{"idv?line=retail", "idv?line=default"} {
		if len(seqs[script]) < 5 {
			t.Fatalf("captured %d command lines for %s: %v", len(seqs[script]), script, seqs)
		}
	}
	seqFile := filepath.Join(t.TempDir(), "sequences.json")
	if err := seqs.Save(seqFile); err != nil {
		t.Fatal(err)
	}

	idvRun := e.loadRun(t, "idv", e.idv, verified, queuedCall)
	// Every call recorded with its expected outcome.
	for _, c := range idvRun.calls {
		want := "VERIFIED"
		if c.Vars["IDV_LINE"] == "default" {
			want = "IDENTIFIED"
		}
		if c.Vars["IDV_STATUS"] != want || c.Vars["AGISTATUS"] != "SUCCESS" {
			t.Errorf("%s ended %v, want IDV_STATUS=%s", c.Channel, c.Vars, want)
			continue
		}
		done := func(r record) bool { return true }
		if want == "IDENTIFIED" {
			done = queued
		}
		if r := e.record(t, e.webAddr, c, done); r.Status != want || (want == "IDENTIFIED" && r.QueueResult != "answered") {
			t.Errorf("record %+v, want %s", r, want)
		}
	}
	if t.Failed() {
		return
	}

	baseAddr := fmt.Sprintf("127.0.0.1:%d", freeTCP())
	base, err := e.spawn("baseline", filepath.Join(t.TempDir(), "baseline.log"), nil, e.idvBin, "loadtest", "-serve-baseline", baseAddr, "-sequences", seqFile)
	if err != nil {
		t.Fatal(err)
	}
	defer base.stop()
	if err := waitTCP(baseAddr); err != nil {
		t.Fatal(err)
	}
	e.pointIDV(t, baseAddr)
	baseRun := e.loadRun(t, "baseline", base, verified, queuedCall)
	e.pointIDV(t, e.agiAddr)

	n := float64(loadVerified + loadQueued)
	perCall := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	report := fmt.Sprintf(`Load through Asterisk 22: %d calls at %.0f calls/s (%d verified by number + PIN, %d typed identifier + queued to an agent), SIP INFO keys
CPU per call (ms)        idv run   bare zaf/agi run
  FastAGI server         %7.2f   %7.2f     idv / bare = %.2f× (ARI observation included)
  Asterisk               %7.2f   %7.2f     idv = %.1f %% of Asterisk's CPU for the same calls
  idv connected to ARI             %7.2f     while the bare server took the calls: ARI cost of calls idv does not handle
wall time                %6.0fs   %6.0fs
`, int(n), loadRate, loadVerified, loadQueued,
		perCall(idvRun.serverCPU), perCall(baseRun.serverCPU), float64(idvRun.serverCPU)/float64(max(baseRun.serverCPU, 1)),
		perCall(idvRun.asteriskCPU), perCall(baseRun.asteriskCPU), 100*float64(idvRun.serverCPU)/float64(max(idvRun.asteriskCPU, 1)),
		perCall(baseRun.idvCPU),
		idvRun.wall.Seconds(), baseRun.wall.Seconds())
	t.Log("\n" + report)
	if path := os.Getenv("IDV_E2E_REPORT"); path != "" {
		os.WriteFile(path, []byte(report), 0o644)
	}
}

type loadResult struct {
	calls                  []ended
	serverCPU, asteriskCPU time.Duration
	idvCPU                 time.Duration // idv's, whichever server took the calls
	wall                   time.Duration
}

// loadRun places the load mix and measures the CPU the server process and Asterisk used.
func (e *environment) loadRun(t *testing.T, name string, server *proc, verified, queuedCall string) loadResult {
	t.Helper()
	s0, err := loadtest.ProcessCPU(server.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	a0, _ := loadtest.ProcessCPU(e.ast.cmd.Process.Pid)
	i0, _ := loadtest.ProcessCPU(e.idv.cmd.Process.Pid)
	begin := time.Now()
	var wg sync.WaitGroup
	tags := make([]string, 2)
	errs := make([]error, 2)
	for i, c := range []struct {
		xml, exten string
		n          int
	}{{verified, "1000", loadVerified}, {queuedCall, "2000", loadQueued}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rate := loadRate - queuedRate
			if c.exten == "2000" {
				rate = queuedRate
			}
			tags[i], errs[i] = e.placeAsync(c.xml, c.exten, c.n, rate)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("%s run: %v", name, err)
		}
	}
	calls := append(e.hangups(t, tags[0], loadVerified), e.hangups(t, tags[1], loadQueued)...)
	wall := time.Since(begin)
	s1, _ := loadtest.ProcessCPU(server.cmd.Process.Pid)
	a1, _ := loadtest.ProcessCPU(e.ast.cmd.Process.Pid)
	i1, _ := loadtest.ProcessCPU(e.idv.cmd.Process.Pid)
	return loadResult{calls: calls, serverCPU: s1 - s0, asteriskCPU: a1 - a0, idvCPU: i1 - i0, wall: wall}
}

// placeAsync runs a SIPp caller scenario n times at rate calls/s (rounded to calls per
// 5 s) and returns the Call-ID tag of its calls; an error when sipp fails or any call
// fails.
func (e *environment) placeAsync(scenario, exten string, n int, rate float64) (string, error) {
	tag := fmt.Sprintf("e2e%d", runs.Add(1))
	dir, err := os.MkdirTemp(e.dir, "sipp-")
	if err != nil {
		return "", err
	}
	p, err := e.spawn("sipp "+tag, filepath.Join(dir, "sipp.log"), nil, "sipp", e.sipAddr(), "-sf", scenario, "-s", exten,
		"-m", strconv.Itoa(n), "-r", strconv.Itoa(max(1, int(rate*5+0.5))), "-rp", "5000", "-l", strconv.Itoa(n),
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDP()), "-mp", strconv.Itoa(nextMediaPort()),
		"-cid_str", tag+"-%u-%p@%s", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	if err != nil {
		return "", err
	}
	select {
	case <-p.done:
	case <-time.After(3 * patience):
		p.stop()
		return "", fmt.Errorf("sipp %s never finished", tag)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		return "", fmt.Errorf("sipp %s exited %d (failed calls):\n%s\n%s", tag, code, tail(p.log, 20), lastLines(string(errs), 20))
	}
	return tag, nil
}

// pointIDV points the dialplan's IDV at addr.
func (e *environment) pointIDV(t *testing.T, addr string) {
	t.Helper()
	if out, err := e.ast.cli("dialplan set global IDV " + addr); err != nil {
		t.Fatal(out, err)
	}
}

// capture runs calls with the dialplan's IDV pointed at a relay to idv that keeps the
// command lines idv sends, by AGI script (agi_network_script).
func (e *environment) capture(t *testing.T, calls func()) loadtest.Sequences {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seqs := loadtest.Sequences{}
	var relays sync.WaitGroup
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			relays.Add(1)
			go func() {
				defer relays.Done()
				script, lines := relay(conn, e.agiAddr)
				mu.Lock()
				if _, seen := seqs[script]; !seen && script != "" {
					seqs[script] = lines
				}
				mu.Unlock()
			}()
		}
	}()
	e.pointIDV(t, ln.Addr().String())
	calls()
	e.pointIDV(t, e.agiAddr)
	ln.Close()
	relays.Wait()
	return seqs
}

// relay copies one FastAGI connection from Asterisk to idv and back, and returns the
// script Asterisk asked for and the lines idv sent.
func relay(asterisk net.Conn, idv string) (string, []string) {
	defer asterisk.Close()
	up, err := net.Dial("tcp", idv)
	if err != nil {
		return "", nil
	}
	defer up.Close()
	var script string
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(asterisk)
		for {
			line, err := r.ReadString('\n')
			if s, ok := strings.CutPrefix(line, "agi_network_script: "); ok && script == "" {
				script = strings.TrimSpace(s)
			}
			if line != "" {
				if _, werr := up.Write([]byte(line)); werr != nil {
					return
				}
			}
			if err != nil {
				up.(*net.TCPConn).CloseWrite()
				return
			}
		}
	}()
	var lines []string
	r := bufio.NewReader(up)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			lines = append(lines, strings.TrimRight(line, "\n"))
			asterisk.Write([]byte(line))
		}
		if err != nil {
			break
		}
	}
	asterisk.Close()
	<-done
	return script, lines
}

func waitTCP(addr string) error {
	deadline := time.Now().Add(patience)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond) // polling a server that is starting
	}
}
