package agi

import (
	"bufio"
	"bytes"
	"io"
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

// FuzzReplyReader: whatever Asterisk sends, the reader passes every line but HANGUP and
// usage blocks through unchanged and in order.
func FuzzReplyReader(f *testing.F) {
	f.Add("200 result=0\nHANGUP\n511 Command Not Permitted\n", 16)
	f.Add("520-Invalid command syntax.  Proper usage follows:\nusage\n520 End of proper usage.\n200 result=1\n", 16)
	f.Add("HANGUP", 20)
	f.Fuzz(func(t *testing.T, in string, size int) {
		size = 16 + abs(size)%4096
		f := &replyReader{r: bufio.NewReaderSize(strings.NewReader(in), size)}
		out, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(out, []byte("\n")) {
			if string(bytes.TrimRight(line, "\r")) == "HANGUP" {
				t.Fatalf("a HANGUP line got through: %q", out)
			}
		}
		if !strings.Contains(in, "HANGUP") && !strings.Contains(in, "520-") && string(out) != in {
			t.Fatalf("changed replies:\n%q\n%q", in, out)
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
