package agi

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// wire is the connection as the reply reader sees it: bytes arrive when the test sends
// them, and read counts what the reader took.
type wire struct {
	arrived []byte
	read    int
}

func (w *wire) Read(p []byte) (int, error) {
	if len(w.arrived) == 0 {
		return 0, io.EOF // in a real call: nothing more comes, and the reply timeout ends it
	}
	n := copy(p, w.arrived)
	w.arrived = w.arrived[n:]
	w.read += n
	return n, nil
}

func (w *wire) send(s string) { w.arrived = append(w.arrived, s...) }

// newReplies is a reply reader on w with a read buffer of size bytes, as the session
// builds it on the socket.
func newReplies(w *wire, size int) *replyReader {
	return &replyReader{r: bufio.NewReaderSize(w, size), waiting: func() bool { return len(w.arrived) > 0 }}
}

// converse plays one call: for each command, the reader expects its reply, Asterisk
// sends what answers holds for it, and zaf/agi reads one line (ReadBytes, as it does).
// It returns the lines zaf/agi got and the first error.
func converse(f *replyReader, w *wire, answers []string) ([]string, error) {
	zaf := bufio.NewReaderSize(f, 1024)
	var got []string
	for _, a := range answers {
		if err := f.expect(); err != nil {
			return got, err
		}
		w.send(a)
		line, err := zaf.ReadBytes('\n')
		if err != nil {
			return got, err
		}
		got = append(got, string(line))
	}
	return got, nil
}

func TestReplyReaderDropsHangupAndFoldsUsage(t *testing.T) {
	dead := "511 Command Not Permitted on a dead channel or intercept routine\n"
	cases := []struct {
		name    string
		answers []string
		out     []string
		hungUp  bool
	}{
		{"plain replies pass through", []string{"200 result=0\n", "200 result=1 (x)\n"}, []string{"200 result=0\n", "200 result=1 (x)\n"}, false},
		{"HANGUP before the reply of the next command is removed", []string{"200 result=-1\n", "HANGUP\n" + dead},
			[]string{"200 result=-1\n", dead}, true},
		{"HANGUP sent unasked between commands is removed", []string{"200 result=0\nHANGUP\n", dead}, []string{"200 result=0\n", dead}, true},
		{"HANGUP with CRLF", []string{"HANGUP\r\n200 result=1\n"}, []string{"200 result=1\n"}, true},
		{"a reply that merely starts with HANGUP is kept", []string{"HANGUPX\n"}, []string{"HANGUPX\n"}, false},
		{"usage block becomes one line", []string{"520-Invalid command syntax.  Proper usage follows:\nSets a variable to the current channel.\nMore usage.\n520 End of proper usage.\n", "200 result=1\n"},
			[]string{string(usageLine), "200 result=1\n"}, false},
		{"a line longer than the buffer is kept whole", []string{"200 result=1 (" + strings.Repeat("x", 100) + ")\n"}, []string{"200 result=1 (" + strings.Repeat("x", 100) + ")\n"}, false},
		{"a long line ending in HANGUP is not a notification", []string{strings.Repeat("y", 40) + "HANGUP\n"}, []string{strings.Repeat("y", 40) + "HANGUP\n"}, false},
		{"GET VARIABLE's longest value passes", []string{"200 result=1 (" + strings.Repeat("v", maxVariable) + ")\n"}, []string{"200 result=1 (" + strings.Repeat("v", maxVariable) + ")\n"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &wire{}
			f := newReplies(w, 16)
			got, err := converse(f, w, tc.answers)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tc.out, "|") || f.hungUp != tc.hungUp {
				t.Errorf("got %q hungUp=%v, want %q hungUp=%v", got, f.hungUp, tc.out, tc.hungUp)
			}
		})
	}
}

// TestReplyReaderEndsTheCallOnAReplyOutOfStep: a reply line with no command outstanding
// would answer the next command, and every later reply would belong to the command
// before; the reader stops at it, whenever it arrives.
func TestReplyReaderEndsTheCallOnAReplyOutOfStep(t *testing.T) {
	t.Run("two replies to one command", func(t *testing.T) {
		w := &wire{}
		got, err := converse(newReplies(w, 4096), w, []string{"200 result=0\n200 result=1 (x)\n", "200 result=1 (y)\n"})
		assertOutOfStep(t, got, err, []string{"200 result=0\n"}, `"200 result=1 (x)"`)
	})
	t.Run("a line sent between commands", func(t *testing.T) {
		w := &wire{}
		f := newReplies(w, 4096)
		got, err := converse(f, w, []string{"200 result=0\n"})
		if err != nil {
			t.Fatal(err)
		}
		w.send("200 result=1 (x)\n") // arrives while idv works, before its next command
		more, err := converse(f, w, []string{"200 result=1 (y)\n"})
		assertOutOfStep(t, append(got, more...), err, []string{"200 result=0\n"}, `"200 result=1 (x)"`)
	})
	t.Run("a line sent before the first command", func(t *testing.T) {
		w := &wire{}
		w.send("200 result=0\n")
		got, err := converse(newReplies(w, 4096), w, []string{"200 result=0\n"})
		assertOutOfStep(t, got, err, nil, `"200 result=0"`)
	})
	t.Run("a usage block sent unasked", func(t *testing.T) {
		w := &wire{}
		got, err := converse(newReplies(w, 4096), w, []string{"200 result=0\n520-Invalid command syntax.  Proper usage follows:\nx\n520 End of proper usage.\n", "200 result=1\n"})
		assertOutOfStep(t, got, err, []string{"200 result=0\n"}, `"520-Invalid`)
	})
}

func assertOutOfStep(t *testing.T, got []string, err error, want []string, quoted string) {
	t.Helper()
	var se *streamError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "no command outstanding") || !strings.Contains(err.Error(), quoted) {
		t.Errorf("err = %v, want a reply with no command outstanding quoting %s", err, quoted)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("zaf/agi got %q, want %q", got, want)
	}
}

// TestReplyReaderCapsLines: zaf/agi would read a reply line whole, however long; the
// reader stops after maxReplyLine bytes of it (and one buffer), and after maxUsageBlock
// bytes of usage text.
func TestReplyReaderCapsLines(t *testing.T) {
	t.Run("an endless reply line", func(t *testing.T) {
		w := &wire{}
		got, err := converse(newReplies(w, maxEnvLine), w, []string{"200 result=1 (" + strings.Repeat("x", 1<<20)})
		if !errors.Is(err, errReplyTooLong) || len(got) != 0 {
			t.Errorf("got %d lines, err %v; want %v", len(got), err, errReplyTooLong)
		}
		if w.read > maxReplyLine+maxEnvLine {
			t.Errorf("read %d bytes of a 1 MiB line; want at most %d", w.read, maxReplyLine+maxEnvLine)
		}
	})
	t.Run("a 1 MiB line with its newline", func(t *testing.T) {
		w := &wire{}
		_, err := converse(newReplies(w, maxEnvLine), w, []string{strings.Repeat("y", 1<<20) + "\n"})
		if !errors.Is(err, errReplyTooLong) || w.read > maxReplyLine+maxEnvLine {
			t.Errorf("err %v after %d bytes", err, w.read)
		}
	})
	t.Run("the longest line allowed", func(t *testing.T) {
		w := &wire{}
		line := "200 result=0 " + strings.Repeat("z", maxReplyLine-len("200 result=0 \n")) + "\n"
		got, err := converse(newReplies(w, maxEnvLine), w, []string{line})
		if err != nil || len(got) != 1 || got[0] != line {
			t.Errorf("a line of %d bytes: err %v", len(line), err)
		}
	})
	t.Run("an endless usage block", func(t *testing.T) {
		w := &wire{}
		_, err := converse(newReplies(w, maxEnvLine), w, []string{"520-Invalid command syntax.  Proper usage follows:\n" + strings.Repeat("usage text\n", 1<<20)})
		if !errors.Is(err, errUsageTooLong) || w.read > maxUsageBlock+maxEnvLine {
			t.Errorf("err %v after %d bytes", err, w.read)
		}
	})
}

func TestReadEnv(t *testing.T) {
	good := "agi_network: yes\nagi_network_script: idv?line=retail\nagi_request: agi://127.0.0.1:4573/idv?line=retail\n" +
		"agi_callerid: 0345550101\nagi_callingpres: 35\nagi_accountcode: \nagi_arg_2: b\nagi_arg_1: a\nagi_arg_10: j\n\n200 result=0\n"
	r := bufio.NewReaderSize(strings.NewReader(good), 4096)
	env, err := ReadEnv(r)
	if err != nil {
		t.Fatal(err)
	}
	req, err := env.ParseRequest()
	if err != nil {
		t.Fatal(err)
	}
	if req.Script != "idv" || req.Query.Get("line") != "retail" || strings.Join(req.Args, ",") != "a,b,j" {
		t.Errorf("request = %+v", req)
	}
	if env["accountcode"] != "" || env["callerid"] != "0345550101" || env.Presentation() != 35 {
		t.Errorf("env = %v", env)
	}
	if rest, _ := r.ReadString('\n'); rest != "200 result=0\n" {
		t.Errorf("ReadEnv consumed past the blank line; next is %q", rest)
	}
	// A stray client's control characters never reach a value (nor the record, the log
	// or the pages it goes to); letters of any script stay.
	env, err = ReadEnv(bufio.NewReaderSize(strings.NewReader("agi_request: agi://h/idv\nagi_language: ja\rEXEC Dial\nagi_callerid: +81312345678\x00\x7f\nagi_calleridname: 佐藤\tZoë\n\n"), 4096))
	if err != nil || env["language"] != "jaEXEC Dial" || env["callerid"] != "+81312345678" || env["calleridname"] != "佐藤Zoë" {
		t.Errorf("control characters in values: %q, %v", env, err)
	}

	bad := []struct{ name, in, want string }{
		{"no colon", "agi_network yes\n\n", "not \"agi_name: value\""},
		{"not agi_", "foo: bar\n\n", "not \"agi_name: value\""},
		{"short key would crash zaf/agi", "ab: c\n\n", "not \"agi_name: value\""},
		{"ends before the blank line", "agi_request: agi://x/idv\n", "ended before its blank line"},
		{"nothing at all", "", "agi environment"},
		{"no request", "agi_channel: x\n\n", "neither agi_request"},
		{"too long a line", "agi_x: " + strings.Repeat("x", 5000) + "\n\n", "longer than"},
		{"binary garbage", "\x00\x01\x02: \xff\n\n", "not \"agi_name: value\""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadEnv(bufio.NewReaderSize(strings.NewReader(tc.in), 4096))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestParseRequestFromURL(t *testing.T) {
	env := Env{"request": "hagi://_agi._tcp.example.com/verify?line=gold&x=1"}
	req, err := env.ParseRequest()
	if err != nil || req.Script != "verify" || req.Query.Get("line") != "gold" {
		t.Errorf("req = %+v err = %v", req, err)
	}
}

func TestSanitizeValue(t *testing.T) {
	cases := map[string]string{
		"佐藤 花子":                     "佐藤 花子",
		`Bob "the" \ Builder`:       `Bob 'the' ' Builder`,
		"line1\r\nSET VARIABLE X 1": "line1  SET VARIABLE X 1",
		"bell\x07 and \x00nul":      "bell and nul",
		"rtl\u202eevil":             "rtlevil",
		"\xff\xfeinvalid":           "invalid",
		strings.Repeat("あ", 200):    strings.Repeat("あ", MaxVariableLen),
		"  padded  ":                "padded",
	}
	for in, want := range cases {
		if got := SanitizeValue(in); got != want {
			t.Errorf("SanitizeValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDefaultMaxConnsIsTheLimitLessTheReserve: with the open-file limit known, the cap
// is the limit less the reserve given, never below 64.
func TestDefaultMaxConnsIsTheLimitLessTheReserve(t *testing.T) {
	limit := openFileLimit()
	if limit <= 0 {
		t.Skip("the open-file limit is not known here")
	}
	if got := DefaultMaxConns(1000); got != max(limit-1000, 64) {
		t.Errorf("DefaultMaxConns(1000) = %d with a limit of %d, want %d", got, limit, max(limit-1000, 64))
	}
	if got := DefaultMaxConns(limit + 1); got != 64 {
		t.Errorf("a reserve above the limit: %d, want 64", got)
	}
}
