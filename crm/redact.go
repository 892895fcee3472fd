package crm

import "strings"

// Redact is rawURL with the user and password before the host ("https://user:secret@crm")
// replaced by "xxxxx", for logs and error messages: crm.base_url may carry them, and Go's
// client sends them as HTTP basic authentication. Everything else is kept as written, so
// it takes URL templates ("{base}/customers/{id}") and text that is no URL at all. Where
// rawURL does not parse because the password holds a '/', '?' or '#' that should have been
// escaped, everything up to the last '@' goes.
func Redact(rawURL string) string {
	prefix, rest := "", rawURL
	if i := strings.Index(rawURL, "://"); i > 0 && isScheme(rawURL[:i]) {
		prefix, rest = rawURL[:i+3], rawURL[i+3:]
	}
	// The authority ends at the first '/', '?' or '#' (RFC 3986, as net/url reads it); its
	// user information at its last '@'.
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		if !strings.Contains(rest[end:], "@") || parses(rest[:end]) {
			return rawURL
		}
		at = strings.LastIndexByte(rest, '@')
	}
	return prefix + "xxxxx" + rest[at:]
}

// parses says whether authority is one net/url accepts: a host, and a port of digits
// after its last colon. "user:pa" (from "user:pa/ss@host") is not one.
func parses(authority string) bool {
	i := strings.LastIndexByte(authority, ':')
	if i < 0 || strings.HasSuffix(authority, "]") {
		return true
	}
	for _, r := range authority[i+1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}
