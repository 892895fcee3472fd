package web

import (
	"context"
	"crypto/subtle"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Roles a user may have.
const (
	Supervisor = "supervisor"
	Agent      = "agent"
	// Integration is a CRM or chat channel's account: it may only look a caller's
	// latest verified interaction up (GET /api/interactions?customer=|ani=) and follow
	// the share link it gets; no list, export, audit or live view.
	Integration = "integration"
)

// User is someone who may sign in.
type User struct {
	Name string
	// PasswordHash is a bcrypt hash ("idv hash-password" makes one).
	PasswordHash string
	Role         string
	// Agent is an agent's endpoint as the interaction records name it (e.g. PJSIP/agent1):
	// an agent sees only the interactions connected to it.
	Agent string
}

// Access says who may use the API.
type Access struct {
	Users []User
	// ProxyHeader, when set, names the header a reverse proxy puts the signed-in user's
	// name in; the name must be one of Users (for its role). It is read only on requests
	// from TrustedProxies: anyone else could send it.
	ProxyHeader string
	// TrustedProxies are the proxies' addresses or networks. A request from one of them
	// may carry ProxyHeader, and the client's address is taken from its X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// Open lets everyone in as a supervisor; the configuration allows it only on loopback,
	// and the server then answers only requests for a loopback host name.
	Open bool
	// Limits bound password sign-in; the zero value takes the defaults.
	Limits Limits
	// Check compares a password with its bcrypt hash; bcrypt.CompareHashAndPassword when
	// nil (a test counts the checks with it).
	Check func(hash, password []byte) error

	signIn *signIn // made by Server.Handler
}

type userKey struct{}

// userOf is the signed-in user of a request.
func userOf(r *http.Request) *User {
	u, _ := r.Context().Value(userKey{}).(*User)
	return u
}

func (a *Access) find(name string) *User {
	for i := range a.Users {
		if subtle.ConstantTimeCompare([]byte(a.Users[i].Name), []byte(name)) == 1 {
			return &a.Users[i]
		}
	}
	return nil
}

// trusted says whether addr is one of the proxies.
func (a *Access) trusted(addr netip.Addr) bool {
	for _, p := range a.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// clientAddr is the address a request came from: the peer's, or when the peer is a
// trusted proxy, the nearest address of X-Forwarded-For that is not one (the proxies
// append; what the client wrote itself is further left).
func (a *Access) clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !a.trusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0 && a.trusted(addr); i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		addr = hop.Unmap()
	}
	return addr
}

// refusal is an answer given instead of checking a password: too many failures (429)
// or too many checks waiting (503).
type refusal struct {
	code  int
	retry time.Duration
	why   string
}

// authenticate finds the request's user: the proxy's header from a trusted proxy, or
// HTTP basic credentials checked against the bcrypt hash within the sign-in limits.
// Neither a user nor a refusal means the credentials are missing or wrong.
func (a *Access) authenticate(r *http.Request) (*User, *refusal) {
	if a.Open {
		return &User{Name: "anonymous", Role: Supervisor}, nil
	}
	if a.ProxyHeader != "" {
		if name := r.Header.Get(a.ProxyHeader); name != "" && a.trusted(a.peer(r)) {
			return a.find(name), nil
		}
	}
	name, pass, ok := r.BasicAuth()
	if !ok {
		return nil, nil
	}
	return a.signIn.authenticate(r.Context(), a, a.clientAddr(r), name, pass)
}

// peer is the address of the connection's other end.
func (a *Access) peer(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// require wraps h: the request needs a signed-in user with one of roles.
func (a *Access) require(h http.HandlerFunc, roles ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, refused := a.authenticate(r)
		if refused != nil {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(refused.retry.Seconds()))))
			http.Error(w, refused.why, refused.code)
			return
		}
		if u == nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="idv", charset="UTF-8"`)
			http.Error(w, "sign in: idv needs a user name and password", http.StatusUnauthorized)
			return
		}
		allowed := false
		for _, role := range roles {
			allowed = allowed || u.Role == role
		}
		if !allowed {
			http.Error(w, "your role ("+u.Role+") may not see this", http.StatusForbidden)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

// MinPasswordLen is the shortest password HashPassword accepts.
const MinPasswordLen = 8

// HashPassword is the bcrypt hash of a user's password, for [[web.user]]
// password_bcrypt; it refuses a password shorter than MinPasswordLen.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("use at least %d characters", MinPasswordLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(hash), err
}
