//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package agi

import (
	"math"
	"net"
	"syscall"
)

// unread reports whether bytes have arrived on conn that nobody has read yet, without
// waiting for them or consuming them (recv with MSG_PEEK).
func unread(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var n int
	var b [1]byte
	raw.Read(func(fd uintptr) bool {
		n, _, _ = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait
	})
	return n > 0
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
