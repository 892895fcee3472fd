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
//     shared/docs/asterisk-agi-wire.md). zaf/agi would take it for that command's reply
//     and every later reply would belong to the command before. replyReader removes it
//     and remembers that the caller hung up.
//   - A "520-" usage reply spans several lines ending with "520 End of proper usage.";
//     zaf/agi reads only two of them. replyReader folds the block into one "520" line.
type replyReader struct {
	r       *bufio.Reader
	pending []byte
	midLine bool // the last line served was cut by the buffer size
	inUsage bool
	hungUp  bool
	err     error
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
		line, err := f.r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			f.err = err
		}
		if len(line) == 0 {
			continue
		}
		whole := !f.midLine
		f.midLine = line[len(line)-1] != '\n'
		if !whole {
			if !f.inUsage {
				f.pending = line
			}
			continue
		}
		text := bytes.TrimRight(line, "\r\n")
		switch {
		case f.inUsage:
			if bytes.HasPrefix(text, []byte("520 ")) {
				f.inUsage = false
				f.pending = usageLine
			}
		case bytes.Equal(text, hangupLine):
			f.hungUp = true
		case bytes.HasPrefix(text, []byte("520-")):
			f.inUsage = true
		default:
			f.pending = line
		}
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}
