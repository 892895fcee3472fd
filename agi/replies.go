package agi

import (
	"bufio"
	"bytes"
	"errors"
)

// replyReader sits between the socket and github.com/zaf/agi and hands it exactly one
// reply line per command, which zaf/agi v1.3.0 cannot ensure on its own:
//
//   - Asterisk's "HANGUP" line is a notification that may arrive at any moment — often
//     after the next command was sent and before its reply (see
//     docs/agi.md). zaf/agi would take it for that command's reply
//     and every later reply would belong to the command before. replyReader removes it
//     and remembers that the caller hung up.
//   - A "520-" usage reply spans several lines ending with "520 End of proper usage.";
//     zaf/agi reads only two of them. replyReader folds the block into one "520" line.
type replyReader struct {
	r        *bufio.Reader
	pending  []byte
	midLine  bool // the last chunk read ended inside a line
	dropLine bool // the rest of the current line is not passed on
	inUsage  bool
	hungUp   bool
	err      error
}

var (
	hangupLine = []byte("HANGUP")
	usageLine  = []byte("520 Invalid command syntax (usage text dropped)\n")
)

func (f *replyReader) Read(p []byte) (int, error) {
	for len(f.pending) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		chunk, err := f.r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			f.err = err
		}
		if len(chunk) == 0 {
			continue
		}
		start := !f.midLine
		f.midLine = chunk[len(chunk)-1] != '\n'
		if start {
			f.dropLine = f.classify(bytes.TrimRight(chunk, "\r\n"))
		}
		if !f.dropLine {
			f.pending = chunk
		}
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

// classify looks at the start of a line and says whether to drop it.
func (f *replyReader) classify(text []byte) bool {
	switch {
	case f.inUsage:
		if bytes.HasPrefix(text, []byte("520 ")) {
			f.inUsage = false
			f.pending = usageLine
		}
		return true
	case bytes.Equal(text, hangupLine):
		f.hungUp = true
		return true
	case bytes.HasPrefix(text, []byte("520-")):
		f.inUsage = true
		return true
	}
	return false
}
