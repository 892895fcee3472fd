package app

import (
	"strings"
	"testing"

	"github.com/idv-project/idv/config"
)

// TestCRMCredentialsStayOutOfTheLog: a crm.base_url with a user and password appears in
// the start-up and reload lines with them masked.
func TestCRMCredentialsStayOutOfTheLog(t *testing.T) {
	text := site{CRM: "http://idv:s3cr3t-pw@" + startDemoCRM(t)}.text(t)
	cfg, err := config.Parse("t.toml", text)
	if err != nil {
		t.Fatal(err)
	}
	a, logs := startSite(t, cfg)
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
