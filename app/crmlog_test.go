package app

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/internal/testlog"
)

// TestCRMCredentialsStayOutOfTheLog: a crm.base_url with a user and password appears in
// the start-up and reload lines with them masked.
func TestCRMCredentialsStayOutOfTheLog(t *testing.T) {
	text := site{CRM: "http://idv:s3cr3t-pw@" + startDemoCRM(t)}.text(t)
	cfg, err := config.Parse("t.toml", text)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	a, err := Start(context.Background(), cfg, zerolog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	next, err := config.Parse("t.toml", text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Reload(next); err != nil {
		t.Fatal(err)
	}
	l := logs.String()
	if strings.Contains(l, "s3cr3t-pw") || strings.Count(l, `"crm":"http://xxxxx@127.0.0.1:`) != 2 {
		t.Errorf("the start-up and reload lines must show crm.base_url without its password:\n%s", l)
	}
}
