package flow

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Lines are the configured service lines: the rules each call runs by.
type Lines struct {
	// ByName holds every line by its name; "default" is always there.
	ByName map[string]*Line
	// DNIS maps a dialled number to the name of its line.
	DNIS map[string]string
}

// DefaultLine is the name of the line that takes every call no other line claims.
const DefaultLine = "default"

// Resolve picks the line of a call: the named line (the ?line= parameter or the first
// AGI argument), else the line whose DNIS is dnid or extension, else "default". A name
// that is not configured is an error and no line: a mistyped ?line=retial must not run
// the default line, which may ask no PIN where retail would.
func (ls Lines) Resolve(name, dnid, extension string) (*Line, error) {
	if name != "" {
		if l, ok := ls.ByName[name]; ok {
			return l, nil
		}
		return nil, fmt.Errorf("service line %q is not configured (lines: %s)", name, strings.Join(ls.Names(), ", "))
	}
	if n, ok := ls.DNIS[dnid]; ok {
		return ls.ByName[n], nil
	}
	if n, ok := ls.DNIS[extension]; ok {
		return ls.ByName[n], nil
	}
	return ls.ByName[DefaultLine], nil
}

// Names are the configured lines' names, sorted.
func (ls Lines) Names() []string {
	names := make([]string, 0, len(ls.ByName))
	for n := range ls.ByName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseRoute, so that a
// configuration decodes routes directly.
func (r *Route) UnmarshalText(text []byte) error {
	route, err := ParseRoute(string(text))
	if err != nil {
		return err
	}
	*r = route
	return nil
}

// MarshalText implements encoding.TextMarshaler with the route's text form.
func (r Route) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Mask stars the digits of a calling number except the last visible ones, the privacy
// rule for numbers in records and logs; other characters (such as "anonymous") stay.
// visible -1 keeps all.
func Mask(s string, visible int) string {
	if visible < 0 {
		return s
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	b := []byte(s)
	for i := 0; i < len(b) && digits > visible; i++ {
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = '*'
			digits--
		}
	}
	return string(b)
}

// DefaultRecordTimeout bounds each write of a record when Runner.RecordTimeout is zero.
const DefaultRecordTimeout = 2 * time.Second
