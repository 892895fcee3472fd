//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package agi

import "net"

// unreadOn cannot look at the socket here: only what the reader already buffered counts.
func unreadOn(net.Conn) func() bool { return func() bool { return false } }

// openFileLimit is unknown here: no connection cap by default.
func openFileLimit() int { return 0 }
