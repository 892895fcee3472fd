package loadtest

import (
	"syscall"
	"testing"
)

// TestRaiseFileLimitReturnsTheLimitInForce: the soft limit rises at least to the hard
// one, and the number returned (which decides the warning) is the one now in force.
func TestRaiseFileLimitReturnsTheLimitInForce(t *testing.T) {
	var before, after syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &before); err != nil {
		t.Fatal(err)
	}
	got := raiseFileLimit(100)
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &after); err != nil {
		t.Fatal(err)
	}
	if got != after.Cur {
		t.Errorf("raiseFileLimit = %d, but the limit in force is %d", got, after.Cur)
	}
	if after.Cur < before.Max {
		t.Errorf("soft limit %d, below the hard limit %d it could have been raised to", after.Cur, before.Max)
	}
}
