package web

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"

	"golang.org/x/crypto/bcrypt"
)

// Roles a user may have.
const (
	Supervisor = "supervisor"
	Agent      = "agent"
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
	// name in; the name must be one of Users (for its role). Use it only behind that proxy.
	ProxyHeader string
	// Open lets everyone in as a supervisor; the configuration allows it only on loopback.
	Open bool
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

// authenticate finds the request's user: the proxy's header, or HTTP basic credentials
// checked against the bcrypt hash.
func (a *Access) authenticate(r *http.Request) *User {
	if a.Open {
		return &User{Name: "anonymous", Role: Supervisor}
	}
	if a.ProxyHeader != "" {
		if name := r.Header.Get(a.ProxyHeader); name != "" {
			return a.find(name)
		}
	}
	name, pass, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	u := a.find(name)
	if u == nil {
		// Spend the same time as a real check, so names cannot be told apart.
		bcrypt.CompareHashAndPassword([]byte("$2a$10$CwTycUXWue0Thq9StjUM0uJ8.BCe2d0TBNq2PmrdO1xUy6g2WVcS6"), []byte(pass))
		return nil
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pass)) != nil {
		return nil
	}
	return u
}

// require wraps h: the request needs a signed-in user with one of roles.
func (a *Access) require(h http.HandlerFunc, roles ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := a.authenticate(r)
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
