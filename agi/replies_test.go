package agi

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

func TestReplyReaderDropsHangupAndFoldsUsage(t *testing.T) {
	cases := []struct {
		name, in, out string
		hungUp        bool
	}{
		{"plain replies pass through", "200 result=0\n200 result=1 (x)\n", "200 result=0\n200 result=1 (x)\n", false},
		{"HANGUP before the reply of the next command is removed", "200 result=-1\nHANGUP\n511 Command Not Permitted on a dead channel or intercept routine\n",
			"200 result=-1\n511 Command Not Permitted on a dead channel or intercept routine\n", true},
		{"HANGUP with CRLF", "HANGUP\r\n200 result=1\n", "200 result=1\n", true},
		{"a reply that merely starts with HANGUP is kept", "HANGUPX\n", "HANGUPX\n", false},
		{"usage block becomes one line", "520-Invalid command syntax.  Proper usage follows:\nSets a variable to the current channel.\nMore usage.\n520 End of proper usage.\n200 result=1\n",
			string(usageLine) + "200 result=1\n", false},
		{"a line longer than the buffer is kept whole", "200 result=1 (" + strings.Repeat("x", 100) + ")\n", "200 result=1 (" + strings.Repeat("x", 100) + ")\n", false},
		{"a long line ending in HANGUP is not a notification", strings.Repeat("y", 40) + "HANGUP\n", strings.Repeat("y", 40) + "HANGUP\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &replyReader{r: bufio.NewReaderSize(strings.NewReader(tc.in), 16)}
			got, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.out || f.hungUp != tc.hungUp {
				t.Errorf("got %q hungUp=%v, want %q hungUp=%v", got, f.hungUp, tc.out, tc.hungUp)
			}
		})
	}
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
