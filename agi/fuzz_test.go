package agi

import (
	"bufio"
	"strings"
	"testing"
)

// FuzzReadEnv: any bytes from a peer give an environment or an error, never a panic, and
// never more than the block is consumed.
func FuzzReadEnv(f *testing.F) {
	f.Add("agi_network: yes\nagi_network_script: idv?line=retail\nagi_request: agi://127.0.0.1/idv?line=retail\nagi_arg_1: x\n\n200 result=0\n")
	f.Add("agi_request: agi://h/identify\r\nagi_accountcode: \r\n\r\n")
	f.Add("ab: c\n\n")
	f.Add("agi_x:\n\n")
	f.Add("\x00\xff: \n\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := bufio.NewReaderSize(strings.NewReader(in), 4096)
		env, err := ReadEnv(r)
		if err != nil {
			return
		}
		if env["request"] == "" && env["network_script"] == "" {
			t.Fatal("accepted an environment without a request")
		}
		req, err := env.ParseRequest()
		if err == nil && strings.Contains(req.Script, "?") {
			t.Fatalf("script %q kept its query", req.Script)
		}
	})
}

// FuzzReplyReader: whatever Asterisk sends, in whatever pieces (in, cut at \x1e: one
// piece per command), zaf/agi gets at most one line per command, never a HANGUP line and
// never a line longer than maxReplyLine; a call whose every piece is one plain reply line
// passes unchanged.
func FuzzReplyReader(f *testing.F) {
	f.Add("200 result=0\x1eHANGUP\n511 Command Not Permitted\n", 16)
	f.Add("520-Invalid command syntax.  Proper usage follows:\nusage\n520 End of proper usage.\n\x1e200 result=1\n", 16)
	f.Add("HANGUP", 20)
	f.Add("200 result=0\n200 result=1\n\x1e200 result=0\n", 4096)
	f.Fuzz(func(t *testing.T, in string, size int) {
		size = 16 + abs(size)%4096
		answers := strings.Split(in, "\x1e")
		w := &wire{}
		got, err := converse(newReplies(w, size), w, answers)
		if len(got) > len(answers) {
			t.Fatalf("%d lines for %d commands", len(got), len(answers))
		}
		for _, line := range got {
			if strings.TrimRight(line, "\r\n") == "HANGUP" {
				t.Fatalf("a HANGUP line got through: %q", got)
			}
			if len(line) > maxReplyLine {
				t.Fatalf("a line of %d bytes got through", len(line))
			}
		}
		plain := true
		for _, a := range answers {
			line, rest, _ := strings.Cut(a, "\n")
			plain = plain && rest == "" && strings.HasSuffix(a, "\n") && len(a) <= maxReplyLine &&
				strings.TrimRight(line, "\r") != "HANGUP" && !strings.HasPrefix(line, "520-")
		}
		if plain && (err != nil || strings.Join(got, "") != strings.Join(answers, "")) {
			t.Fatalf("changed replies: %q -> %q, %v", answers, got, err)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// FuzzSanitizeValue: what idv writes into a channel variable never breaks the AGI line.
func FuzzSanitizeValue(f *testing.F) {
	f.Add("佐藤 花子")
	f.Add("a\"b\\c\r\nEXEC Dial x")
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeValue(in)
		if strings.ContainsAny(out, "\"\\\r\n\x00") || len([]rune(out)) > MaxVariableLen {
			t.Fatalf("SanitizeValue(%q) = %q", in, out)
		}
	})
}
