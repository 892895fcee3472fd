package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idv-project/idv/agi/agitest"
)

// Options describe one load run.
type Options struct {
	// Target is the FastAGI server, host:port on loopback (the tool refuses others).
	Target string
	// Script is the AGI script of every call, e.g. "idv" or "idv?line=retail"; when
	// ScriptFor is set it names the script per scenario instead.
	Script    string
	ScriptFor func(Scenario) string
	Mix       []Scenario
	// Concurrency is the number of calls in progress at once.
	Concurrency int
	// Calls caps the number of calls (0: no cap); Duration caps the run: calls still in
	// progress then are cut and counted as cut, not as errors (0: no cap). One of the two
	// must be set.
	Calls    int
	Duration time.Duration
	// RampUp spreads the start of the Concurrency callers over this time.
	RampUp time.Duration
	// PromptTime, KeyTime and QueueTime simulate playback, typing and time in the queue
	// (see agitest.Caller); zero for a throughput run.
	PromptTime, KeyTime, QueueTime time.Duration
	// CallTimeout bounds one call (default 2 minutes).
	CallTimeout time.Duration
	// Memory, when set, reads the server's resident memory in bytes; CPU its CPU time
	// used so far (user and system).
	Memory func() (int64, error)
	CPU    func() (time.Duration, error)
	// Progress, when set, receives a progress bar; TTY redraws it in place.
	Progress io.Writer
	TTY      bool
}

// Percentiles summarise durations.
type Percentiles struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return Percentiles{N: len(d), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: d[len(d)-1]}
}

// Summary is what a run measured.
type Summary struct {
	// Calls were started; Completed ended as their scenario expects.
	Calls, Completed int
	// Errors counts failed calls by kind: connect, timeout, protocol, agi_failure,
	// unexpected_outcome. Cut counts calls stopped by the Duration cap.
	Errors map[string]int
	// FirstError is the first failure's text of each kind that comes with one (connect,
	// timeout, protocol), so that a failed run says what went wrong.
	FirstError map[string]string
	Cut        int
	Elapsed    time.Duration
	// Command is the server's time per AGI command (from Asterisk's write to the next
	// command's arrival); Flow is a whole call, dial to close.
	Command, Flow Percentiles
	// CommandIdle are the commands that wait on nothing in idv (prompts, keys,
	// variables); CommandBackend those that may wait on the CRM or the store: the
	// command after the first prompt (the number lookup), after an entry ended with '#'
	// (identifier lookup, secret check, the guard), and the route (the record is written
	// before it). Command holds both.
	CommandIdle, CommandBackend Percentiles
	// PeakInFlight is the most calls in progress at once.
	PeakInFlight int
	// MemIdle is the server's resident memory before the run, MemPeak at the sample with
	// the most calls in progress (MemAtInFlight of them). Zero when not measured.
	MemIdle, MemPeak int64
	MemAtInFlight    int
	// ServerCPU is the CPU time the server used during the run; zero when not measured.
	ServerCPU time.Duration
}

// CPUPerCall is the server's CPU time per call started; 0 when not measured.
func (s *Summary) CPUPerCall() time.Duration {
	if s.Calls == 0 {
		return 0
	}
	return s.ServerCPU / time.Duration(s.Calls)
}

// CallsPerSecond is completed calls over the run's time.
func (s *Summary) CallsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Completed) / s.Elapsed.Seconds()
}

// MemoryPerCall is the server's memory growth per call in progress, in bytes; 0 when
// not measured.
func (s *Summary) MemoryPerCall() float64 {
	if s.MemAtInFlight == 0 || s.MemPeak == 0 {
		return 0
	}
	return float64(s.MemPeak-s.MemIdle) / float64(s.MemAtInFlight)
}

// ErrorCount is the number of failed calls.
func (s *Summary) ErrorCount() int {
	n := 0
	for _, v := range s.Errors {
		n += v
	}
	return n
}

// Print writes the summary for a person, under a title.
func (s *Summary) Print(w io.Writer, title string) {
	fmt.Fprintf(w, "%s\n", title)
	fmt.Fprintf(w, "  calls      %d started, %d completed, %d failed, %d cut at the time cap, in %s\n",
		s.Calls, s.Completed, s.ErrorCount(), s.Cut, s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  rate       %.0f completed calls/s, peak %d in progress\n", s.CallsPerSecond(), s.PeakInFlight)
	if n := s.ErrorCount(); n > 0 {
		kinds := make([]string, 0, len(s.Errors))
		for k, v := range s.Errors {
			if first := s.FirstError[k]; first != "" {
				kinds = append(kinds, fmt.Sprintf("%s=%d (first: %s)", k, v, first))
				continue
			}
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, v))
		}
		slices.Sort(kinds)
		fmt.Fprintf(w, "  errors     %s\n", strings.Join(kinds, " "))
	}
	p := func(name string, q Percentiles) {
		fmt.Fprintf(w, "  %-10s p50 %s  p95 %s  p99 %s  max %s  (n=%d)\n", name, us(q.P50), us(q.P95), us(q.P99), us(q.Max), q.N)
	}
	p("AGI cmd", s.Command)
	p(" no wait", s.CommandIdle)
	p(" back end", s.CommandBackend)
	p("flow", s.Flow)
	if c := s.CPUPerCall(); c > 0 {
		fmt.Fprintf(w, "  server CPU %s per call: one core alone would serve %.0f calls/s; it used %.2f cores, %.0f flows/s per core used\n",
			us(c), float64(time.Second)/float64(c), s.ServerCPU.Seconds()/s.Elapsed.Seconds(), float64(s.Completed)/s.ServerCPU.Seconds())
	}
	if s.MemPeak > 0 {
		fmt.Fprintf(w, "  memory     %.1f MiB idle, %.1f MiB with %d calls in progress: %.1f KiB per call\n",
			float64(s.MemIdle)/(1<<20), float64(s.MemPeak)/(1<<20), s.MemAtInFlight, s.MemoryPerCall()/1024)
	}
}

// PrintRatios compares this run of idv with the baseline's run of the same calls.
func (idv *Summary) PrintRatios(w io.Writer, base *Summary) {
	idv.PrintAgainst(w, "baseline", base)
}

// PrintAgainst compares this run of idv with another server's run of the same calls,
// named name (the bare baseline, the fair floor).
func (idv *Summary) PrintAgainst(w io.Writer, name string, base *Summary) {
	r := func(a, b time.Duration) string {
		if b <= 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f", float64(a)/float64(b))
	}
	fmt.Fprintf(w, "idv / %s (same calls, same run)\n", name)
	if b, i := base.CPUPerCall(), idv.CPUPerCall(); b > 0 && i > 0 {
		fmt.Fprintf(w, "  server CPU / call  %.2f  (%s %s, idv %s)\n", float64(i)/float64(b), name, us(b), us(i))
	}
	if b := base.CallsPerSecond(); b > 0 && idv.CallsPerSecond() > 0 {
		fmt.Fprintf(w, "  calls/s            %.2f  (%s %.0f/s, idv %.0f/s; time per call ratio %.2f)\n",
			idv.CallsPerSecond()/b, name, b, idv.CallsPerSecond(), b/idv.CallsPerSecond())
	}
	fmt.Fprintf(w, "  flow p50 / p99     %s / %s\n", r(idv.Flow.P50, base.Flow.P50), r(idv.Flow.P99, base.Flow.P99))
	fmt.Fprintf(w, "  AGI cmd p50 / p99  %s / %s  (added by idv at p99: %s)\n", r(idv.Command.P50, base.Command.P50),
		r(idv.Command.P99, base.Command.P99), us(idv.Command.P99-base.Command.P99))
	fmt.Fprintf(w, "  no-wait cmd p99    %s  (%s %s, idv %s); back-end cmd p99 %s (%s %s, idv %s)\n",
		r(idv.CommandIdle.P99, base.CommandIdle.P99), name, us(base.CommandIdle.P99), us(idv.CommandIdle.P99),
		r(idv.CommandBackend.P99, base.CommandBackend.P99), name, us(base.CommandBackend.P99), us(idv.CommandBackend.P99))
	if base.MemoryPerCall() > 0 && idv.MemoryPerCall() > 0 {
		fmt.Fprintf(w, "  memory per call    %.2f  (%s %.1f KiB, idv %.1f KiB)\n", idv.MemoryPerCall()/base.MemoryPerCall(),
			name, base.MemoryPerCall()/1024, idv.MemoryPerCall()/1024)
	}
}

// us prints a duration in milliseconds with microsecond precision.
func us(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d.Microseconds())/1000) }

// Loopback says whether addr is a loopback address; the tool sends load nowhere else.
func Loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("target %q: %w", addr, err)
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return fmt.Errorf("target %q: %w", addr, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("target %q is not on loopback: load tests run only against this machine", addr)
		}
	}
	return nil
}

// worker is one caller slot's measurements, merged at the end.
type worker struct {
	commands, flows []time.Duration
	idle, backend   []time.Duration
	errors          map[string]int
	first           map[string]string
	completed, cut  int
	backoff         time.Duration
}

// Run plays the load and returns what it measured. It returns an error only when the
// run cannot start; failed calls are counted in the summary.
func Run(ctx context.Context, o Options) (*Summary, error) {
	if err := Loopback(o.Target); err != nil {
		return nil, err
	}
	if o.Concurrency < 1 {
		return nil, errors.New("concurrency must be at least 1")
	}
	if o.Calls <= 0 && o.Duration <= 0 {
		return nil, errors.New("set a cap: a number of calls or a duration")
	}
	if len(o.Mix) == 0 || total(o.Mix) == 0 {
		o.Mix = DefaultMix
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 2 * time.Minute
	}
	s := &Summary{Errors: map[string]int{}, FirstError: map[string]string{}}
	if o.Memory != nil {
		s.MemIdle, _ = o.Memory()
	}
	var cpu0 time.Duration
	if o.CPU != nil {
		cpu0, _ = o.CPU()
	}
	runCtx := ctx
	if o.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	var started, done, failed, inFlight, peak atomic.Int64
	workers := make([]*worker, o.Concurrency)
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range workers {
		wk := &worker{errors: map[string]int{}, first: map[string]string{}}
		workers[i] = wk
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o.RampUp > 0 && i > 0 {
				t := time.NewTimer(o.RampUp * time.Duration(i) / time.Duration(o.Concurrency))
				select {
				case <-t.C:
				case <-runCtx.Done():
					t.Stop()
					return
				}
			}
			for runCtx.Err() == nil {
				n := int(started.Add(1)) - 1
				if o.Calls > 0 && n >= o.Calls {
					started.Add(-1)
					return
				}
				sc := pick(o.Mix, n)
				script := o.Script
				if o.ScriptFor != nil {
					script = o.ScriptFor(sc)
				}
				prompts := 0
				c := agitest.Caller{Script: script, ANI: sc.ANI, Keys: sc.Keys, PromptTime: o.PromptTime, KeyTime: o.KeyTime,
					QueueTime: o.QueueTime, Timeout: o.CallTimeout,
					OnCommandAfter: func(line string, prev *agitest.Command, took time.Duration) {
						line = strings.TrimSpace(line) // zaf/agi's RawCommand (the baselines) sends a leading space
						wk.commands = append(wk.commands, took)
						if waitsOnBackend(line, prev, prompts) {
							wk.backend = append(wk.backend, took)
						} else {
							wk.idle = append(wk.idle, took)
						}
						if strings.HasPrefix(line, "STREAM FILE") {
							prompts++
						}
					}}
				// The peak is kept at every start, not sampled: a short run can begin
				// and end between two samples.
				for n, p := inFlight.Add(1), peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				t0 := time.Now()
				res, err := c.Call(runCtx, o.Target)
				took := time.Since(t0)
				inFlight.Add(-1)
				kind := ""
				switch {
				case runCtx.Err() != nil:
					// Ended at the time cap: its simulated delays were cut short, so its
					// outcome and timing say nothing.
					wk.cut++
					err = context.Canceled
				case err != nil:
					kind = errorKind(err)
					if _, seen := wk.first[kind]; !seen {
						wk.first[kind] = err.Error()
					}
				default:
					kind = sc.check(res)
				}
				if kind != "" {
					wk.errors[kind]++
					failed.Add(1)
				}
				if kind == "connect" {
					// A server that refuses calls must not turn the caller into a busy loop
					// (as Asterisk's own retries are paced by new calls arriving).
					wk.backoff = min(max(2*wk.backoff, 10*time.Millisecond), time.Second)
					t := time.NewTimer(wk.backoff)
					select {
					case <-t.C:
					case <-runCtx.Done():
						t.Stop()
					}
				} else {
					wk.backoff = 0
				}
				if kind == "" && err == nil {
					wk.completed++
					wk.flows = append(wk.flows, took)
				}
				done.Add(1)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastDraw := time.Time{}
	for running := true; running; {
		select {
		case <-finished:
			running = false
		case <-tick.C:
		}
		n := int(inFlight.Load())
		if o.Memory != nil && n > 0 && n >= s.MemAtInFlight {
			if m, err := o.Memory(); err == nil {
				s.MemPeak, s.MemAtInFlight = m, n
			}
		}
		if o.Progress != nil && (o.TTY || time.Since(lastDraw) >= 5*time.Second || !running) {
			lastDraw = time.Now()
			drawProgress(o, begin, int(done.Load()), int(failed.Load()), n, !running)
		}
	}
	s.Elapsed = time.Since(begin)
	s.PeakInFlight = int(peak.Load())
	if o.CPU != nil {
		if cpu, err := o.CPU(); err == nil {
			s.ServerCPU = cpu - cpu0
		}
	}
	var commands, flows, idle, backend []time.Duration
	for _, wk := range workers {
		commands = append(commands, wk.commands...)
		idle = append(idle, wk.idle...)
		backend = append(backend, wk.backend...)
		flows = append(flows, wk.flows...)
		s.Completed += wk.completed
		s.Cut += wk.cut
		for k, v := range wk.errors {
			s.Errors[k] += v
		}
		for k, v := range wk.first {
			if _, seen := s.FirstError[k]; !seen {
				s.FirstError[k] = v
			}
		}
	}
	s.Calls = int(started.Load())
	s.Command, s.Flow = percentiles(commands), percentiles(flows)
	s.CommandIdle, s.CommandBackend = percentiles(idle), percentiles(backend)
	return s, nil
}

// waitsOnBackend says whether idv may have done back-end work between the command
// before (prev) and this one (line): prompts is how many prompts were played before.
// After the first prompt idv looks the calling number up; after an entry ended with '#'
// it looks the identifier up or checks the secret (and asks the guard); before the route
// it writes the record.
func waitsOnBackend(line string, prev *agitest.Command, prompts int) bool {
	switch {
	case prev == nil:
		return false
	case strings.HasPrefix(line, "SET CONTEXT"), strings.HasPrefix(line, "EXEC"):
		return true
	case prompts == 1 && strings.HasPrefix(strings.TrimSpace(prev.Line), "STREAM FILE"):
		return true
	}
	r := strings.TrimPrefix(prev.Reply, "200 result=35")
	return r != prev.Reply && (r == "" || r[0] == ' ')
}

// errorKind names what went wrong with a call that did not finish.
func errorKind(err error) string {
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "dial":
		return "connect"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "protocol"
	}
}

// drawProgress writes one line: a bar over the call or time cap, counts and rate.
func drawProgress(o Options, begin time.Time, done, failed, inFlight int, last bool) {
	elapsed := time.Since(begin)
	frac := 0.0
	if o.Calls > 0 {
		frac = float64(done) / float64(o.Calls)
	}
	if o.Duration > 0 {
		frac = max(frac, elapsed.Seconds()/o.Duration.Seconds())
	}
	frac = min(frac, 1)
	const width = 30
	bar := strings.Repeat("#", int(frac*width)) + strings.Repeat(".", width-int(frac*width))
	line := fmt.Sprintf("[%s] %3.0f%%  %d calls  %.0f/s  %d in progress  %d failed  %s",
		bar, frac*100, done, float64(done)/max(elapsed.Seconds(), 0.001), inFlight, failed, elapsed.Round(time.Second))
	switch {
	case o.TTY && last:
		fmt.Fprintf(o.Progress, "\r%s\n", line)
	case o.TTY:
		fmt.Fprintf(o.Progress, "\r%s", line)
	default:
		fmt.Fprintln(o.Progress, line)
	}
}
