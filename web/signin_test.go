package web_test

import (
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/idv-project/idv/web"
)

var localProxy = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// TestProxyHeaderOnlyFromTrustedProxies: the proxy's user header signs in only on a
// request from a trusted proxy; from anywhere else it is ignored, as anyone can send it.
func TestProxyHeaderOnlyFromTrustedProxies(t *testing.T) {
	cases := []struct {
		name    string
		trusted []netip.Prefix
		code    int
	}{
		{"from a client that is no proxy", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, http.StatusUnauthorized},
		{"from the trusted proxy", localProxy, http.StatusOK},
		{"from a trusted network", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, func(srv *web.Server) {
				srv.Access.ProxyHeader, srv.Access.TrustedProxies = "X-Remote-User", tc.trusted
			})
			resp, body := s.req("GET", "/api/reports", "", header("X-Remote-User", "boss"))
			if resp.StatusCode != tc.code {
				t.Errorf("X-Remote-User: boss = %d %q, want %d", resp.StatusCode, body, tc.code)
			}
		})
	}
}

// TestSignInBacksOff: after Failures wrong passwords from one address, or for one user
// name from many addresses, the next attempt is refused with 429 and Retry-After, the
// right password included, until the back-off passes; it doubles with each further
// failure, and a sign-in that passes clears it.
func TestSignInBacksOff(t *testing.T) {
	c := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	s := newSite(t, func(srv *web.Server) {
		srv.Now = c.Now
		srv.Access.TrustedProxies = localProxy
		srv.Access.Limits = web.Limits{Failures: 3, Backoff: time.Second, MaxBackoff: time.Minute}
	})
	try := func(user, pass, addr string) (int, string) {
		t.Helper()
		resp, _ := s.req("GET", "/api/me", "", as(user, pass), from(addr))
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	expect := func(what string, code int, retry string, gotCode int, gotRetry string) {
		t.Helper()
		if gotCode != code || gotRetry != retry {
			t.Errorf("%s: %d Retry-After %q, want %d %q", what, gotCode, gotRetry, code, retry)
		}
	}
	// One user name, guessed from three addresses.
	for _, addr := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		code, retry := try("boss", "guess", addr)
		expect("a wrong password from "+addr, 401, "", code, retry)
	}
	code, retry := try("boss", "boss-password", "192.0.2.4")
	expect("boss's right password after 3 failures for boss", 429, "1", code, retry)
	code, retry = try("ann", "ann-password", "192.0.2.4")
	expect("another user from another address", 200, "", code, retry)
	c.Add(time.Second)
	code, retry = try("boss", "guess", "192.0.2.5")
	expect("a 4th wrong password for boss after the back-off", 401, "", code, retry)
	code, retry = try("boss", "boss-password", "192.0.2.4")
	expect("the back-off doubled", 429, "2", code, retry)
	c.Add(2 * time.Second)
	code, retry = try("boss", "boss-password", "192.0.2.4")
	expect("boss's right password after the back-off", 200, "", code, retry)
	code, retry = try("boss", "guess", "192.0.2.6")
	expect("a wrong password after a sign-in passed", 401, "", code, retry)

	// One address, trying three user names.
	for _, name := range []string{"eve", "mallory", "trent"} {
		code, retry := try(name, "guess", "198.51.100.7")
		expect(name+" from 198.51.100.7", 401, "", code, retry)
	}
	code, retry = try("ann", "ann-password", "198.51.100.7")
	expect("ann's right password from that address", 429, "1", code, retry)
	code, retry = try("ann", "ann-password", "2001:db8::1")
	expect("ann from elsewhere", 200, "", code, retry)
	c.Add(time.Second)
	code, retry = try("ann", "ann-password", "198.51.100.7")
	expect("ann from that address after the back-off", 200, "", code, retry)
}

// TestSignInFailuresAreLogged: a failure is logged with the user name and the client's
// address, never the password.
func TestSignInFailuresAreLogged(t *testing.T) {
	s := newSite(t, func(srv *web.Server) { srv.Access.TrustedProxies = localProxy })
	s.req("GET", "/api/me", "", as("boss", "hunter2-wrong"), from("192.0.2.9"))
	s.req("GET", "/api/me", "", as("nobody", "hunter3-wrong"), from("192.0.2.10"))
	logs := s.logs.String()
	for _, want := range []string{`"user":"boss"`, `"address":"192.0.2.9"`, `"user":"nobody"`, `"known_user":false`, "sign-in failed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "hunter") {
		t.Errorf("log holds a password:\n%s", logs)
	}
}

// TestPasswordChecksAreBounded: no more than Checks bcrypt checks run at once, Queue more
// requests wait, and the rest are refused with 503 at once rather than queued for the CPU;
// a password that passed is not checked again for each of a page's requests.
func TestPasswordChecksAreBounded(t *testing.T) {
	var mu sync.Mutex
	running, most, checks := 0, 0, 0
	started, release := make(chan struct{}, 10), make(chan struct{})
	s := newSite(t, func(srv *web.Server) {
		srv.Access.Limits = web.Limits{Checks: 2, Queue: 3, Failures: 1000}
		srv.Access.Check = func(hash, pass []byte) error {
			mu.Lock()
			running, checks = running+1, checks+1
			most = max(most, running)
			mu.Unlock()
			started <- struct{}{}
			if string(pass) == "wrong" {
				<-release
			}
			mu.Lock()
			running--
			mu.Unlock()
			return bcrypt.CompareHashAndPassword(hash, pass)
		}
	})
	codes := make(chan string, 10)
	for range 10 {
		go func() {
			resp, _ := s.req("GET", "/api/me", "", as("boss", "wrong"))
			codes <- resp.Status + " Retry-After " + resp.Header.Get("Retry-After")
		}()
	}
	// Two checks hold the slots until released and three requests wait: the other five are
	// answered meanwhile.
	for range 5 {
		if got := <-codes; got != "503 Service Unavailable Retry-After 1" {
			t.Errorf("a request beyond the queue: %s", got)
		}
	}
	<-started
	<-started
	close(release)
	for range 5 {
		if got := <-codes; !strings.HasPrefix(got, "401") {
			t.Errorf("a checked request: %s", got)
		}
	}
	count := func() (int, int) { mu.Lock(); defer mu.Unlock(); return checks, most }
	if n, most := count(); most != 2 || n != 5 {
		t.Errorf("%d checks, at most %d at once; want 5, 2", n, most)
	}
	for range 3 {
		if resp, _ := s.req("GET", "/api/me", "", as("boss", "boss-password")); resp.StatusCode != 200 {
			t.Errorf("boss's right password: %s", resp.Status)
		}
	}
	if resp, _ := s.req("GET", "/api/me", "", as("boss", "boss-passwor")); resp.StatusCode != 401 {
		t.Errorf("a wrong password after a right one: %s", resp.Status)
	}
	if n, _ := count(); n != 5+1+1 {
		t.Errorf("%d checks for 3 sign-ins with the right password and one wrong, want 2", n-5)
	}
}
