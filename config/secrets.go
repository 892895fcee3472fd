package config

import (
	"os"
	"strings"
)

// resolveSecrets replaces "env:NAME" and "file:/path" in the keys that hold secrets by
// the variable's value or the file's content (trailing newline removed).
func (c *Config) resolveSecrets() error {
	for key, p := range map[string]*string{
		"crm.auth.bearer": &c.CRM.Auth.Bearer, "crm.auth.password": &c.CRM.Auth.Password,
		"report.smtp.password": &c.Report.SMTP.Password, "ari.password": &c.ARI.Password, "store.dsn": &c.Store.DSN,
		"web.share_key": &c.Web.ShareKey,
	} {
		switch {
		case strings.HasPrefix(*p, "env:"):
			name := strings.TrimPrefix(*p, "env:")
			v, ok := os.LookupEnv(name)
			if !ok || v == "" {
				return c.fail(key, "environment variable %s is not set", name)
			}
			*p = v
		case strings.HasPrefix(*p, "file:"):
			path := c.relative(strings.TrimPrefix(*p, "file:"))
			b, err := os.ReadFile(path)
			if err != nil {
				return c.fail(key, "%v", err)
			}
			*p = strings.TrimRight(string(b), "\r\n")
		}
	}
	return nil
}
