package web

import (
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// guard is what every request passes through before its route: the headers that keep
// idv's pages out of other sites' frames and its data out of caches, and, when the
// server is open without sign-in, the loopback host name that DNS rebinding cannot fake.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'") // the pages set a fuller one
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics" {
			h.Set("Cache-Control", "no-store")
		}
		if s.Access.Open && !loopbackHost(r.Host) {
			// A page of another site whose name now resolves to 127.0.0.1 would otherwise
			// read everything: open mode has no sign-in to stop it.
			http.Error(w, "idv is open without sign-in to loopback only: ask for it as localhost or 127.0.0.1, not "+r.Host,
				http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost says whether a Host header names this machine by loopback: localhost,
// 127.0.0.0/8 or [::1], with any port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// crossOrigin refuses requests that change state from another site's page.
var crossOrigin = http.NewCrossOriginProtection()

// change guards a request that changes state. Browsers sign in by themselves with basic
// auth, so another site's page could post to idv as the signed-in user. The body must be
// JSON, which a form cannot send and a cross-site fetch cannot send without a preflight
// that idv never allows; and the browser must say the request comes from idv's own page
// (Sec-Fetch-Site, else Origin; http.CrossOriginProtection). A client that is no browser
// sends neither header and passes.
func change(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := crossOrigin.Check(r); err != nil {
			http.Error(w, "refused: the request comes from another site's page", http.StatusForbidden)
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			http.Error(w, "the body must be JSON (Content-Type: application/json)", http.StatusUnsupportedMediaType)
			return
		}
		h(w, r)
	}
}
