package loadtest

import "syscall"

// raiseFileLimit lifts the open-file limit for this process and the servers it starts
// (each call in progress is a socket on both sides) and returns the limit now in force.
func raiseFileLimit(conc int) uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	want := uint64(conc) + 1024
	if lim.Max < want && syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}) == nil {
		return want
	}
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}
