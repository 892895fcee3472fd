package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/flow"
)

// TestDialplanFitsFreePBX: the sample dialplan drops into a FreePBX system, which
// generates [globals] and contexts such as [from-trunk] on every Apply Config. Every
// context of extensions_idv.conf is named idv-…, it has no [globals] (or [general]), and
// the globals it reads are those the plain sample's extensions.conf sets.
func TestDialplanFitsFreePBX(t *testing.T) {
	sections := confSections(t, "asterisk/extensions_idv.conf")
	for name := range sections {
		if !strings.HasPrefix(name, "idv-") {
			t.Errorf("extensions_idv.conf: [%s] could meet a context of FreePBX's or the site's: name it idv-…", name)
		}
	}
	if len(sections) < 5 {
		t.Fatalf("extensions_idv.conf has %d contexts: the reader found nothing", len(sections))
	}
	for _, d := range confDirectives(t, "asterisk/extensions_idv.conf") {
		t.Errorf("extensions_idv.conf has %q: on FreePBX it is included as it is, so it includes nothing", d)
	}
	plain := confSections(t, "asterisk/extensions.conf")
	var globals []string
	for _, kv := range plain["globals"] {
		globals = append(globals, kv[0])
	}
	for name := range plain {
		if name != "globals" {
			t.Errorf("extensions.conf has [%s]: contexts belong in extensions_idv.conf, which FreePBX includes", name)
		}
	}
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{(IDV(?:_[A-Z]+)?)\}`).FindAllStringSubmatch(confText(t, "asterisk/extensions_idv.conf"), -1) {
		read[m[1]] = true
	}
	for _, g := range globals {
		if !read[g] {
			t.Errorf("extensions.conf sets %s, which extensions_idv.conf never reads", g)
		}
	}
}

// TestFreePBXDoc checks docs/freepbx.md's snippets against the sample dialplan and idv's
// configuration, as an administrator would paste them: the include, the globals, the
// Custom Destination's target, the queue routes and the member gosub all name what exists.
func TestFreePBXDoc(t *testing.T) {
	const doc = "../docs/freepbx.md"
	d := readDialplan(t)

	if got := strings.TrimSpace(docBlock(t, doc, "<!-- freepbx: extensions_custom.conf")); got != "#include extensions_idv.conf" {
		t.Errorf("extensions_custom.conf: %q", got)
	}
	if _, err := os.Stat("asterisk/extensions_idv.conf"); err != nil {
		t.Error(err)
	}

	var want, got []string
	for _, kv := range confSections(t, "asterisk/extensions.conf")["globals"] {
		want = append(want, kv[0])
	}
	for _, l := range strings.Split(strings.TrimSpace(docBlock(t, doc, "<!-- freepbx: globals_custom.conf")), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok || v == "" {
			t.Errorf("globals_custom.conf: %q is not NAME=value", l)
		}
		got = append(got, k)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("globals_custom.conf sets %v; the dialplan reads %v", got, want)
	}

	m := regexp.MustCompile("\\| Target \\| `([^`]+)` \\|").FindStringSubmatch(confText(t, doc))
	if m == nil {
		t.Fatal("no Custom Destination target in the doc")
	}
	if parts := strings.Split(m[1], ","); len(parts) != 3 || !d.reaches(parts[0], parts[1], parts[2]) {
		t.Errorf("Custom Destination %s: not in extensions_idv.conf", m[1])
	}

	// The routes load as idv's configuration, and their b() handler is in the dialplan.
	routes := docBlock(t, doc, "<!-- freepbx: config.toml")
	file := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(file, []byte("[sounds]\ndir = \"\"\n\n[lines.retail]\n"+routes), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("the doc's routes: %v", err)
	}
	r := cfg.Lines.ByName["retail"].Routes
	queue := ""
	for _, route := range []flow.Route{r.Verified, r.Identified, r.Unidentified, r.OptedOut, r.Error} {
		if route.Kind != flow.RouteQueue {
			t.Errorf("route %s: the doc's routes queue", route)
			continue
		}
		queue = flow.QueueOf(route.String())
		b := regexp.MustCompile(`\bb\(([^)]*)\)`).FindStringSubmatch(route.QueueArgs)
		if b == nil || !d.has(strings.Split(b[1], "^")[0], "s", "1") {
			t.Errorf("route %s: its b() handler is not in extensions_idv.conf", route)
		}
	}

	post := strings.Split(strings.TrimSpace(docBlock(t, doc, "<!-- freepbx: queues_post_custom.conf")), "\n")
	if len(post) != 2 || post[0] != "["+queue+"](+)" {
		t.Errorf("queues_post_custom.conf %q does not amend queue %s of the routes", post, queue)
	} else if k, v, _ := strings.Cut(post[1], "="); strings.TrimSpace(k) != "membergosub" || !d.has(strings.TrimSpace(v), "s", "1") {
		t.Errorf("queues_post_custom.conf: %q is not a membergosub of extensions_idv.conf", post[1])
	}
}

// reaches says whether a call to context,exten,priority lands on a priority of the
// dialplan: exten is a literal extension or one of the context's patterns matches it.
func (d dialplan) reaches(ctx, exten, prio string) bool {
	if d.has(ctx, exten, prio) {
		return true
	}
	for pattern := range d.contexts[ctx] {
		if strings.HasPrefix(pattern, "_") && extenMatches(pattern[1:], exten) && d.has(ctx, pattern, prio) {
			return true
		}
	}
	return false
}

// extenMatches matches an Asterisk extension pattern (without its "_"): X, Z, N, [ranges],
// "." (one or more characters) and "!" (zero or more).
func extenMatches(pattern, exten string) bool {
	for pattern != "" {
		c := pattern[0]
		switch {
		case c == '.':
			return exten != ""
		case c == '!':
			return true
		case exten == "":
			return false
		}
		set := string(c)
		switch c {
		case 'X', 'x':
			set = "0123456789"
		case 'Z', 'z':
			set = "123456789"
		case 'N', 'n':
			set = "23456789"
		case '[':
			end := strings.IndexByte(pattern, ']')
			if end < 0 {
				return false
			}
			set = ""
			r := pattern[1:end]
			for i := 0; i < len(r); i++ {
				if i+2 < len(r) && r[i+1] == '-' {
					for b := r[i]; b <= r[i+2]; b++ {
						set += string(b)
					}
					i += 2
				} else {
					set += string(r[i])
				}
			}
			pattern = pattern[end:]
		}
		if !strings.ContainsRune(set, rune(exten[0])) {
			return false
		}
		pattern, exten = pattern[1:], exten[1:]
	}
	return exten == ""
}
