package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/idv-project/idv/loadtest"
)

func loadtestCmd(args []string) error { return loadtestTo(os.Stdout, os.Stderr, args) }

// loadtestTo runs a load and prints its summary to out and its progress to progress.
func loadtestTo(out, progress io.Writer, args []string) error {
	fs := newFlagSet("loadtest", "[flags]", `Acts as many Asterisk instances at once against idv's FastAGI port and prints calls/s,
errors by kind, percentiles of the server's time per AGI command and per flow, and the
server's memory per call in progress. Without -target it starts its own idv serve (demo
CRM, SQLite in a temporary directory); with -baseline it also runs the same calls
against a bare zaf/agi server sending the same commands, and prints the ratios.
Traffic goes only to loopback. Examples:
  idv loadtest                               # 5,000 calls, 50 at once, at most 60 s
  idv loadtest -baseline -c 200 -n 50000
  idv loadtest -realistic -c 2000 -d 2m      # hold 2,000 calls with real prompt and typing times
  idv loadtest -target 127.0.0.1:4573 -metrics http://127.0.0.1:8080/metrics`)
	target := fs.String("target", "", "FastAGI address of a running idv serve (default: start one)")
	metricsURL := fs.String("metrics", "", "with -target: idv's /metrics URL, to read its memory")
	conc := fs.Int("c", 50, "calls in progress at once")
	calls := fs.Int("n", 5000, "stop after this many calls (0: only the time cap)")
	dur := fs.Duration("d", 60*time.Second, "time cap: calls still in progress then are cut (0: only the call cap)")
	ramp := fs.Duration("ramp", 0, "spread the start of the -c callers over this time")
	mix := fs.String("mix", "", "scenario weights, e.g. ani-verified=50,opt-out=50; names: "+strings.Join(loadtest.Names(), ", "))
	line := fs.String("line", "", "service line (?line=)")
	prompt := fs.Duration("prompt", 0, "simulated playback time of a prompt")
	key := fs.Duration("key", 0, "simulated time the caller takes per key")
	queue := fs.Duration("queue", 0, "simulated time in the agent queue")
	realistic := fs.Bool("realistic", false, "shorthand for -prompt 3s -key 400ms -queue 20s (a concurrency run)")
	baseline := fs.Bool("baseline", false, "also run the same calls against a bare zaf/agi server and print idv/baseline")
	cpuprofile := fs.String("cpuprofile", "", "write the started idv serve's CPU profile to this file")
	serveBaseline := fs.String("serve-baseline", "", "internal: serve the baseline on this address")
	sequences := fs.String("sequences", "", "internal: with -serve-baseline, the command sequences file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *serveBaseline != "" {
		return runBaselineServer(*serveBaseline, *sequences)
	}
	scenarios, err := loadtest.ParseMix(*mix)
	if err != nil {
		return err
	}
	if *realistic {
		*prompt, *key, *queue = 3*time.Second, 400*time.Millisecond, 20*time.Second
	}
	if limit := raiseFileLimit(*conc); limit < uint64(*conc)+200 {
		fmt.Fprintf(out, "warning: the open-file limit is %d (not raised: needs root or CAP_SYS_RESOURCE); each call in progress is a socket in idv and here, so expect connect errors above about %d calls at once\n", limit, limit-200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	script := "idv"
	if *line != "" {
		script += "?line=" + *line
	}
	opts := loadtest.Options{Target: *target, Script: script, Mix: scenarios, Concurrency: *conc, Calls: *calls, Duration: *dur,
		RampUp: *ramp, PromptTime: *prompt, KeyTime: *key, QueueTime: *queue, Progress: progress}
	if f, ok := progress.(*os.File); ok {
		opts.TTY = term.IsTerminal(int(f.Fd()))
	}
	dir, err := os.MkdirTemp("", "idv-loadtest")
	if err != nil {
		return err
	}
	keep := false // the server's log and database stay for a look when calls failed
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	if *target == "" {
		// The demo CRM runs as a process of its own, so that the server's CPU and memory
		// are idv's alone, as they are with a company CRM elsewhere.
		crm, err := startChild(ctx, dir, "democrm", func(port string) ([]string, error) {
			return []string{"democrm", "-listen", "127.0.0.1:" + port}, nil
		})
		if err != nil {
			return err
		}
		defer crm.stop()
		srv, err := startChild(ctx, dir, "idv serve", func(port string) ([]string, error) {
			config, err := childConfig(dir, port, crm.addr)
			args := []string{"serve", "-config", config}
			if *cpuprofile != "" {
				args = append(args, "-cpuprofile", *cpuprofile)
			}
			return args, err
		})
		if err != nil {
			return err
		}
		defer srv.stop()
		opts.Target, opts.Memory, opts.CPU = srv.addr, srv.rss, srv.cpu
		fmt.Fprintf(out, "started idv serve on %s (SQLite and log in %s) and the demo CRM on %s\n", srv.addr, dir, crm.addr)
	} else if *metricsURL != "" {
		opts.Memory = metricsRSS(*metricsURL)
	}
	if err := loadtest.Loopback(opts.Target); err != nil {
		return err
	}
	// One call of each scenario warms the server up and records the commands it sends.
	seqs, err := loadtest.Capture(ctx, opts.Target, script, scenarios)
	if err != nil {
		return fmt.Errorf("warm-up call against %s: %w", opts.Target, err)
	}
	fmt.Fprintf(out, "mix %s; %d at once; cap %d calls / %s; prompt %s, key %s, queue %s\n",
		mixString(scenarios), *conc, *calls, *dur, *prompt, *key, *queue)

	var base *loadtest.Summary
	if *baseline {
		file := filepath.Join(dir, "sequences.json")
		if err := seqs.Save(file); err != nil {
			return err
		}
		bsrv, err := startChild(ctx, dir, "baseline", func(port string) ([]string, error) {
			return []string{"loadtest", "-serve-baseline", "127.0.0.1:" + port, "-sequences", file}, nil
		})
		if err != nil {
			return err
		}
		bopts := opts
		bopts.Target, bopts.Memory, bopts.CPU, bopts.ScriptFor = bsrv.addr, bsrv.rss, bsrv.cpu, loadtest.BaselineScript
		fmt.Fprintln(progress, "baseline (zaf/agi, same commands, no flow, CRM or store):")
		base, err = loadtest.Run(ctx, bopts)
		bsrv.stop()
		if err != nil {
			return err
		}
		base.Print(out, "baseline: bare zaf/agi server, same command sequences")
	}
	fmt.Fprintln(progress, "idv:")
	sum, err := loadtest.Run(ctx, opts)
	if err != nil {
		return err
	}
	sum.Print(out, "idv")
	if sum.ErrorCount() > 0 && *target == "" {
		keep = true
		fmt.Fprintf(out, "  the server's log and database are kept in %s\n", dir)
	}
	if base != nil {
		sum.PrintRatios(out, base)
	}
	if sum.Completed == 0 {
		return errors.New("no call completed")
	}
	return nil
}

func mixString(mix []loadtest.Scenario) string {
	parts := make([]string, len(mix))
	for i, sc := range mix {
		parts[i] = fmt.Sprintf("%s=%d", sc.Name, sc.Weight)
	}
	return strings.Join(parts, ",")
}

// child is a server process the load test started.
type child struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error
}

// startChild starts this binary with args(port) on a free loopback port and waits until
// the port accepts connections.
func startChild(ctx context.Context, dir, name string, args func(port string) ([]string, error)) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	argv, err := args(port)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, argv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, addr: "127.0.0.1:" + port, exited: make(chan error, 1)}
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
func (c *child) rss() (int64, error) { return loadtest.ProcessRSS(c.cmd.Process.Pid) }

// cpu reads the child's CPU time (user and system) from /proc.
func (c *child) cpu() (time.Duration, error) { return loadtest.ProcessCPU(c.cmd.Process.Pid) }

// metricsRSS reads process_resident_memory_bytes from a Prometheus endpoint.
func metricsRSS(url string) func() (int64, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	return func() (int64, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
				f, err := strconv.ParseFloat(v, 64)
				return int64(f), err
			}
		}
		return 0, errors.New("no process_resident_memory_bytes in " + url)
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// childConfig writes the configuration of the idv serve the load test starts: FastAGI
// on port, the demo CRM at crmAddr, SQLite in dir, JSON logs, no web server, and lockout and
// throttling limits out of reach (the mix replays the same few demo callers; the guard
// still runs its queries on every call).
func childConfig(dir, port, crmAddr string) (string, error) {
	text := fmt.Sprintf(`[agi]
listen = "127.0.0.1:%s"
[log]
format = "json"
[store]
path = %q
[democrm]
enabled = false
[crm]
base_url = "http://%s"
[sounds]
dir = ""
[web]
listen = ""
`, port, filepath.Join(dir, "idv.db"), crmAddr) + loadSecurity
	path := filepath.Join(dir, "config.toml")
	return path, os.WriteFile(path, []byte(text), 0o600)
}

// loadSecurity keeps lockout and throttling out of reach of a load run, whose callers
// are the same few demo customers again and again; the guard's queries still run.
const loadSecurity = `[security]
verify_lockout_failures = 1000000000
identify_per_ani = 1000000000
`

// runBaselineServer is the child process of -baseline.
func runBaselineServer(addr, file string) error {
	seqs, err := loadtest.LoadSequences(file)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
		<-ch
		ln.Close()
	}()
	return loadtest.ServeBaseline(ln, seqs)
}

// raiseFileLimit lifts the open-file limit for this process and the servers it starts
// (each call in progress is a socket on both sides) and returns the limit now in force.
func raiseFileLimit(conc int) uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	want := uint64(conc) + 1024
	if lim.Max < want && syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}) == nil {
		return want
	}
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}
