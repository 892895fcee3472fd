package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// childArg, first on the command line, makes this test binary a child server (see
// TestMain): the harness's tests need processes to start.
const childArg = "loadtest-test-child"

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == childArg {
		os.Exit(testChild(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// testChild plays a server: "listen ADDR" listens until SIGTERM, "fail" exits at once
// with a message, "hang" never listens, "serve-baseline ADDR FILE" is the baseline.
func testChild(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "listen":
		fmt.Println("listening on", args[1]) // before listening: in the log once the port answers
		ln, err := net.Listen("tcp", args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		<-ctx.Done()
		ln.Close()
		return 0
	case "fail":
		fmt.Fprintln(os.Stderr, "config.toml: agi.listen: missing")
		return 3
	case "hang":
		<-ctx.Done()
		return 0
	case "serve-baseline":
		if err := ListenAndServeBaseline(ctx, args[1], args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown test child", args)
	return 2
}

func testExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestStartChildReturnsAServingChildAndStopsItWithSIGTERM: the child gets a loopback
// address, its output goes to a log named after it, its memory and CPU can be read, and
// stop lets it end by itself (SIGTERM, so idv drains) instead of killing it.
func TestStartChildReturnsAServingChildAndStopsItWithSIGTERM(t *testing.T) {
	dir := t.TempDir()
	c, err := startChild(context.Background(), dir, "test server", runOn{}, testExecutable(t), func(addr string) ([]string, error) {
		return []string{childArg, "listen", addr}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(c.addr); host != "127.0.0.1" {
		t.Errorf("child address %s: want 127.0.0.1", c.addr)
	}
	if rss, err := c.rss(); err != nil || rss <= 0 {
		t.Errorf("rss: %d, %v", rss, err)
	}
	if _, err := c.cpu(); err != nil {
		t.Errorf("cpu: %v", err)
	}
	log, err := os.ReadFile(filepath.Join(dir, "test-server.log"))
	if err != nil || !strings.Contains(string(log), "listening on "+c.addr) {
		t.Errorf("log: %q, %v", log, err)
	}
	c.stop()
	if !c.cmd.ProcessState.Success() {
		t.Errorf("the child did not end by itself on SIGTERM: %v", c.cmd.ProcessState)
	}
}

// TestStartChildReportsAChildThatExitsBeforeServing: the error says which child and
// where its log is, and the log holds what it said.
func TestStartChildReportsAChildThatExitsBeforeServing(t *testing.T) {
	dir := t.TempDir()
	_, err := startChild(context.Background(), dir, "idv serve", runOn{}, testExecutable(t), func(string) ([]string, error) {
		return []string{childArg, "fail"}, nil
	})
	logPath := filepath.Join(dir, "idv-serve.log")
	if err == nil || !strings.Contains(err.Error(), "idv serve exited before serving") || !strings.Contains(err.Error(), logPath) {
		t.Fatalf("err = %v, want idv serve exited before serving, with %s", err, logPath)
	}
	if log, _ := os.ReadFile(logPath); !strings.Contains(string(log), "agi.listen: missing") {
		t.Errorf("log: %q", log)
	}
}

// TestStartChildGivesUpWhenTheRunIsCancelled: an interrupted load test does not wait
// the 30 s for a child that never listens.
func TestStartChildGivesUpWhenTheRunIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := startChild(ctx, t.TempDir(), "hang", runOn{}, testExecutable(t), func(string) ([]string, error) {
		return []string{childArg, "hang"}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestStartChildPassesOnItsArgumentsError: the idv serve child's arguments include a
// config file written first; when writing fails, nothing is started.
func TestStartChildPassesOnItsArgumentsError(t *testing.T) {
	_, err := startChild(context.Background(), t.TempDir(), "idv serve", runOn{}, testExecutable(t), func(addr string) ([]string, error) {
		return nil, fmt.Errorf("config for %s: disk full", addr)
	})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v", err)
	}
}

// TestStartChildUnderAFileLimit: with runOn.NoFile the child runs under that open-file
// limit, soft and hard (prlimit executes it: the process measured is the child's own).
func TestStartChildUnderAFileLimit(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("no prlimit here")
	}
	c, err := startChild(context.Background(), t.TempDir(), "test server", runOn{NoFile: 777}, testExecutable(t), func(addr string) ([]string, error) {
		return []string{childArg, "listen", addr}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", c.cmd.Process.Pid))
	if err != nil {
		t.Skip("no /proc here")
	}
	for _, l := range strings.Split(string(limits), "\n") {
		if strings.HasPrefix(l, "Max open files") {
			if f := strings.Fields(l); len(f) < 5 || f[3] != "777" || f[4] != "777" {
				t.Errorf("child's limit: %q, want 777 777", l)
			}
			return
		}
	}
	t.Errorf("no open-file limit in %s", limits)
}
