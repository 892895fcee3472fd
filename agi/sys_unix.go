//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package agi

import (
	"math"
	"net"
	"syscall"
)

// unreadOn returns a check of whether bytes have arrived on conn that nobody has read
// yet, without waiting for them or consuming them (recv with MSG_PEEK). The socket is
// looked up once per connection, not per check: the check runs before every command.
func unreadOn(conn net.Conn) func() bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() bool { return false }
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() bool { return false }
	}
	var n int
	var b [1]byte
	peek := func(fd uintptr) bool {
		n, _, _ = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait
	}
	return func() bool {
		n = 0
		raw.Read(peek)
		return n > 0
	}
}

// openFileLimit is the process's limit on open files (RLIMIT_NOFILE, which Go raises to
// the hard limit at start-up), 0 when unknown.
func openFileLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	if cur := uint64(l.Cur); cur < math.MaxInt32 {
		return int(cur)
	}
	return math.MaxInt32
}
