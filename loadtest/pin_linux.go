package loadtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// pinSelf runs every thread of this process on the CPUs of list (taskset's syntax:
// "0", "0-1", "0,2"). Threads the runtime starts later are created by pinned threads and
// inherit it.
func pinSelf(list string) error {
	var mask [16]uint64 // 1,024 CPUs
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= len(mask)*64 {
			return fmt.Errorf("CPU list %q: want numbers and ranges, e.g. 0-1,3", list)
		}
		for c := a; c <= b; c++ {
			mask[c/64] |= 1 << (c % 64)
		}
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if _, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(mask),
			uintptr(unsafe.Pointer(&mask))); errno != 0 {
			return errno
		}
	}
	return nil
}
