package agitest

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
)

func TestParseArgsLikeAsterisk(t *testing.T) {
	cases := map[string][]string{
		`STREAM FILE beep ""`:        {"STREAM", "FILE", "beep", ""},
		`SET VARIABLE X "a \"q\" b"`: {"SET", "VARIABLE", "X", `a "q" b`},
		`SET VARIABLE Y "a" "b"`:     {"SET", "VARIABLE", "Y", "a", "b"},
		"GET  DATA\tbeep 3000 6":     {"GET", "DATA", "beep", "3000", "6"},
		`EXEC Queue "support,t,,,5"`: {"EXEC", "Queue", "support,t,,,5"},
		`SET VARIABLE N "佐藤 花子"`:     {"SET", "VARIABLE", "N", "佐藤 花子"},
		`VERBOSE back\\slash`:        {"VERBOSE", `back\slash`},
	}
	for in, want := range cases {
		if got := parseArgs(in); strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("parseArgs(%q) = %q, want %q", in, got, want)
		}
	}
}

// script is a FastAGI server that sends fixed commands and keeps the raw replies.
func script(t *testing.T, cmds []string) (addr string, env chan []string, replies chan []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	env, replies = make(chan []string, 1), make(chan []string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		var block, got []string
		for {
			l, err := r.ReadString('\n')
			if err != nil || l == "\n" {
				break
			}
			block = append(block, strings.TrimSuffix(l, "\n"))
		}
		env <- block
		for _, c := range cmds {
			conn.Write([]byte(c + "\n"))
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					replies <- got
					return
				}
				l = strings.TrimSuffix(l, "\n")
				got = append(got, l)
				if l != "HANGUP" && !strings.HasPrefix(l, "520-") && !strings.HasPrefix(l, "Sets a") {
					break
				}
			}
		}
		replies <- got
	}()
	return ln.Addr().String(), env, replies
}

// TestSpeaksLikeAsterisk22 replays the transcripts of docs/agi.md and
// expects the replies a real Asterisk 22.10.1 gave.
func TestSpeaksLikeAsterisk22(t *testing.T) {
	t.Run("a normal call", func(t *testing.T) {
		addr, env, replies := script(t, []string{
			`ANSWER`, `GET VARIABLE CALLERID(num)`, `STREAM FILE beep ""`, `GET DATA beep 3000 6`,
			`STREAM FILE beep "0123456789*#"`, `WAIT FOR DIGIT 3000`, `SET VARIABLE __IDV_CUSTOMER_NAME "佐藤 花子"`,
			`SET VARIABLE X "a \"q\" b"`, `GET VARIABLE X`, `SET VARIABLE Y "a" "b"`, `BOGUS COMMAND`,
		})
		res, err := Caller{Script: "idv?line=retail", Args: []string{"arg1"}, ANI: "0345550101", CallerName: "Caller",
			DNID: "1000", Extension: "1000", Keys: "12#_5"}.Call(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"200 result=0", "200 result=1 (0345550101)", "200 result=0 endpos=16000", "200 result=12",
			"200 result=0 endpos=16000", "200 result=53", "200 result=1", "200 result=1", `200 result=1 (a "q" b)`,
			"520-Invalid command syntax.  Proper usage follows:", "Sets a variable to the current channel.", "520 End of proper usage.",
			"510 Invalid or unknown command",
		}
		if got := <-replies; strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("replies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		block := <-env
		for i, l := range []string{"agi_network: yes", "agi_network_script: idv?line=retail"} {
			if block[i] != l {
				t.Errorf("env line %d = %q, want %q", i, block[i], l)
			}
		}
		for _, l := range []string{"agi_callerid: 0345550101", "agi_calleridname: Caller", "agi_dnid: 1000", "agi_extension: 1000",
			"agi_accountcode: ", "agi_arg_1: arg1", "agi_version: 22.10.1", "agi_context: inbound", "agi_priority: 2"} {
			if !strings.Contains(strings.Join(block, "\n")+"\n", l+"\n") {
				t.Errorf("env lacks %q", l)
			}
		}
		if res.Vars["IDV_CUSTOMER_NAME"] != "佐藤 花子" || res.Inherit["IDV_CUSTOMER_NAME"] != "__" || res.AGIStatus != "SUCCESS" {
			t.Errorf("result = %+v", res)
		}
	})
	t.Run("the caller hangs up during WAIT FOR DIGIT", func(t *testing.T) {
		addr, _, replies := script(t, []string{
			`WAIT FOR DIGIT 10000`, `STREAM FILE beep ""`, `GET VARIABLE CALLERID(num)`, `SET VARIABLE DEAD "1"`,
			`EXEC Queue support,t,,,5`, `SET CONTEXT x`, `VERBOSE "bye" 1`,
		})
		res, err := Caller{ANI: "0345550101", Keys: "!"}.Call(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"200 result=-1", "HANGUP", "511 Command Not Permitted on a dead channel or intercept routine",
			"200 result=1 (0345550101)", "200 result=1", "200 result=-1",
			"511 Command Not Permitted on a dead channel or intercept routine", "200 result=1",
		}
		if got := <-replies; strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("replies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if res.AGIStatus != "HANGUP" || res.Context != "inbound" {
			t.Errorf("AGISTATUS %s context %s", res.AGIStatus, res.Context)
		}
	})
	t.Run("FAILURE ends the script", func(t *testing.T) {
		addr, _, _ := script(t, []string{`FAILURE`})
		res, err := Caller{}.Call(context.Background(), addr)
		if err != nil || res.AGIStatus != "FAILURE" {
			t.Errorf("AGISTATUS %v, %v", res.AGIStatus, err)
		}
	})
}
