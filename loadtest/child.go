package loadtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// child is a server process the load test started: idv serve, the demo CRM or the
// baseline server.
type child struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error
}

// runOn says how a child runs: pinned to CPUs (taskset's list, "" for any) and under an
// open-file limit (RLIMIT_NOFILE, soft and hard; 0 for this process's).
type runOn struct {
	CPUs   string
	NoFile int
}

// startChild starts exe with args(addr) on a free loopback address, its output in
// dir/NAME.log, and waits until the address accepts connections. With on.CPUs it runs
// pinned to those CPUs (taskset -c cpus, which executes exe in its own process); with
// on.NoFile under that open-file limit (prlimit --nofile, which executes it likewise).
func startChild(ctx context.Context, dir, name string, on runOn, exe string, args func(addr string) ([]string, error)) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	addr := "127.0.0.1:" + port
	argv, err := args(addr)
	if err != nil {
		return nil, err
	}
	if on.CPUs != "" {
		taskset, err := exec.LookPath("taskset")
		if err != nil {
			return nil, fmt.Errorf("pinning %s to CPUs %s: %w", name, on.CPUs, err)
		}
		argv = append([]string{"-c", on.CPUs, exe}, argv...)
		exe = taskset
	}
	if on.NoFile > 0 {
		prlimit, err := exec.LookPath("prlimit")
		if err != nil {
			return nil, fmt.Errorf("running %s with %d open files: %w", name, on.NoFile, err)
		}
		argv = append([]string{fmt.Sprintf("--nofile=%d:%d", on.NoFile, on.NoFile), "--", exe}, argv...)
		exe = prlimit
	}
	cmd := exec.Command(exe, argv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, addr: addr, exited: make(chan error, 1)}
	go func() { c.exited <- cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", c.addr, time.Second)
		if err == nil {
			conn.Close()
			return c, nil
		}
		select {
		case err := <-c.exited:
			return nil, fmt.Errorf("%s exited before serving: %v (log: %s)", name, err, logf.Name())
		case <-ctx.Done():
			cmd.Process.Kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond): // polling a port that is not up yet
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return nil, fmt.Errorf("%s did not listen on %s within 30 s (log: %s)", name, c.addr, logf.Name())
		}
	}
}

// stop ends the child with SIGTERM (idv drains) and, after 10 s, SIGKILL.
func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// rss reads the child's resident memory from /proc.
func (c *child) rss() (int64, error) { return ProcessRSS(c.cmd.Process.Pid) }

// cpu reads the child's CPU time (user and system) from /proc.
func (c *child) cpu() (time.Duration, error) { return ProcessCPU(c.cmd.Process.Pid) }

// freePort is a loopback port free a moment ago, for a child to listen on.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}
