package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// Limits bound password sign-in. A bcrypt check costs tens of milliseconds of CPU on
// purpose; unbounded, anyone who can reach the web server could take the CPU that calls
// need, and try passwords as fast as the CPU allows.
type Limits struct {
	// Failures wrong passwords in a row from one client address, or for one user name,
	// start a back-off of Backoff, doubled by each further failure up to MaxBackoff.
	// During it, attempts are refused (429, Retry-After) without a check, the right
	// password included. A sign-in that passes clears the count; Forget without a failure
	// forgets it. Defaults: 5, 1 s, 5 min, 15 min.
	Failures            int
	Backoff, MaxBackoff time.Duration
	Forget              time.Duration
	// Checks is how many bcrypt checks run at once (default GOMAXPROCS/2, at least 1);
	// Queue more requests wait for one (default 8); beyond, they are refused (503).
	Checks, Queue int
	// Remember is how long a password that passed a check is taken again without one
	// (default 5 min): a page's requests each carry it.
	Remember time.Duration
}

func (l Limits) withDefaults() Limits {
	or := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.Failures <= 0 {
		l.Failures = 5
	}
	or(&l.Backoff, time.Second)
	or(&l.MaxBackoff, 5*time.Minute)
	or(&l.Forget, 15*time.Minute)
	or(&l.Remember, 5*time.Minute)
	if l.Checks <= 0 {
		l.Checks = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if l.Queue <= 0 {
		l.Queue = 8
	}
	return l
}

// maxTracked bounds the client addresses, and the user names, whose failures are
// counted; the configuration's users have a table of their own, which a flood of
// made-up names cannot fill.
const maxTracked = 10000

// signIn checks passwords within Limits and logs each failure.
type signIn struct {
	limits Limits
	check  func(hash, password []byte) error
	now    func() time.Time
	log    zerolog.Logger

	slots   chan struct{} // a bcrypt check holds one
	waiting atomic.Int32  // requests waiting for a slot

	mu     sync.Mutex
	byAddr map[string]*failures // by client address (an IPv6 client by its /64)
	byUser map[string]*failures // by user name, for the configuration's users
	byName map[string]*failures // by user name, for other names
	good   map[string]passed    // by user name
	key    []byte               // of good's digests, random per process
}

// failures are the failed sign-ins of one address or user name.
type failures struct {
	n     int
	last  time.Time
	until time.Time // refused until then
}

// passed is a password that passed a check, as an HMAC digest.
type passed struct {
	digest []byte
	until  time.Time
}

func newSignIn(l Limits, check func(hash, password []byte) error, now func() time.Time, log zerolog.Logger) *signIn {
	if check == nil {
		check = bcrypt.CompareHashAndPassword
	}
	l = l.withDefaults()
	key := make([]byte, 32)
	rand.Read(key)
	return &signIn{limits: l, check: check, now: now, log: log, slots: make(chan struct{}, l.Checks),
		byAddr: map[string]*failures{}, byUser: map[string]*failures{}, byName: map[string]*failures{},
		good: map[string]passed{}, key: key}
}

// unknownUserHash is checked for a name that is no user, so that names cannot be told
// apart by the time the answer takes.
const unknownUserHash = "$2a$10$CwTycUXWue0Thq9StjUM0uJ8.BCe2d0TBNq2PmrdO1xUy6g2WVcS6"

// authenticate checks name and pass from addr: refused while a back-off holds for the
// address or the name, or when too many checks wait; else the user, or nil.
func (s *signIn) authenticate(ctx context.Context, a *Access, addr netip.Addr, name, pass string) (*User, *refusal) {
	u := a.find(name)
	akey := addrKey(addr)
	now := s.now()
	s.mu.Lock()
	wait := max(s.entry(s.byAddr, akey, now, false).wait(now), s.entry(s.names(u), name, now, false).wait(now))
	good, ok := s.good[name]
	s.mu.Unlock()
	if wait > 0 {
		return nil, &refusal{code: http.StatusTooManyRequests, retry: wait,
			why: "too many failed sign-ins from this address or for this user: try again later"}
	}
	digest := s.digest(pass)
	if u != nil && ok && now.Before(good.until) && hmac.Equal(good.digest, digest) {
		return u, nil
	}
	if !s.acquire(ctx) {
		return nil, &refusal{code: http.StatusServiceUnavailable, retry: time.Second,
			why: "idv is busy checking passwords: try again in a moment"}
	}
	hash := unknownUserHash
	if u != nil {
		hash = u.PasswordHash
	}
	err := s.check([]byte(hash), []byte(pass))
	<-s.slots
	now = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if u != nil && err == nil {
		delete(s.byAddr, akey)
		delete(s.byUser, name)
		s.good[name] = passed{digest: digest, until: now.Add(s.limits.Remember)}
		return u, nil
	}
	n, backoff := 0, time.Duration(0)
	for _, f := range []*failures{s.entry(s.byAddr, akey, now, true), s.entry(s.names(u), name, now, true)} {
		if f != nil {
			f.n, f.last = f.n+1, now
			if f.n >= s.limits.Failures {
				f.until = now.Add(min(s.limits.MaxBackoff, s.limits.Backoff<<min(f.n-s.limits.Failures, 30)))
			}
			n, backoff = max(n, f.n), max(backoff, f.until.Sub(now))
		}
	}
	// The name and the address, never the password.
	ev := s.log.Warn().Str("user", name).Bool("known_user", u != nil).Str("address", addr.String()).Int("failures", n)
	if backoff > 0 {
		ev = ev.Dur("backoff_ms", backoff)
	}
	ev.Msg("sign-in failed")
	return nil, nil
}

// names is the table of failures for a user name: the configuration's users have their
// own, which a flood of made-up names cannot crowd out.
func (s *signIn) names(u *User) map[string]*failures {
	if u != nil {
		return s.byUser
	}
	return s.byName
}

// entry is key's failures in m, forgotten after Forget; with add, made when missing (nil
// when m is full even of failures still remembered).
func (s *signIn) entry(m map[string]*failures, key string, now time.Time, add bool) *failures {
	f := m[key]
	if f != nil && s.forgotten(f, now) {
		delete(m, key)
		f = nil
	}
	if f != nil || !add {
		return f
	}
	if len(m) >= maxTracked {
		for k, old := range m {
			if s.forgotten(old, now) {
				delete(m, k)
			}
		}
		if len(m) >= maxTracked {
			return nil
		}
	}
	f = &failures{}
	m[key] = f
	return f
}

func (s *signIn) forgotten(f *failures, now time.Time) bool {
	return !now.Before(f.until) && now.Sub(f.last) >= s.limits.Forget
}

// wait is how long f's back-off still holds.
func (f *failures) wait(now time.Time) time.Duration {
	if f == nil || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// acquire takes a check slot, waiting in the queue if there is room in it; false when
// there is none or the request ended.
func (s *signIn) acquire(ctx context.Context) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	if s.waiting.Add(1) > int32(s.limits.Queue) {
		s.waiting.Add(-1)
		return false
	}
	defer s.waiting.Add(-1)
	select {
	case s.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *signIn) digest(pass string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(pass))
	return m.Sum(nil)
}

// addrKey is the key of a client address's failures: an IPv6 client has a /64 to itself.
func addrKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
