package loadtest

import (
	"fmt"
	"os"
	"path/filepath"
)

// serveConfig writes dir/config.toml, the configuration of the idv serve the load test
// starts, and returns its path: FastAGI on addr, the demo CRM at crmAddr, SQLite in dir,
// JSON logs, no web server, and lockout and throttling limits out of reach
// (SecurityTOML).
func serveConfig(dir, addr, crmAddr string) (string, error) {
	text := fmt.Sprintf(`[agi]
listen = %q
[log]
format = "json"
[store]
path = %q
[democrm]
enabled = false
[crm]
base_url = "http://%s"
[sounds]
dir = ""
[web]
listen = ""
`, addr, filepath.Join(dir, "idv.db"), crmAddr) + SecurityTOML
	path := filepath.Join(dir, "config.toml")
	return path, os.WriteFile(path, []byte(text), 0o600)
}

// SecurityTOML is the [security] table of an idv under load: lockout and throttling out
// of reach, because a load run's callers are the same few demo customers again and
// again; the guard's queries still run on every call.
const SecurityTOML = `[security]
verify_lockout_failures = 1000000000
verify_lockout_customer_failures = 1000000000
identify_per_ani = 1000000000
identify_withheld = 1000000000
`
