//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package agi

import "net"

// unread cannot look at the socket here: only what the reader already buffered counts.
func unread(net.Conn) bool { return false }

// openFileLimit is unknown here: no connection cap by default.
func openFileLimit() int { return 0 }
