package agi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	zagi "github.com/zaf/agi"

	"github.com/idv-project/idv/flow"
)

// The session formats its command lines and parses Asterisk's replies itself, where
// github.com/zaf/agi v1.3.0 used fmt and string work per command. These tests hold it to
// zaf/agi's bytes: the same line on the wire for the same arguments, odd characters
// included, and the same result, data and error for the same reply.

// oddStrings are arguments that quoting could get wrong.
var oddStrings = []string{
	"", "idv/welcome", "0123456789*#", `say "hi"`, `back\slash`, "tab\tcr\rlf\nend", "\x00\x01\x1b\x7f",
	"\xff\xfe invalid", "a\xc3", "佐藤 花子", "rtl\u202eevil", "line\u2028sep", "emoji 😀", "\ufeffbom",
	"support,,,,300", "CHANNEL(language)", "`tick` $ {x} ;", strings.Repeat("x", 300),
}

// zafLines runs f on a zaf/agi session whose every reply is reply and returns the bytes
// zaf/agi wrote.
func zafLines(t testing.TB, reply string, f func(a *zagi.Session)) string {
	t.Helper()
	var out bytes.Buffer
	a := zagi.New()
	// As idv fed it: an empty environment block, then one reply per read (zaf/agi takes
	// a reply buffered before its command for an error).
	in := io.MultiReader(strings.NewReader("\n"), oneAtATime(reply))
	if err := a.Init(bufio.NewReadWriter(bufio.NewReaderSize(in, 1024), bufio.NewWriterSize(&out, 512))); err != nil {
		t.Fatal(err)
	}
	f(a)
	return out.String()
}

// oneAtATime reads reply, again and again, one reply per read.
type oneAtATime string

func (r oneAtATime) Read(p []byte) (int, error) { return copy(p, r), nil }

// pipeSession is a Session on one end of a connection whose other end answers every command
// with reply (GET VARIABLE with getReply) and records the lines it got.
type pipeSession struct {
	s       *Session
	mu      sync.Mutex
	lines   strings.Builder
	discard bool // the lines are not kept (benchmarks)
}

func newPipeSession(t testing.TB, reply, getReply string) *pipeSession {
	t.Helper()
	p := &pipeSession{}
	idv := p.dial(t, reply, getReply)
	s, err := newSession(context.Background(), idv, DefaultTimeouts)
	if err != nil {
		t.Fatal(err)
	}
	p.s = s
	return p
}

// dial connects idv's end to an Asterisk that sends the environment and answers every
// command, over TCP on loopback, as Asterisk's: the session's deadlines and its
// out-of-step check are the production ones, and allocate nothing of their own.
func (p *pipeSession) dial(t testing.TB, reply, getReply string) net.Conn {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	asterisk, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	idv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idv.Close(); asterisk.Close() })
	answer, getAnswer := []byte(reply), []byte(getReply)
	go func() {
		io.WriteString(asterisk, "agi_network: yes\nagi_network_script: idv\nagi_request: agi://x/idv\n\n")
		r := bufio.NewReaderSize(asterisk, 64<<10)
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			p.mu.Lock()
			if !p.discard {
				p.lines.Write(line)
			}
			p.mu.Unlock()
			a := answer
			if bytes.HasPrefix(line, []byte("GET VARIABLE")) {
				a = getAnswer
			}
			if _, err := asterisk.Write(a); err != nil {
				return
			}
		}
	}()
	return idv
}

// sent is what the session wrote since the last call. Asterisk's side got each line
// before it replied, so every command that returned is in it.
func (p *pipeSession) sent() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.lines.String()
	p.lines.Reset()
	return out
}

// commandCases are the session's commands beside zaf/agi's for the same arguments.
func commandCases(a, b, c string, n int) []struct {
	name string
	idv  func(ctx context.Context, s *Session)
	zaf  func(z *zagi.Session)
} {
	digit := byte('0' + (n%10+10)%10)
	return []struct {
		name string
		idv  func(ctx context.Context, s *Session)
		zaf  func(z *zagi.Session)
	}{
		{"ANSWER", func(ctx context.Context, s *Session) { s.Answer(ctx) }, func(z *zagi.Session) { z.Answer() }},
		{"STREAM FILE", func(ctx context.Context, s *Session) { s.Play(ctx, a, b) }, func(z *zagi.Session) { z.StreamFile(a, b) }},
		{"SAY DIGITS", func(ctx context.Context, s *Session) { s.SayDigits(ctx, string(digit)+a, b) },
			func(z *zagi.Session) {
				for _, d := range string(digit) + a {
					if d >= '0' && d <= '9' {
						z.SayDigits(int(d-'0'), b)
					}
				}
			}},
		{"CHANNEL STATUS", func(ctx context.Context, s *Session) { s.probe(ctx) }, func(z *zagi.Session) { z.ChannelStatus() }},
		{"WAIT FOR DIGIT", func(ctx context.Context, s *Session) { s.WaitDigit(ctx, time.Duration(n)*time.Millisecond) },
			func(z *zagi.Session) { z.WaitForDigit(int(time.Duration(n) * time.Millisecond / time.Millisecond)) }},
		{"SET VARIABLE", func(ctx context.Context, s *Session) { s.SetVariable(ctx, a, b) },
			func(z *zagi.Session) { z.SetVariable("__"+a, SanitizeValue(b)) }},
		{"SET VARIABLE language", func(ctx context.Context, s *Session) { s.SetLanguage(ctx, a) },
			func(z *zagi.Session) { z.SetVariable("CHANNEL(language)", SanitizeValue(a)) }},
		{"GET VARIABLE", func(ctx context.Context, s *Session) { s.Variable(ctx, a) }, func(z *zagi.Session) { z.GetVariable(a) }},
		{"EXEC Queue", func(ctx context.Context, s *Session) { s.Queue(ctx, a) },
			func(z *zagi.Session) { z.Exec("Queue", a); z.GetVariable("QUEUESTATUS") }},
		{"SET CONTEXT/EXTENSION/PRIORITY", func(ctx context.Context, s *Session) { s.Goto(ctx, a, b, c) },
			func(z *zagi.Session) { z.SetContext(a); z.SetExtension(b); z.SetPriority(c) }},
	}
}

// checkCommands sends every command with these arguments and compares the bytes with
// zaf/agi's.
func checkCommands(t *testing.T, p *pipeSession, a, b, c string, n int) {
	t.Helper()
	for _, tc := range commandCases(a, b, c, n) {
		tc.idv(context.Background(), p.s)
		got := p.sent()
		want := zafLines(t, "200 result=0\n", tc.zaf)
		if got != want {
			t.Fatalf("%s(%q, %q, %q, %d): idv sent %q, zaf/agi sends %q", tc.name, a, b, c, n, got, want)
		}
	}
}

func TestCommandLinesAreZafAgis(t *testing.T) {
	p := newPipeSession(t, "200 result=0\n", "200 result=1 (x)\n")
	for i, a := range oddStrings {
		b := oddStrings[(i+1)%len(oddStrings)]
		c := oddStrings[(i+5)%len(oddStrings)]
		checkCommands(t, p, a, b, c, i*1000-1)
		checkCommands(t, p, b, a, a, 0)
	}
}

// TestCommandLinesGolden: the exact bytes of a call's commands, as Asterisk reads them.
func TestCommandLinesGolden(t *testing.T) {
	p := newPipeSession(t, "200 result=0\n", "200 result=1 (QUEUEFULL)\n")
	ctx := context.Background()
	steps := []struct {
		run  func()
		want string
	}{
		{func() { p.s.Answer(ctx) }, "ANSWER\n"},
		{func() { p.s.SetLanguage(ctx, "ja") }, `SET VARIABLE "CHANNEL(language)" "ja"` + "\n"},
		{func() { p.s.Play(ctx, "idv/welcome", "0123456789*#") }, `STREAM FILE "idv/welcome" "0123456789*#"` + "\n"},
		{func() { p.s.Play(ctx, `say "hi"\`, "") }, `STREAM FILE "say \"hi\"\\" ""` + "\n"},
		{func() { p.s.Play(ctx, "a\r\nb\x00\xff佐", "#") }, `STREAM FILE "a\r\nb\x00\xff佐" "#"` + "\n"},
		{func() { p.s.WaitDigit(ctx, 5*time.Second) }, "WAIT FOR DIGIT 5000\n"},
		{func() { p.s.SayDigits(ctx, "0-7", "#") }, `SAY DIGITS "0" "#"` + "\n" + `SAY DIGITS "7" "#"` + "\n"},
		{func() { p.s.SetVariable(ctx, "IDV_NAME", "Bob \"the\" \\ Builder\r\nEXEC Dial x") },
			`SET VARIABLE "__IDV_NAME" "Bob 'the' ' Builder  EXEC Dial x"` + "\n"},
		{func() { p.s.SetVariable(ctx, "IDV_\"X\"\n", "佐藤") }, `SET VARIABLE "__IDV_\"X\"\n" "佐藤"` + "\n"},
		{func() { p.s.Queue(ctx, "support,,,,300") }, `EXEC Queue "support,,,,300"` + "\n" + `GET VARIABLE "QUEUESTATUS"` + "\n"},
		{func() { p.s.Goto(ctx, "idv-route", "self-service", "1") },
			`SET CONTEXT "idv-route"` + "\n" + `SET EXTENSION "self-service"` + "\n" + `SET PRIORITY "1"` + "\n"},
	}
	for _, st := range steps {
		st.run()
		if got := p.sent(); got != st.want {
			t.Errorf("sent %q, want %q", got, st.want)
		}
	}
}

// FuzzCommandLines: for any arguments, the session sends zaf/agi's bytes.
func FuzzCommandLines(f *testing.F) {
	for i, s := range oddStrings {
		f.Add(s, oddStrings[(i+3)%len(oddStrings)], "1", i*7-3)
	}
	f.Fuzz(func(t *testing.T, a, b, c string, n int) {
		n %= 1 << 30
		checkCommands(t, newPipeSession(t, "200 result=0\n", "200 result=1 (x)\n"), a, b, c, n)
	})
}

// replyCases are replies Asterisk gives, and some no Asterisk gives.
var replyCases = []string{
	"200 result=0\n", "200 result=1\n", "200 result=-1\n", "200 result=35\n", "200 result=0 endpos=16000\n",
	"200 result=1 (some value)\n", "200 result=1 ()\n", "200 result=0 (\n", "200 result=1 ((x))\n",
	"200 result=1 (佐藤 花子)\n", "200 result=1 (a) b\n", "200 result=+7\n", "200 result=007\n", "200 result=-0\n",
	"200 result=\n", "200 result= x\n", "200 result=1 \n", "200 result=x\n", "200 result=1x (y)\n",
	"200 result=99999999999999999999\n", "200 result=999999999999999999\n", "200 result=-9223372036854775808\n",
	"200 result=1_000\n", "200 result=0\r\n", "200 result=1 (x)\r\n", "200 resul=1\n", "200 results=1\n",
	"200  result=1\n", "200\n", "200 \n", "2000 result=1\n", "510 Invalid or unknown command\n",
	"511 Command Not Permitted on a dead channel or intercept routine\n", "520 Invalid command syntax.\n",
	string(usageLine), "520-Invalid command syntax.  Proper usage follows:\n", "HANGUP\n", "HANGUP \n",
	"\n", "x\n", " 200 result=1\n", "200 result=1 (" + strings.Repeat("v", maxVariable+5) + ")\n",
	"200 result==1\n", "200 result=1=2\n", "\xff\xfe \xff\n",
}

// zafReply is what zaf/agi makes of one reply line (ending in a newline) to a command,
// through parse.
func zafReply(line string, parse func(z *zagi.Session) (zagi.Reply, error)) (zagi.Reply, error) {
	a := zagi.New()
	in := io.MultiReader(strings.NewReader("\n"), strings.NewReader(line))
	a.Init(bufio.NewReadWriter(bufio.NewReaderSize(in, 1024), bufio.NewWriter(io.Discard)))
	return parse(a)
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// checkReply parses line as the session does and as zaf/agi does, for a command whose
// data is kept as it is (ANSWER) and for GET VARIABLE.
func checkReply(t *testing.T, line string) {
	t.Helper()
	got, err := parseReply([]byte(line))
	want, werr := zafReply(line, func(z *zagi.Session) (zagi.Reply, error) { return z.Answer() })
	if got.Res != want.Res || string(got.Dat) != want.Dat || errText(err) != errText(werr) {
		t.Fatalf("reply %q: idv %d %q %v, zaf/agi %d %q %v", line, got.Res, got.Dat, err, want.Res, want.Dat, werr)
	}
}

func TestRepliesParsedAsZafAgiParsesThem(t *testing.T) {
	for _, line := range replyCases {
		checkReply(t, line)
	}
}

// TestVariableValueAsZafAgiGivesIt: GET VARIABLE's value, without its parentheses, and
// its result, through the session.
func TestVariableValueAsZafAgiGivesIt(t *testing.T) {
	for _, line := range replyCases {
		want, werr := zafReply(line, func(z *zagi.Session) (zagi.Reply, error) { return z.GetVariable("X") })
		if len(want.Dat) > maxVariable || strings.HasPrefix(line, "520-") || strings.HasPrefix(line, "HANGUP") {
			continue // refused by the session (its own tests), or never passed on by the reader
		}
		p := newPipeSession(t, "", line)
		value, ok, err := p.s.Variable(context.Background(), "X")
		if (err == nil) != (werr == nil) || err == nil && (value != want.Dat || ok != (want.Res == 1)) {
			t.Errorf("reply %q: idv %q %v %v, zaf/agi %q %d %v", line, value, ok, err, want.Dat, want.Res, werr)
		}
		if err != nil && !errors.Is(err, flow.ErrHangup) && !strings.Contains(err.Error(), werr.Error()) {
			t.Errorf("reply %q: idv's error %q does not carry zaf/agi's %q", line, err, werr)
		}
	}
}

// FuzzReplyParse: for any reply line, the session's result, data and error text are
// zaf/agi's.
func FuzzReplyParse(f *testing.F) {
	for _, line := range replyCases {
		f.Add(strings.TrimSuffix(line, "\n"))
	}
	f.Fuzz(func(t *testing.T, text string) {
		line, _, _ := strings.Cut(text, "\n")
		checkReply(t, line+"\n")
	})
}

// FuzzReadLine: the lines the session reads are those zaf/agi read through the reply
// reader, in pieces of any size (in, cut at \x1e: one piece per command).
func FuzzReadLine(f *testing.F) {
	f.Add("200 result=0\x1eHANGUP\n511 Command Not Permitted\n", 16)
	f.Add("520-Invalid command syntax.  Proper usage follows:\nusage\n520 End of proper usage.\n\x1e200 result=1\n", 16)
	f.Add("200 result=1 ("+strings.Repeat("x", 5000)+")\n\x1e200 result=0\n", 4096)
	f.Add("200 result=0\n200 result=1\n\x1e200 result=0\n", 4096)
	f.Fuzz(func(t *testing.T, in string, size int) {
		size = 16 + abs(size)%4096
		answers := strings.Split(in, "\x1e")
		w := &wire{}
		want, werr := converse(newReplies(w, size), w, answers)
		w = &wire{}
		rr := newReplies(w, size)
		var got []string
		var err error
		for _, a := range answers {
			if err = rr.expect(); err != nil {
				break
			}
			w.send(a)
			var line []byte
			if line, err = rr.readLine(); err != nil {
				break
			}
			got = append(got, string(line))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || errText(err) != errText(werr) {
			t.Fatalf("readLine %q, %v; through Read %q, %v", got, err, want, werr)
		}
	})
}

// BenchmarkCommand is one command's round trip through the session over TCP on
// loopback: the line formatted, written, its reply read and parsed. zaf-* are the same
// commands through github.com/zaf/agi on the same connection, in the same run.
func BenchmarkCommand(b *testing.B) {
	const reply, getReply = "200 result=0 endpos=16000\n", "200 result=1 (+81312345678)\n"
	p := newPipeSession(b, reply, getReply)
	p.discard = true
	z := &pipeSession{discard: true}
	conn := z.dial(b, reply, getReply)
	zaf := zagi.New()
	if err := zaf.Init(bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn))); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		idv  func()
		zaf  func()
	}{
		{"STREAM FILE", func() { p.s.Play(ctx, "idv/welcome", "0123456789*#") },
			func() { zaf.StreamFile("idv/welcome", "0123456789*#") }},
		{"SET VARIABLE", func() { p.s.SetVariable(ctx, "IDV_STATUS", "IDENTIFIED") },
			func() { zaf.SetVariable("__IDV_STATUS", SanitizeValue("IDENTIFIED")) }},
		{"GET VARIABLE", func() { p.s.Variable(ctx, "CALLERID(num)") }, func() { zaf.GetVariable("CALLERID(num)") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.idv()
			}
		})
		b.Run("zaf-"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.zaf()
			}
		})
	}
}

// sanitizeBefore is SanitizeValue as it was before it appended into the command line
// (strings.Builder over strings.ToValidUTF8): the values sent must not change.
func sanitizeBefore(v string) string {
	var b strings.Builder
	n := 0
	for _, c := range strings.ToValidUTF8(v, "") {
		switch {
		case c == '"' || c == '\\' || c == '`':
			c = '\''
		case c == '\t' || c == '\r' || c == '\n':
			c = ' '
		case unicode.IsControl(c) || c == utf8.RuneError || unicode.Is(unicode.Cf, c):
			continue
		}
		if n == MaxVariableLen {
			break
		}
		b.WriteRune(c)
		n++
	}
	return strings.TrimSpace(b.String())
}

// FuzzSanitizeValueUnchanged: SanitizeValue gives what it gave before, for any value.
func FuzzSanitizeValueUnchanged(f *testing.F) {
	for _, s := range oddStrings {
		f.Add(s)
	}
	f.Add(" \u3000\ufffd\xef\xbf\xbd x \u2028\u0085")
	f.Add(strings.Repeat("あ", 127) + " \t" + strings.Repeat("x", 5))
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := SanitizeValue(v), sanitizeBefore(v); got != want {
			t.Fatalf("SanitizeValue(%q) = %q, was %q", v, got, want)
		}
	})
}
