package app

import (
	"testing"

	"github.com/idv-project/idv/store"
)

// Instances sharing PostgreSQL register ARI applications of their own; one instance keeps
// the configured name.
func TestARIApplicationPerInstance(t *testing.T) {
	if got := ariApplication("idv", store.SQLite, "host:12:ab"); got != "idv" {
		t.Errorf("single instance: %q", got)
	}
	a, b := ariApplication("idv", store.Postgres, "host-a:12:ab"), ariApplication("idv", store.Postgres, "host-b:12:ab")
	if a == b || a != "idv-host-a-12-ab" {
		t.Errorf("two instances: %q and %q", a, b)
	}
}
