package config

import (
	"path/filepath"
	"strings"
)

// resolvePaths makes every relative path of the file relative to the file's own
// directory, not to wherever the command happens to run: `cd ~ && idv report -config
// /etc/idv/config.toml` must read /etc/idv's database, not create one in ~.
func (c *Config) resolvePaths() {
	dir := filepath.Dir(c.File)
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	// store.path may carry the driver's parameters after "?"; ":memory:" is no file.
	if path, extra, found := strings.Cut(c.Store.Path, "?"); path != "" && path != ":memory:" && !strings.HasPrefix(path, "file:") {
		abs(&path)
		if found {
			path += "?" + extra
		}
		c.Store.Path = path
	}
	abs(&c.Sounds.Dir)
	abs(&c.CRM.TLS.CAFile)
	abs(&c.CRM.TLS.CertFile)
	abs(&c.CRM.TLS.KeyFile)
	abs(&c.Report.Font)
	for i := range c.Report.Schedules {
		abs(&c.Report.Schedules[i].Directory)
	}
}

// relative is a "file:" secret's path resolved as resolvePaths resolves the others.
func (c *Config) relative(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}
