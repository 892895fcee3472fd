package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/config"
)

// TestWebKeysReachTheServer: web.idle_timeout closes an idle connection of the running
// web server.
func TestWebKeysReachTheServer(t *testing.T) {
	cfg, err := config.Parse("t.toml", fmt.Sprintf(`[agi]
listen = "127.0.0.1:0"
[store]
path = %q
[democrm]
enabled = false
[crm]
base_url = %q
[sounds]
dir = ""
[web]
listen = "127.0.0.1:0"
idle_timeout = "50ms"
max_connections = 4
`, filepath.Join(t.TempDir(), "idv.db"), "http://"+startDemoCRM(t)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Start(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	c, err := net.Dial("tcp", a.WebAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a guard: the test fails rather than hangs
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("an idle connection: %v, want EOF (closed by the server)", err)
	}
}
