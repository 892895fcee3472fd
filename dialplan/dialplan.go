// Package dialplan reads Asterisk dialplan files (extensions.conf and what they
// #include) for what idv check -dialplan needs: the AGI calls into a FastAGI server, with
// the script and service line each names, and the contexts the dialplan defines.
package dialplan

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Pos is a place in a dialplan file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// AGICall is one AGI(agi://host/SCRIPT?line=NAME) or AGI(agi://host/SCRIPT,NAME) of the
// dialplan (hagi:// too).
type AGICall struct {
	Pos
	// Text is the application as written, e.g. AGI(agi://${IDV}/idv?line=retail).
	Text string
	// Script is the URL's path: idv, identify, verify, agent, …
	Script string
	// Line is the service line named by ?line= or the first argument; "" when none is
	// (idv then picks the line by the dialled number).
	Line string
	// Dynamic says that the script or the line is made at run time (${…}): it cannot be
	// checked here.
	Dynamic bool
}

// Plan is what a dialplan holds for idv.
type Plan struct {
	Calls []AGICall
	// Contexts are the contexts defined, with where each is first defined.
	Contexts map[string]Pos
}

// Bounds on what Read reads, so that a hostile or broken dialplan cannot keep idv
// check reading for ever: files (each once, by its real path), include depth, the size of
// one file and of one line, and the AGI calls kept.
const (
	maxFiles    = 1000
	maxDepth    = 32
	maxFileSize = 64 << 20
	maxLine     = 1 << 20
	maxCalls    = 100000
)

// Read reads a dialplan file and the files it #includes (or #tryincludes), resolved
// from the including file's directory (Asterisk resolves a relative include from its
// configuration directory, /etc/asterisk, where extensions.conf lives), globs allowed as
// Asterisk allows them. Only regular files are read.
func Read(path string) (*Plan, error) {
	p := &Plan{Contexts: map[string]Pos{}}
	return p, p.read(path, map[string]bool{}, false, 0)
}

func (p *Plan) read(path string, seen map[string]bool, optional bool, depth int) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		if optional {
			return nil
		}
		return fmt.Errorf("dialplan: %w", err)
	}
	if seen[real] {
		return nil // Asterisk refuses include loops too; one reading is enough here
	}
	seen[real] = true
	switch {
	case len(seen) > maxFiles:
		return fmt.Errorf("dialplan %s: more than %d files included", path, maxFiles)
	case depth > maxDepth:
		return fmt.Errorf("dialplan %s: includes nested more than %d deep", path, maxDepth)
	}
	if st, err := os.Stat(real); err != nil || !st.Mode().IsRegular() || st.Size() > maxFileSize {
		if err == nil {
			err = fmt.Errorf("not a regular file of at most %d MiB", maxFileSize>>20)
		}
		return fmt.Errorf("dialplan %s: %w", path, err)
	}
	f, err := os.Open(real)
	if err != nil {
		return fmt.Errorf("dialplan: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimSpace(stripComment(sc.Text()))
		pos := Pos{path, n}
		switch {
		case hasDirective(text, "#include") || hasDirective(text, "#tryinclude"):
			directive, arg := strings.ToLower(strings.Fields(text)[0]), strings.TrimSpace(text[strings.IndexAny(text, " \t"):])
			arg = strings.Trim(arg, `"<>`)
			if !filepath.IsAbs(arg) {
				arg = filepath.Join(filepath.Dir(path), arg)
			}
			matches, _ := filepath.Glob(arg)
			if len(matches) == 0 {
				matches = []string{arg}
			}
			for _, m := range matches {
				if err := p.read(m, seen, directive == "#tryinclude", depth+1); err != nil {
					return fmt.Errorf("%s: %w", pos, err)
				}
			}
		case strings.HasPrefix(text, "["):
			if end := strings.Index(text, "]"); end > 0 {
				name := strings.TrimSpace(text[1:end])
				if _, ok := p.Contexts[name]; !ok {
					p.Contexts[name] = pos
				}
			}
		default:
			p.Calls = append(p.Calls, agiCalls(text, pos)...)
			if len(p.Calls) > maxCalls {
				return fmt.Errorf("%s: more than %d AGI calls", pos, maxCalls)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("dialplan %s: after line %d: %w (lines are read up to %d KiB)", path, n, err, maxLine>>10)
	}
	return nil
}

// hasDirective says whether text is the directive (any case, as Asterisk reads it)
// followed by a space or a tab.
func hasDirective(text, directive string) bool {
	return len(text) > len(directive) && strings.EqualFold(text[:len(directive)], directive) &&
		(text[len(directive)] == ' ' || text[len(directive)] == '\t')
}

// stripComment cuts a line at its first unescaped ';' (and at ";--" block openers alike).
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == ';' {
			return s[:i]
		}
	}
	return s
}

// agiCalls finds the FastAGI calls of one dialplan line.
func agiCalls(text string, pos Pos) []AGICall {
	var out []AGICall
	upper := strings.ToUpper(text)
	for i := 0; ; {
		j := strings.Index(upper[i:], "AGI(")
		if j < 0 {
			return out
		}
		start := i + j
		i = start + len("AGI(")
		if start > 0 && isWord(upper[start-1]) { // EAGI(, DEADAGI(, MYAGI(…
			continue
		}
		args, end := arguments(text[i:])
		i += end
		if len(args) == 0 {
			continue
		}
		raw := strings.TrimSpace(args[0])
		scheme, rest, ok := strings.Cut(raw, "://")
		if !ok || (!strings.EqualFold(scheme, "agi") && !strings.EqualFold(scheme, "hagi")) {
			continue // a local AGI script, not ours
		}
		c := AGICall{Pos: pos, Text: text[start:min(i+1, len(text))]}
		_, path, _ := strings.Cut(rest, "/")
		script, query, _ := strings.Cut(path, "?")
		c.Script = strings.Trim(script, "/")
		if q, err := url.ParseQuery(query); err == nil && q.Has("line") {
			c.Line = q.Get("line")
		} else if len(args) > 1 {
			c.Line = strings.TrimSpace(args[1])
		}
		c.Dynamic = strings.Contains(c.Script, "${") || strings.Contains(c.Line, "${")
		out = append(out, c)
	}
}

func isWord(b byte) bool { return b == '_' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' }

// arguments splits an application's arguments at top-level commas, up to its closing
// parenthesis (nested ${…}, $[…] and (…) kept whole), and says where it ended.
func arguments(s string) ([]string, int) {
	var args []string
	depth, from := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			if depth == 0 && s[i] == ')' {
				return append(args, s[from:i]), i
			}
			depth--
		case ',':
			if depth == 0 {
				args = append(args, s[from:i])
				from = i + 1
			}
		}
	}
	return append(args, s[from:]), len(s)
}
