package config

import (
	"strings"
	"testing"
)

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
