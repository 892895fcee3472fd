package agi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Limits on what a peer may send in reply to a command. The longest reply Asterisk gives
// to the commands idv sends is GET VARIABLE's, whose value res_agi.c cuts at 1023 bytes
// (its buffer); a 520 usage block is a few lines of a command's documentation.
const (
	// maxReplyLine bounds one reply line, its line end included: 8 KiB, eight times
	// Asterisk's longest. A longer line ends the call, after at most this much plus one
	// read buffer (maxEnvLine) has been read.
	maxReplyLine = 8 << 10
	// maxUsageBlock bounds a whole 520 usage block.
	maxUsageBlock = 64 << 10
	// maxVariable is the longest value Asterisk answers to GET VARIABLE.
	maxVariable = 1023
	// maxPeerText is how much of a peer's text idv quotes in an error, and so in a log
	// line or an interaction record.
	maxPeerText = 200
)

// streamError is a reply stream that broke the protocol beyond repair: no later reply
// could be matched to its command, so the call ends.
type streamError struct{ reason string }

func (e *streamError) Error() string { return e.reason }

var (
	errReplyTooLong = &streamError{fmt.Sprintf("reply line longer than %d bytes", maxReplyLine)}
	errUsageTooLong = &streamError{fmt.Sprintf("520 usage block longer than %d bytes", maxUsageBlock)}
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
//   - Any other line is the reply to the command outstanding. A line with none
//     outstanding (a second reply to one command, or a line sent between commands)
//     would answer the next command and shift every later reply by one: it ends the
//     call (expect).
//   - zaf/agi reads a line whole into memory, however long; replyReader ends the call
//     at a line longer than maxReplyLine.
type replyReader struct {
	r *bufio.Reader
	// waiting, when set, says whether bytes have arrived on the connection that r has
	// not read yet, without reading them.
	waiting  func() bool
	pending  []byte
	long     []byte // a reply line longer than r's buffer, gathered by readLine
	midLine  bool   // the last chunk read ended inside a line
	dropLine bool   // the rest of the current line is not passed on
	inUsage  bool
	hungUp   bool
	awaiting bool // a command was sent and its reply not yet passed on
	line     int  // bytes of the current line read so far
	usage    int  // bytes of the current usage block read so far
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
		f.next()
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

// expect readies the reader for the reply to a command about to be sent. What Asterisk
// sent since the last reply is read first: a HANGUP is dropped as ever; anything else is
// a reply with no command outstanding, and expect returns a *streamError.
func (f *replyReader) expect() error {
	for f.err == nil && len(f.pending) == 0 && (f.midLine || f.r.Buffered() > 0 || f.waiting != nil && f.waiting()) {
		f.next()
	}
	if f.err == nil && len(f.pending) > 0 {
		f.fail(&streamError{"reply text left over from the previous command"})
	}
	if f.err != nil {
		return f.err
	}
	f.awaiting = true
	return nil
}

// next reads one piece of a line (at most the buffer) and decides what of it to pass on.
func (f *replyReader) next() {
	chunk, err := f.r.ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		f.err = err
	}
	if len(chunk) == 0 {
		return
	}
	start := !f.midLine
	if start {
		f.line = 0
	}
	f.line += len(chunk)
	if f.inUsage {
		f.usage += len(chunk)
	}
	f.midLine = chunk[len(chunk)-1] != '\n'
	switch {
	case f.line > maxReplyLine:
		f.fail(errReplyTooLong)
		return
	case f.usage > maxUsageBlock:
		f.fail(errUsageTooLong)
		return
	}
	if start {
		f.dropLine = f.classify(bytes.TrimRight(chunk, "\r\n"))
	}
	if !f.dropLine {
		f.pending = chunk
	}
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
	case !f.awaiting:
		f.fail(&streamError{fmt.Sprintf("reply with no command outstanding: %q", clip(string(text), 80))})
		return true
	}
	f.awaiting = false
	if bytes.HasPrefix(text, []byte("520-")) {
		f.inUsage = true
		f.usage = f.line
		return true
	}
	return false
}

// fail stops the reader: nothing more is passed on, and every read returns err.
func (f *replyReader) fail(err error) {
	f.err = err
	f.pending = nil
	f.dropLine = true
}

// clip keeps at most n bytes of a peer's text, cut at a character boundary, and says
// how much was left out.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

// readLine returns the next reply line, its newline included, as zaf/agi's ReadBytes
// would have read it through Read. A line that arrives in one read of the buffer is
// returned where the buffer holds it, valid until the next read; a longer one is
// gathered in a buffer the reader keeps.
func (f *replyReader) readLine() ([]byte, error) {
	f.long = f.long[:0]
	for {
		for len(f.pending) == 0 {
			if f.err != nil {
				return nil, f.err
			}
			f.next()
		}
		chunk := f.pending
		f.pending = nil
		if chunk[len(chunk)-1] == '\n' {
			if len(f.long) == 0 {
				return chunk, nil
			}
			f.long = append(f.long, chunk...)
			return f.long, nil
		}
		f.long = append(f.long, chunk...)
	}
}

// reply is a parsed reply line: zaf/agi's Reply, with Dat where the line is.
type reply struct {
	Res int
	Dat []byte
}

// Errors of parseReply, worded as zaf/agi's parseResponse words them.
var (
	errUnknownCommand = errors.New("invalid or unknown command")
	errDeadChannel    = errors.New("command not permitted on a dead channel")
	errSyntax         = errors.New("invalid command syntax")
	errHangupReply    = errors.New("HANGUP")
)

// parseReply parses a reply line (its last byte, the newline, is dropped) as zaf/agi
// v1.3.0's parseResponse does, the same result and data for the same bytes and the same
// error text, without copying the line. A "520-" line is never passed on (replyReader
// folds usage blocks), so parseResponse's extra read after one is not needed.
func parseReply(line []byte) (reply, error) {
	var r reply
	line = line[:len(line)-1]
	ind := bytes.IndexByte(line, ' ')
	if ind <= 0 || ind == len(line)-1 {
		if string(line) == "HANGUP" {
			return r, errHangupReply
		}
		return r, fmt.Errorf("malformed or partial agi response: %s", line)
	}
	var err error
	switch string(line[:ind]) {
	case "200":
		eqInd := bytes.IndexByte(line, '=')
		if eqInd == len("200 result") && eqInd < len(line)-1 {
			line = line[eqInd+1:]
			spInd := bytes.IndexByte(line, ' ')
			if spInd < 0 {
				r.Res, err = atoi(line)
				return r, err
			} else if spInd > 0 && spInd < len(line)-1 {
				r.Res, err = atoi(line[:spInd])
				r.Dat = line[spInd+1:]
				return r, err
			}
		}
		err = fmt.Errorf("malformed 200 response: %s", line)
	case "510":
		err = errUnknownCommand
	case "511":
		err = errDeadChannel
	case "520", "520-Invalid":
		err = errSyntax
	default:
		err = fmt.Errorf("malformed or partial agi response: %s", line)
	}
	return r, err
}

// atoi is strconv.Atoi of b, wrapped as zaf/agi wraps its error, without making a string
// of b for the usual result: digits that cannot overflow an int, with or without a sign.
func atoi(b []byte) (int, error) {
	s := b
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if len(s) > 0 && (len(s) <= 9 || strconv.IntSize == 64 && len(s) <= 18) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		if n >= 0 {
			if b[0] == '-' {
				n = -n
			}
			return n, nil
		}
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		err = fmt.Errorf("failed to parse AGI 200 reply: %v", err)
	}
	return n, err
}
