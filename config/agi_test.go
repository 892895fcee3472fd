package config

import (
	"strings"
	"testing"
)

// TestAGIAllowWarning: with agi.allow empty, a FastAGI port that other hosts can reach
// lets any of them run /agent and attach any interaction to any agent; idv starts, and
// warns naming agi.allow. On loopback, or with an allow list, there is nothing to say.
func TestAGIAllowWarning(t *testing.T) {
	cases := []struct {
		listen, allow string
		warn          bool
	}{
		{"0.0.0.0:4573", "[]", true},
		{":4573", "[]", true},
		{"[::]:4573", "[]", true},
		{"10.1.2.3:4573", "[]", true},
		{"pbx-link.example.com:4573", "[]", true},
		{"127.0.0.1:4573", "[]", false},
		{"[::1]:4573", "[]", false},
		{"localhost:4573", "[]", false},
		{"0.0.0.0:4573", `["10.1.2.3"]`, false},
	}
	for _, tc := range cases {
		cfg, err := Parse("t.toml", "[agi]\nlisten = \""+tc.listen+"\"\nallow = "+tc.allow+"\n")
		if err != nil {
			t.Fatal(err)
		}
		ws := cfg.Warnings()
		if got := len(ws) == 1 && ws[0].Key == "agi.allow" && strings.Contains(ws[0].Reason, "agent"); got != tc.warn || len(ws) > 1 {
			t.Errorf("listen %s allow %s: warnings %v, want one about agi.allow: %v", tc.listen, tc.allow, ws, tc.warn)
		}
	}
}

func TestMaxConnectionsMustNotBeNegative(t *testing.T) {
	_, err := Parse("t.toml", "[agi]\nmax_connections = -1\n")
	if err == nil || !strings.Contains(err.Error(), "t.toml: agi.max_connections: -1 is negative") {
		t.Errorf("err = %v", err)
	}
	cfg, err := Parse("t.toml", "")
	if err != nil || cfg.AGI.MaxConnections != 0 {
		t.Errorf("default max_connections = %d, %v; want 0 (derived)", cfg.AGI.MaxConnections, err)
	}
}
