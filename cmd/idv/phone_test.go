package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyReader collects what the program writes to its terminal and lets the test wait for
// a piece of text.
type ptyReader struct {
	chunks chan []byte
	seen   bytes.Buffer
}

func (p *ptyReader) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for !strings.Contains(p.seen.String(), text) {
		select {
		case c, ok := <-p.chunks:
			if !ok {
				t.Fatalf("terminal closed before %q; it showed:\n%s", text, p.seen.String())
			}
			p.seen.Write(c)
		case <-deadline:
			t.Fatalf("terminal never showed %q; it showed:\n%s", text, p.seen.String())
		}
	}
}

// TestTerminalPhone drives `idv call -i` through a pseudo-terminal as a person would: it
// waits for the PIN prompt's text, types the keys, and reads the outcome.
func TestTerminalPhone(t *testing.T) {
	h := newHarness(t, "")
	cmd := exec.Command(idvBinary(t), "call", "-i", "-addr", h.addr, "-ani", "+442079460000", "-sounds", "../../sounds")
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	r := &ptyReader{chunks: make(chan []byte, 100)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			if n > 0 {
				r.chunks <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				close(r.chunks)
				return
			}
		}
	}()
	r.waitFor(t, "type 0-9 * # on the keypad")
	r.waitFor(t, "Please enter your PIN, followed by the hash key.")
	io.WriteString(tty, "4321#") // raw mode: each key counts at once, no Enter
	r.waitFor(t, "AGISTATUS=SUCCESS")
	if err := cmd.Wait(); err != nil {
		t.Errorf("idv call -i: %v", err)
	}
	for _, want := range []string{"⌨ 1", "⌨ #", "♪ [en] idv/welcome", "__IDV_STATUS=VERIFIED", "__IDV_CUSTOMER_NAME=John Smith", "EXEC Queue(support,,,,300)"} {
		if !strings.Contains(r.seen.String(), want) {
			t.Errorf("terminal lacks %q:\n%s", want, r.seen.String())
		}
	}
}
