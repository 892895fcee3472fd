package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRelativePathsResolveFromTheFile: every relative path of the file — the database,
// the prompts, the CRM's TLS files, the PDF font, a schedule's directory and a "file:"
// secret — is read from the configuration file's directory, whatever the current
// directory; absolute paths and ":memory:" stay as written.
func TestRelativePathsResolveFromTheFile(t *testing.T) {
	etc := t.TempDir()
	os.WriteFile(filepath.Join(etc, "ari.secret"), []byte("s3cret\n"), 0o600)
	text := `[store]
path = "data/idv.db?_pragma=cache_size(-20000)"
[sounds]
dir = "sounds"
[report]
font = "fonts/ipag.ttf"
[[report.schedule]]
name = "daily"
cron = "@daily"
report = "outcomes"
range = "yesterday"
formats = ["csv"]
directory = "reports"
[[report.schedule]]
name = "abs"
cron = "@daily"
report = "outcomes"
range = "yesterday"
formats = ["csv"]
directory = "/var/lib/idv/reports"
[ari]
url = "http://127.0.0.1:8088/ari"
user = "idv"
password = "file:ari.secret"
`
	cfg, err := Parse(filepath.Join(etc, "config.toml"), text)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ key, got, want string }{
		{"store.path", cfg.Store.Path, filepath.Join(etc, "data/idv.db") + "?_pragma=cache_size(-20000)"},
		{"sounds.dir", cfg.Sounds.Dir, filepath.Join(etc, "sounds")},
		{"report.font", cfg.Report.Font, filepath.Join(etc, "fonts/ipag.ttf")},
		{"report.schedule[0].directory", cfg.Report.Schedules[0].Directory, filepath.Join(etc, "reports")},
		{"report.schedule[1].directory", cfg.Report.Schedules[1].Directory, "/var/lib/idv/reports"},
		{"ari.password", cfg.ARI.Password, "s3cret"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.key, c.got, c.want)
		}
	}
	mem, err := Parse(filepath.Join(etc, "config.toml"), "[store]\npath = \":memory:\"")
	if err != nil || mem.Store.Path != ":memory:" {
		t.Errorf("store.path :memory: became %q, %v", mem.Store.Path, err)
	}
}
