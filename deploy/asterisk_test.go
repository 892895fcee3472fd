package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/flow"
)

// confSections reads an Asterisk .conf file: section name → key/value lines (a name may
// appear several times, e.g. pjsip.conf's endpoint, aor and auth of one agent). Directives
// (#include, #tryinclude) are left out: confDirectives reads them.
func confSections(t *testing.T, path string) map[string][][2]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][][2]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, ";"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = line[1:strings.Index(line, "]")]
			if _, ok := out[section]; !ok {
				out[section] = nil
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not key = value", path, line)
		}
		out[section] = append(out[section], [2]string{strings.TrimSpace(strings.TrimSuffix(k, ">")), strings.TrimSpace(strings.TrimPrefix(v, ">"))})
	}
	return out
}

// dialplan is the sample dialplan, extensions.conf and the extensions_idv.conf it
// includes: context → extension → priority labels, and every application call with where
// it stands.
type dialplan struct {
	contexts map[string]map[string][]string // context → exten → labels
	apps     []app
}

type app struct {
	context, exten, name, args string
}

var appRe = regexp.MustCompile(`^(?:\d+|n)(?:\(([\w-]+)\))?,(\w+)\((.*)\)$`)

func readDialplan(t *testing.T) dialplan {
	d := dialplan{contexts: map[string]map[string][]string{}}
	if !slices.Contains(confDirectives(t, "asterisk/extensions.conf"), "#include extensions_idv.conf") {
		t.Fatal("extensions.conf does not #include extensions_idv.conf")
	}
	for ctx, lines := range confSections(t, "asterisk/extensions_idv.conf") {
		d.contexts[ctx] = map[string][]string{}
		exten := ""
		for _, kv := range lines {
			rest := kv[1]
			switch kv[0] {
			case "exten":
				var ok bool
				exten, rest, ok = strings.Cut(rest, ",")
				if !ok {
					t.Fatalf("[%s] exten => %s: no priority", ctx, kv[1])
				}
			case "same":
			default:
				t.Fatalf("[%s] unexpected %s =>", ctx, kv[0])
			}
			m := appRe.FindStringSubmatch(rest)
			if m == nil {
				t.Fatalf("[%s] %s: cannot read %q", ctx, exten, rest)
			}
			d.contexts[ctx][exten] = append(d.contexts[ctx][exten], m[1])
			d.apps = append(d.apps, app{ctx, exten, m[2], m[3]})
		}
	}
	return d
}

// has says whether context,exten[,label or number] exists ("${EXTEN}" matches any).
func (d dialplan) has(ctx, exten, prio string) bool {
	ex, ok := d.contexts[ctx]
	if !ok {
		return false
	}
	if strings.Contains(exten, "${") {
		return len(ex) > 0
	}
	labels, ok := ex[exten]
	if !ok {
		return false
	}
	return prio == "" || prio == "1" || slices.Contains(labels, prio)
}

// TestDialplanTargetsExist walks every context of the sample dialplan (extensions_idv.conf) and checks
// that each Goto, GotoIf, Queue, AGI, Playback and hang-up handler names something that
// exists: a context and extension in the file, a queue in queues.conf, a script idv
// serves, a bundled prompt.
func TestDialplanTargetsExist(t *testing.T) {
	d := readDialplan(t)
	queues := confSections(t, "asterisk/queues.conf")
	checkGoto := func(a app, target string) {
		parts := strings.Split(target, ",")
		var ok bool
		switch len(parts) {
		case 1: // a label in the same extension
			ok = slices.Contains(d.contexts[a.context][a.exten], parts[0])
		case 2:
			ok = d.has(a.context, parts[0], parts[1])
		case 3:
			ok = d.has(parts[0], parts[1], parts[2])
		}
		if !ok {
			t.Errorf("[%s] %s: %s(%s) goes to %q, which does not exist", a.context, a.exten, a.name, a.args, target)
		}
	}
	cfg, err := config.Load("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	scripts := []string{string(flow.ScriptIDV), string(flow.ScriptIdentify), string(flow.ScriptVerify), "agent"}
	seen := map[string]bool{}
	for _, a := range d.apps {
		seen[a.name] = true
		switch a.name {
		case "Goto":
			checkGoto(a, a.args)
		case "GotoIf":
			_, branches, _ := strings.Cut(a.args, "?")
			for _, b := range strings.Split(branches, ":") {
				if b != "" {
					checkGoto(a, b)
				}
			}
		case "Queue":
			name, _, _ := strings.Cut(a.args, ",")
			if _, ok := queues[name]; !ok {
				t.Errorf("[%s] Queue(%s): no such queue in queues.conf", a.context, name)
			}
			// b(context^exten^priority): the pre-dial handler of each agent channel.
			if m := regexp.MustCompile(`^[^,]*,[^,]*\bb\(([^)]*)\)`).FindStringSubmatch(a.args); m != nil {
				checkGoto(a, strings.ReplaceAll(m[1], "^", ","))
			}
		case "AGI":
			// One instance at ${IDV}; several at ${IDV_A}, ${IDV_B} or by SRV (hagi://).
			m := regexp.MustCompile(`^(agi://\$\{IDV(_A|_B)?\}|hagi://\$\{IDV_SRV\})/(.*)$`).FindStringSubmatch(a.args)
			var script, query string
			if m != nil {
				script, query, _ = strings.Cut(m[3], "?")
			}
			if m == nil || !slices.Contains(scripts, script) {
				t.Errorf("[%s] AGI(%s): idv serves agi://${IDV}/ (or ${IDV_A}, ${IDV_B}, hagi://${IDV_SRV}/) with %v", a.context, a.args, scripts)
			}
			if line, ok := strings.CutPrefix(query, "line="); ok && cfg.Lines.ByName[line] == nil {
				t.Errorf("[%s] AGI(%s): line %q is not in config.toml", a.context, a.args, line)
			}
		case "Playback":
			files := []string{a.args}
			if strings.Contains(a.args, "${TOLOWER(${IDV_STATUS})}") {
				files = nil
				for _, s := range []flow.Status{flow.StatusVerified, flow.StatusIdentified, flow.StatusUnidentified} {
					files = append(files, strings.ReplaceAll(a.args, "${TOLOWER(${IDV_STATUS})}", strings.ToLower(string(s))))
				}
			}
			for _, f := range files {
				if _, err := os.Stat(filepath.Join("..", "sounds", "en", f+".wav")); err != nil {
					t.Errorf("[%s] Playback(%s): no sounds/en/%s.wav", a.context, a.args, f)
				}
			}
		case "Set":
			if v, ok := strings.CutPrefix(a.args, "CHANNEL(hangup_handler_push)="); ok {
				checkGoto(a, v)
			}
		}
	}
	for _, want := range []string{"AGI", "GotoIf", "Queue", "Playback", "Return"} {
		if !seen[want] {
			t.Errorf("the sample dialplan uses no %s(): the walker read nothing", want)
		}
	}
	// The routes of the shipped config.toml land in this dialplan and these queues.
	for name, l := range cfg.Lines.ByName {
		for _, r := range []flow.Route{l.Routes.Verified, l.Routes.Identified, l.Routes.Unidentified, l.Routes.VerifyFailed, l.Routes.OptedOut, l.Routes.Error} {
			switch r.Kind {
			case flow.RouteGoto:
				if !d.has(r.Context, r.Extension, r.Priority) {
					t.Errorf("config.toml line %s routes to %s, missing from the sample dialplan", name, r)
				}
			case flow.RouteQueue:
				q, _, _ := strings.Cut(r.QueueArgs, ",")
				if _, ok := queues[q]; !ok {
					t.Errorf("config.toml line %s routes to %s, missing from queues.conf", name, r)
				}
			}
		}
	}
	// queues.conf's member gosub and members exist.
	endpoints := confSections(t, "asterisk/pjsip.conf")
	for q, kvs := range queues {
		for _, kv := range kvs {
			switch kv[0] {
			case "membergosub":
				if !d.has(kv[1], "s", "1") {
					t.Errorf("queue %s: membergosub %s has no s,1 in extensions_idv.conf", q, kv[1])
				}
			case "member":
				iface, _, _ := strings.Cut(kv[1], ",")
				if _, ok := endpoints[strings.TrimPrefix(iface, "PJSIP/")]; !ok {
					t.Errorf("queue %s: member %s is not in pjsip.conf", q, iface)
				}
			}
		}
	}
	// pjsip.conf's endpoint contexts exist.
	for name, kvs := range endpoints {
		for _, kv := range kvs {
			if kv[0] == "context" && d.contexts[kv[1]] == nil {
				t.Errorf("pjsip.conf [%s]: context %s is not in extensions_idv.conf", name, kv[1])
			}
		}
	}
	if d.contexts["idv-from-trunk"] == nil || !strings.Contains(confText(t, "asterisk/pjsip.conf"), "context = idv-from-trunk") {
		t.Error("the trunk does not land in [idv-from-trunk]")
	}
}

// confDirectives lists the #include and #tryinclude lines of an Asterisk .conf file.
func confDirectives(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, l := range confLines(t, path) {
		if strings.HasPrefix(l.text, "#") {
			out = append(out, l.text)
		}
	}
	return out
}

func confText(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// confLine is one meaningful line of a .conf file: its number, the section it is in, and
// its text without the comment.
type confLine struct {
	n             int
	section, text string
}

func confLines(t *testing.T, path string) []confLine {
	t.Helper()
	var out []confLine
	section := ""
	for i, line := range strings.Split(confText(t, path), "\n") {
		if j := strings.Index(line, ";"); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = line[1:strings.Index(line, "]")]
		}
		out = append(out, confLine{i + 1, section, line})
	}
	return out
}

// TestSiteOverrides: every shipped .conf that sets a port, an address or what depends on
// them (ari.conf's allowed origins) includes its NAME_local.conf (#tryinclude, so a missing
// file is no error) after all those lines, so that a site's values win without editing the
// shipped file: in the same section, which the local file continues, or at the very end,
// where the local file opens its own sections (pjsip.conf: [transport-udp](+)).
func TestSiteOverrides(t *testing.T) {
	files, _ := filepath.Glob("asterisk/*.conf")
	addr := regexp.MustCompile(`^(bind|bindaddr|bindport|allowed_origins)\s*=|\d+\.\d+\.\d+\.\d+:\d+`)
	checked := 0
	for _, f := range files {
		lines := confLines(t, f)
		var last *confLine
		for i, l := range lines {
			if addr.MatchString(l.text) {
				last = &lines[i]
			}
		}
		if last == nil {
			continue
		}
		checked++
		want := "#tryinclude " + strings.TrimSuffix(filepath.Base(f), ".conf") + "_local.conf"
		i := slices.IndexFunc(lines, func(l confLine) bool { return l.text == want })
		if i < 0 {
			t.Errorf("%s sets %q (line %d) but has no %q", f, last.text, last.n, want)
			continue
		}
		inc := lines[i]
		switch {
		case inc.n < last.n:
			t.Errorf("%s: %s at line %d comes before %q (line %d), which would win", f, want, inc.n, last.text, last.n)
		case inc.section != last.section && i != len(lines)-1:
			t.Errorf("%s: %s is in [%s], not in [%s] with %q nor at the end of the file", f, want, inc.section, last.section, last.text)
		}
	}
	if checked < 4 {
		t.Errorf("only %d files set addresses; pjsip.conf, http.conf, ari.conf and extensions.conf do", checked)
	}
}

// TestQueuesEnd: no caller waits for ever. Every Queue() of the dialplan carries a
// timeout (its 5th argument), and each queue lets callers go when no agent phone is
// reachable, and rings only agents who are free (one whisper at a time).
func TestQueuesEnd(t *testing.T) {
	for _, a := range readDialplan(t).apps {
		if a.name != "Queue" {
			continue
		}
		args := strings.Split(a.args, ",")
		if len(args) < 5 {
			t.Errorf("[%s] Queue(%s) has no timeout: a caller could wait for ever", a.context, a.args)
		} else if n, err := strconv.Atoi(args[4]); err != nil || n <= 0 {
			t.Errorf("[%s] Queue(%s): timeout %q", a.context, a.args, args[4])
		}
	}
	for q, kvs := range confSections(t, "asterisk/queues.conf") {
		if q == "general" {
			continue
		}
		got := map[string]string{}
		for _, kv := range kvs {
			got[kv[0]] = kv[1]
		}
		if got["ringinuse"] != "no" {
			t.Errorf("queue %s: ringinuse = %q, want no", q, got["ringinuse"])
		}
		leave := strings.Split(got["leavewhenempty"], ",")
		for _, c := range []string{"unavailable", "invalid", "unknown"} {
			if !slices.Contains(leave, c) {
				t.Errorf("queue %s: leavewhenempty = %q lacks %s", q, got["leavewhenempty"], c)
			}
		}
	}
}

// TestCorrelationLines: the console lines that tie a call's SIP Call-ID to idv's
// interaction keep the format the real-Asterisk suite (e2e/) parses.
func TestCorrelationLines(t *testing.T) {
	want := map[string]string{
		"idv-hangup": "idv-hangup: CALL_ID=${CHANNEL(pjsip,call-id)} IDV_INTERACTION=${IDV_INTERACTION} IDV_STATUS=${IDV_STATUS} " +
			"IDV_REASON=${IDV_REASON} IDV_METHOD=${IDV_METHOD} IDV_CUSTOMER_ID=${IDV_CUSTOMER_ID} IDV_ATTEMPTS=${IDV_ATTEMPTS} " +
			"IDV_LINE=${IDV_LINE} AGISTATUS=${AGISTATUS} QUEUESTATUS=${QUEUESTATUS} LANGUAGE=${CHANNEL(language)} " +
			"IDV_ID_TYPE=${IDV_ID_TYPE} IDV_FACTORS=${IDV_FACTORS}",
		"idv-whisper": "idv-whisper: IDV_INTERACTION=${IDV_INTERACTION} IDV_STATUS=${IDV_STATUS} IDV_CUSTOMER_ID=${IDV_CUSTOMER_ID} AGENT=${CHANNEL}",
	}
	for _, a := range readDialplan(t).apps {
		if w, ok := want[a.context]; ok && a.exten == "s" && a.name == "NoOp" {
			if a.args != w {
				t.Errorf("[%s] NoOp(%s), want NoOp(%s)", a.context, a.args, w)
			}
			delete(want, a.context)
		}
	}
	for ctx := range want {
		t.Errorf("[%s] has no NoOp", ctx)
	}
}

// TestAgentPhones: the agents register (no static contact, username identification ahead
// of the trunk's address), the trunk is found by address only, and agents.csv holds the
// passwords of pjsip.conf.
func TestAgentPhones(t *testing.T) {
	conf := confSections(t, "asterisk/pjsip.conf")
	get := func(section, key string) []string {
		var v []string
		for _, kv := range conf[section] {
			if kv[0] == key {
				v = append(v, kv[1])
			}
		}
		return v
	}
	if got := get("global", "endpoint_identifier_order"); !slices.Equal(got, []string{"username,ip,anonymous"}) {
		t.Errorf("[global] endpoint_identifier_order = %v: agents registering from the trunk's address would be taken for it", got)
	}
	if got := get("sipp", "identify_by"); !slices.Equal(got, []string{"ip"}) {
		t.Errorf("[sipp] identify_by = %v: with usernames first, anyone calling himself sipp would be the trunk", got)
	}
	passwords := map[string]string{}
	for name := range conf {
		if p := get(name, "password"); len(p) == 1 {
			passwords[name] = p[0]
		}
		if c := get(name, "contact"); len(c) > 0 {
			t.Errorf("[%s] has a static contact %v: agents (and SIPp's phones) register", name, c)
		}
	}
	lines := strings.Split(strings.TrimSpace(confText(t, "sipp/agents.csv")), "\n")
	if lines[0] != "SEQUENTIAL" {
		t.Errorf("agents.csv starts with %q, want SEQUENTIAL", lines[0])
	}
	csvRe := regexp.MustCompile(`^(\w+);\[authentication username=(\w+) password=(\S+)\]$`)
	var agents []string
	for _, l := range lines[1:] {
		m := csvRe.FindStringSubmatch(l)
		if m == nil || m[1] != m[2] || passwords[m[1]] != m[3] {
			t.Errorf("agents.csv: %q does not match pjsip.conf's %v", l, passwords)
			continue
		}
		agents = append(agents, m[1])
	}
	members := map[string]bool{}
	for _, kvs := range confSections(t, "asterisk/queues.conf") {
		for _, kv := range kvs {
			if kv[0] == "member" {
				iface, _, _ := strings.Cut(kv[1], ",")
				members[strings.TrimPrefix(iface, "PJSIP/")] = true
			}
		}
	}
	for m := range members {
		if !slices.Contains(agents, m) {
			t.Errorf("queue member %s has no SIPp phone in agents.csv", m)
		}
	}
}
