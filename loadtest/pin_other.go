//go:build !linux

package loadtest

import "errors"

// pinSelf is Linux only.
func pinSelf(string) error { return errors.New("pinning to CPUs needs Linux") }
