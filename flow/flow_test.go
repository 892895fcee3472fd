package flow

import (
	"fmt"
	"strings"
	"testing"
)

func TestNormalizeANI(t *testing.T) {
	cases := []struct{ ani, region, want string }{
		{"0312345678", "JP", "+81312345678"},
		{"+81312345678", "GB", "+81312345678"},
		{"0081312345678", "GB", "+81312345678"},
		{"01081312345678", "JP", "+81312345678"},
		{"02079460000", "GB", "+442079460000"},
		{"12", "JP", ""},
		{"abc", "JP", ""},
		{"", "JP", ""},
	}
	for _, tc := range cases {
		if got := NormalizeANI(tc.ani, tc.region); got != tc.want {
			t.Errorf("NormalizeANI(%q, %s) = %q, want %q", tc.ani, tc.region, got, tc.want)
		}
	}
}

func TestANIWithheld(t *testing.T) {
	cases := []struct {
		ani  string
		pres int
		want bool
	}{
		{"anonymous", 0, true}, {"Anonymous", 0, true}, {"unknown", 0, true}, {"", 0, true},
		{"+81312345678", 0, false}, {"+81312345678", 0x20, true}, {"+81312345678", 0x23, true},
		{"+81312345678", 0x43, true}, {"+81312345678", 0x01, false},
	}
	for _, tc := range cases {
		if got := ANIWithheld(tc.ani, tc.pres); got != tc.want {
			t.Errorf("ANIWithheld(%q, %#x) = %v, want %v", tc.ani, tc.pres, got, tc.want)
		}
	}
}

func TestParseRoute(t *testing.T) {
	good := map[string]string{
		"queue:support": "queue:support", "queue:vip,t,,,300": "queue:vip,t,,,300",
		"goto:selfservice,s,1": "goto:selfservice,s,1", "goto:ivr,_X.,start": "goto:ivr,_X.,start", "continue": "continue",
	}
	for in, want := range good {
		r, err := ParseRoute(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseRoute(%q) = %v, %v", in, r, err)
		}
	}
	for _, bad := range []string{"", "queue:", "queue:a b", "queue:x,\"y\"", "goto:a,b", "goto:a,b,c,d", "goto:a,,1", "dial:x", "continue:x"} {
		if _, err := ParseRoute(bad); err == nil {
			t.Errorf("ParseRoute(%q) accepted", bad)
		}
	}
}

func TestSecretRedacts(t *testing.T) {
	s := NewSecret("4321")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s)} {
		if strings.Contains(out, "4321") {
			t.Errorf("formatted secret shows its digits: %s", out)
		}
	}
	if b, _ := s.MarshalText(); strings.Contains(string(b), "4321") || s.Reveal() != "4321" || s.Len() != 4 {
		t.Error("secret marshals its digits or lost them")
	}
}

func TestAgentEndpoint(t *testing.T) {
	for in, want := range map[string]string{"PJSIP/agent1-0000000a": "PJSIP/agent1", "PJSIP/agent-one-00000002": "PJSIP/agent-one",
		"PJSIP/agent1": "PJSIP/agent1", "Local/100@agents-0001;1": "Local/100@agents"} {
		if got := AgentEndpoint(in); got != want {
			t.Errorf("AgentEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

// The queue a route names, as reports, the live views and the ARI observer read it.
func TestQueueOf(t *testing.T) {
	for route, want := range map[string]string{"queue:support": "support", "queue:retail,,,,300": "retail",
		"goto:selfservice,s,1": "", "continue": "", "": ""} {
		if got := QueueOf(route); got != want {
			t.Errorf("QueueOf(%q) = %q, want %q", route, got, want)
		}
	}
}
