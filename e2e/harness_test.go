package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// env is what TestMain starts once for every test: Asterisk with the shipped
// configuration, the SIPp agent phones, the demo CRM and idv (ARI on), each a real
// process. nil when IDV_ASTERISK is not set.
var env *environment

// skipMessage says how to run the suite; printed when IDV_ASTERISK is not set.
// IDV_E2E_KEEP=1 keeps the processes' folder (logs, databases, Asterisk) for a look after;
// IDV_E2E_CPUPROFILE=FILE has idv write its CPU profile there.
const skipMessage = "real-Asterisk suite skipped: set IDV_ASTERISK to an Asterisk 22 tarball (e.g. IDV_ASTERISK=/path/asterisk-22.10.1-bookworm-amd64.tar.xz go test ./e2e/...); it needs sipp (apt-get install sip-tester) and asterisk-core-sounds-en-wav"

// patience bounds every wait for something the real processes do. Calls last seconds
// (real prompts play in real time); a wait this long means it is not going to happen.
// (The whole suite must end within go test's default 10 minutes.)
const patience = 90 * time.Second

func TestMain(m *testing.M) {
	tarball := os.Getenv("IDV_ASTERISK")
	if tarball == "" {
		fmt.Println(skipMessage)
		os.Exit(m.Run())
	}
	if _, err := os.Stat(tarball); err != nil && !filepath.IsAbs(tarball) {
		// go test runs this binary in e2e/: a path given relative to the module's root,
		// where the command was typed (IDV_ASTERISK=../shared/… go test ./e2e/...), is
		// one level up.
		tarball = filepath.Join("..", tarball)
	}
	e, err := start(tarball)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the environment:", err)
		if e != nil {
			e.printTails(os.Stderr)
			e.stop()
		}
		os.Exit(1)
	}
	env = e
	code := m.Run()
	if code != 0 {
		e.printTails(os.Stderr)
	}
	e.stop()
	os.Exit(code)
}

// need skips a test when the suite is not configured.
func need(t *testing.T) *environment {
	t.Helper()
	if env == nil {
		t.Skip(skipMessage)
	}
	return env
}

type environment struct {
	repo, dir string
	idvBin    string
	ast       *asteriskProc
	crm       *proc
	idv       *proc // instance A of the dialplan's IDV and IDV_B
	agents    *proc
	agentPort int
	// agentSIP is the agent phones' SIP messages (sipp -trace_msg): what their INVITEs
	// carried.
	agentSIP string
	crmAddr  string
	webAddr  string
	agiAddr  string

	mu    sync.Mutex
	procs []*proc
}

// proc is a process the suite started, with its output in a file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// kill ends the process at once, as a crash would.
func (p *proc) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func (e *environment) spawn(name, logPath string, extraEnv []string, bin string, args ...string) (*proc, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Dir = e.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); out.Close(); close(p.done) }()
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p, nil
}

func (e *environment) stop() {
	e.mu.Lock()
	procs := append([]*proc(nil), e.procs...)
	e.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		if e.ast == nil || procs[i] != e.ast.proc { // no Asterisk when the start failed early
			procs[i].stop()
		}
	}
	if e.ast != nil {
		e.ast.cli("core stop now")
		e.ast.proc.stop()
	}
	if os.Getenv("IDV_E2E_KEEP") != "" {
		fmt.Fprintln(os.Stderr, "e2e: kept", e.dir)
		return
	}
	os.RemoveAll(e.dir)
}

func (e *environment) printTails(w io.Writer) {
	if e.ast != nil {
		fmt.Fprintf(w, "---- Asterisk log (last 60 lines of %s)\n%s\n", e.ast.full, tail(e.ast.full, 60))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.procs {
		if p.name == "asterisk" {
			continue
		}
		fmt.Fprintf(w, "---- %s (last 30 lines of %s)\n%s\n", p.name, p.log, tail(p.log, 30))
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freeTCP and freeUDP return a loopback port nobody listens on now.
func freeTCP() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func freeUDP() int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// mediaPort hands each SIPp process its own RTP ports, above Asterisk's RTP range
// (5000-31000 without rtp.conf) and below the ephemeral ports the SIP sockets get.
var mediaPort atomic.Int32

func nextMediaPort() int { return 31000 + int(mediaPort.Add(10)) }

func start(tarball string) (*environment, error) {
	repo, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	if tarball, err = filepath.Abs(tarball); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("sipp"); err != nil {
		return nil, errors.New("sipp is not installed (apt-get install sip-tester)")
	}
	dir, err := os.MkdirTemp("", "idv-e2e-")
	if err != nil {
		return nil, err
	}
	e := &environment{repo: repo, dir: dir}
	e.idvBin = filepath.Join(dir, "idv")
	build := exec.Command("go", "build", "-o", e.idvBin, "./cmd/idv")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return e, fmt.Errorf("go build ./cmd/idv: %v\n%s", err, out)
	}
	// The demo CRM as its own process, so that a test can stop it.
	e.crmAddr = fmt.Sprintf("127.0.0.1:%d", freeTCP())
	if e.crm, err = e.spawn("democrm", filepath.Join(dir, "democrm.log"), nil, e.idvBin, "democrm", "-listen", e.crmAddr); err != nil {
		return e, err
	}
	if err := waitHTTP("http://" + e.crmAddr + "/customers/100234"); err != nil {
		return e, fmt.Errorf("demo CRM: %w", err)
	}
	e.agiAddr = fmt.Sprintf("127.0.0.1:%d", freeTCP())
	ariPort := freeTCP()
	e.ast, err = e.startAsterisk(tarball, ports{sip: freeUDP(), http: ariPort, idv: e.agiAddr, idvA: fmt.Sprintf("127.0.0.1:%d", freeTCP()), idvB: e.agiAddr})
	if err != nil {
		return e, err
	}
	e.webAddr = fmt.Sprintf("127.0.0.1:%d", freeTCP())
	if e.idv, err = e.startIDV("idv", e.agiAddr, e.webAddr, ariPort); err != nil {
		return e, err
	}
	if err := e.startAgents(agentTalk); err != nil {
		return e, err
	}
	return e, nil
}

func waitHTTP(url string) error {
	deadline := time.Now().Add(patience)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond) // polling a server that is starting
	}
}

// startIDV runs `idv serve` with the shipped config.toml, its addresses changed: FastAGI
// on agi, the web on web, the demo CRM process, ARI on Asterisk's ariPort (0: no ARI).
func (e *environment) startIDV(name, agi, web string, ariPort int) (*proc, error) {
	shipped, err := os.ReadFile(filepath.Join(e.repo, "config.toml"))
	if err != nil {
		return nil, err
	}
	cfg := string(shipped)
	ariURL, ready := `""`, "idv serving FastAGI"
	if ariPort != 0 {
		ariURL, ready = strconv.Quote(fmt.Sprintf("http://127.0.0.1:%d/ari", ariPort)), "ARI: observing queues"
	}
	for _, kv := range []struct{ section, key, value string }{
		{"agi", "listen", strconv.Quote(agi)},
		{"log", "format", `"json"`},
		{"store", "path", strconv.Quote(filepath.Join(e.dir, name+".db"))},
		{"democrm", "enabled", "false"},
		{"sounds", "dir", strconv.Quote(filepath.Join(e.repo, "sounds"))},
		{"web", "listen", strconv.Quote(web)},
		{"ari", "url", ariURL},
		{"ari", "user", `"idv"`},
		{"ari", "password", `"change-me-ari"`},
		{"crm", "base_url", strconv.Quote("http://" + e.crmAddr)},
	} {
		if cfg, err = setKey(cfg, kv.section, kv.key, kv.value); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(e.dir, name+".toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	args := []string{"serve", "-config", path}
	if prof := os.Getenv("IDV_E2E_CPUPROFILE"); prof != "" && name == "idv" {
		args = append(args, "-cpuprofile", prof) // written when the suite stops idv
	}
	p, err := e.spawn(name, filepath.Join(e.dir, name+".log"), nil, e.idvBin, args...)
	if err != nil {
		return nil, err
	}
	if _, err := awaitLog(p.log, patience, p.done, func(l string) bool { return strings.Contains(l, ready) }); err != nil {
		return p, fmt.Errorf("%s never logged %q: %w", name, ready, err)
	}
	return p, nil
}

// setKey sets key = value in [section] of a TOML text.
func setKey(text, section, key, value string) (string, error) {
	head := "\n[" + section + "]\n"
	i := strings.Index(text, head)
	if i < 0 {
		return "", fmt.Errorf("config.toml has no [%s]", section)
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + ` = [^#\n]*`)
	loc := re.FindStringIndex(text[i:])
	if loc == nil || (strings.Contains(text[i+len(head):i+loc[0]], "\n[")) {
		return "", fmt.Errorf("config.toml has no %s in [%s]", key, section)
	}
	return text[:i+loc[0]] + key + " = " + value + " " + text[i+loc[1]:], nil
}

// awaitLog reads a growing log file until a line matches, the process ends, or d passes.
func awaitLog(path string, d time.Duration, done <-chan struct{}, match func(string) bool) (string, error) {
	return awaitLogFrom(path, 0, d, done, match)
}

// logSize is where a log file ends now: awaitLogFrom it reads only what comes next.
func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// awaitLogFrom is awaitLog from a byte offset of the file.
func awaitLogFrom(path string, offset int64, d time.Duration, done <-chan struct{}, match func(string) bool) (string, error) {
	deadline := time.Now().Add(d)
	var partial string
	for {
		f, err := os.Open(path)
		if err == nil {
			f.Seek(offset, io.SeekStart)
			b, _ := io.ReadAll(f)
			f.Close()
			offset += int64(len(b))
			lines := strings.Split(partial+string(b), "\n")
			partial = lines[len(lines)-1]
			for _, l := range lines[:len(lines)-1] {
				if match(l) {
					return l, nil
				}
			}
		}
		select {
		case <-done:
			return "", fmt.Errorf("the process ended (log %s)", path)
		default:
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("nothing in %s after %s", path, d)
		}
		time.Sleep(20 * time.Millisecond) // polling a file another process writes
	}
}

type ports struct {
	sip, http       int
	idv, idvA, idvB string
}

type asteriskProc struct {
	*proc
	dir, bin, conf, full string
}

// startAsterisk unpacks Asterisk, installs the shipped deploy/asterisk/*.conf unchanged and
// the site files they #tryinclude for ports and addresses, the prompts, and starts it.
func (e *environment) startAsterisk(tarball string, p ports) (*asteriskProc, error) {
	d := filepath.Join(e.dir, "asterisk")
	for _, sub := range []string{"etc", "var/run", "var/log", "var/spool", "var/lib"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return nil, err
		}
	}
	if out, err := exec.Command("tar", "-xJf", tarball, "-C", d).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("unpacking %s: %v\n%s", tarball, err, out)
	}
	etc := filepath.Join(d, "etc")
	files := map[string]string{
		"asterisk.conf": fmt.Sprintf(`[directories]
astetcdir => %[1]s/etc
astmoddir => %[1]s/asterisk/lib/asterisk/modules
astvarlibdir => %[1]s/var/lib
astdbdir => %[1]s/var/lib
astkeydir => %[1]s/var/lib
astdatadir => %[1]s/asterisk/share
astagidir => %[1]s/var/lib/agi-bin
astspooldir => %[1]s/var/spool
astrundir => %[1]s/var/run
astlogdir => %[1]s/var/log
astsbindir => %[1]s/asterisk/sbin
[options]
nofork = yes
`, d),
		"logger.conf": "[general]\ndateformat = %F %T.%3q\n[logfiles]\nfull => notice,warning,error,verbose(3)\n",
		// The site files the shipped configuration includes (docs/asterisk.md).
		"pjsip_local.conf":      fmt.Sprintf("[transport-udp](+)\nbind = 127.0.0.1:%d\n", p.sip),
		"http_local.conf":       fmt.Sprintf("bindport = %d\n", p.http),
		"ari_local.conf":        fmt.Sprintf("allowed_origins = http://127.0.0.1:%d\n", p.http),
		"extensions_local.conf": fmt.Sprintf("IDV=%s\nIDV_A=%s\nIDV_B=%s\n", p.idv, p.idvA, p.idvB),
	}
	shipped, _ := filepath.Glob(filepath.Join(e.repo, "deploy/asterisk/*.conf"))
	for _, f := range shipped {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if _, ours := files[filepath.Base(f)]; ours {
			return nil, fmt.Errorf("deploy/asterisk ships %s, which the suite writes", filepath.Base(f))
		}
		files[filepath.Base(f)] = string(b)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	// Prompts: Asterisk's own English sounds (digits for SayDigits) and idv's.
	sounds := filepath.Join(d, "asterisk/share/sounds")
	core := "/usr/share/asterisk/sounds/en_US_f_Allison"
	if _, err := os.Stat(core); err != nil {
		return nil, fmt.Errorf("Asterisk's sounds are missing (apt-get install asterisk-core-sounds-en-wav): %w", err)
	}
	for _, c := range [][2]string{{core, "en"}, {filepath.Join(e.repo, "sounds/en/idv"), "en/idv"}, {filepath.Join(e.repo, "sounds/ja/idv"), "ja/idv"},
		{filepath.Join(e.repo, "sounds/ja/digits"), "ja/digits"}} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(sounds, c[1])), 0o755); err != nil {
			return nil, err
		}
		if out, err := exec.Command("cp", "-r", c[0], filepath.Join(sounds, c[1])).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("installing sounds: %v\n%s", err, out)
		}
	}
	a := &asteriskProc{dir: d, bin: filepath.Join(d, "asterisk/sbin/asterisk"), conf: filepath.Join(etc, "asterisk.conf"),
		full: filepath.Join(d, "var/log/full")}
	lib := "LD_LIBRARY_PATH=" + filepath.Join(d, "asterisk/lib")
	pr, err := e.spawn("asterisk", filepath.Join(d, "console.log"), []string{lib}, a.bin, "-C", a.conf, "-f", "-n", "-vvv")
	if err != nil {
		return nil, err
	}
	a.proc = pr
	e.ast = a
	deadline := time.Now().Add(patience)
	for {
		if _, err := a.cli("core waitfullybooted"); err == nil {
			break
		}
		select {
		case <-pr.done:
			return a, fmt.Errorf("asterisk exited at start:\n%s", tail(pr.log, 30))
		default:
		}
		if time.Now().After(deadline) {
			return a, errors.New("asterisk did not boot")
		}
		time.Sleep(100 * time.Millisecond) // polling the control socket of a starting daemon
	}
	return a, nil
}

// cli runs one Asterisk CLI command.
func (a *asteriskProc) cli(command string) (string, error) {
	cmd := exec.Command(a.bin, "-C", a.conf, "-rx", command)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(a.dir, "asterisk/lib"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("asterisk -rx %q: %v: %s", command, err, out)
	}
	return string(out), nil
}

// startAgents starts the shipped SIPp agent phones (deploy/sipp/agents.xml registering
// agent1..3, agent.xml answering), talking talkSeconds before hanging up, and waits until
// Asterisk has all three reachable.
func (e *environment) startAgents(talkSeconds int) error {
	agentXML, err := os.ReadFile(filepath.Join(e.repo, "deploy/sipp/agent.xml"))
	if err != nil {
		return err
	}
	dir := filepath.Join(e.dir, "agents")
	os.MkdirAll(dir, 0o755)
	talk := bytes.Replace(agentXML, []byte(`timeout="20000"`), []byte(fmt.Sprintf(`timeout="%d"`, talkSeconds*1000)), 1)
	if err := os.WriteFile(filepath.Join(dir, "agent.xml"), talk, 0o644); err != nil {
		return err
	}
	e.agentPort = freeUDP()
	e.agentSIP = filepath.Join(dir, "messages.log")
	e.agents, err = e.spawn("agents", filepath.Join(dir, "sipp.log"), nil, "sipp", e.sipAddr(),
		"-sf", filepath.Join(e.repo, "deploy/sipp/agents.xml"), "-oocsf", filepath.Join(dir, "agent.xml"),
		"-inf", filepath.Join(e.repo, "deploy/sipp/agents.csv"), "-m", "3", "-l", "3", "-r", "10", "-aa",
		"-i", "127.0.0.1", "-p", strconv.Itoa(e.agentPort), "-mp", strconv.Itoa(nextMediaPort()), "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"), "-trace_msg", "-message_file", e.agentSIP)
	if err != nil {
		return err
	}
	return e.awaitContacts(fmt.Sprintf("127.0.0.1:%d", e.agentPort))
}

// agentTalk is how long the agent phones talk, in seconds: beyond the whisper (up to 7 s).
const agentTalk = 12

// awaitContacts waits until Asterisk reaches agent1..3 at addr.
func (e *environment) awaitContacts(addr string) error {
	deadline := time.Now().Add(patience)
	for {
		out, _ := e.ast.cli("pjsip show contacts")
		n := 0
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "@"+addr) && strings.Contains(l, "Avail") {
				n++
			}
		}
		if n == 3 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("agent phones at %s not reachable:\n%s", addr, out)
		}
		time.Sleep(100 * time.Millisecond) // polling Asterisk's view of the registrations
	}
}

func (e *environment) sipAddr() string {
	out, _ := e.ast.cli("pjsip show transports")
	if m := regexp.MustCompile(`udp\s+\d+\s+\d+\s+(\S+)`).FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return ""
}

// httpJSON GETs a URL of idv's web API into v.
func httpJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// firstSSE reads server-sent events from url until one satisfies ok.
func firstSSE(ctx context.Context, url string, ok func([]byte) bool) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if data, found := strings.CutPrefix(sc.Text(), "data: "); found && ok([]byte(data)) {
			return nil
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("event stream %s ended: %v", url, sc.Err())
}
