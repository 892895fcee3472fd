//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package agi

import (
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
