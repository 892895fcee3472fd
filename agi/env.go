package agi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Env limits: Asterisk sends about 25 lines; anything far beyond is not Asterisk.
const (
	maxEnvLines = 200
	maxEnvLine  = 4096
)

// Env is the agi_* environment block Asterisk sends when it connects, keyed without the
// "agi_" prefix, as github.com/zaf/agi keeps it.
type Env map[string]string

// ErrNothingSent is ReadEnv's error for a peer that closed the connection without
// sending a byte: a TCP health check (a load balancer's, a monitoring probe's), not a
// malformed environment.
var ErrNothingSent = errors.New("agi environment: the peer closed the connection without sending anything")

// ReadEnv reads the environment block up to its blank line. Lines must be
// "agi_name: value"; a malformed block is an error that names the offending line.
//
// The names and values are cut from one string holding the block, not made a string
// each: one allocation for some fifty. Control characters in a value are dropped.
func ReadEnv(r *bufio.Reader) (Env, error) {
	// block holds each line's name and value back to back; spans say where.
	block := make([]byte, 0, 1024)
	type span struct{ key, value, end int }
	spans := make([]span, 0, 32)
	for n := 1; ; n++ {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("agi environment line %d longer than %d bytes", n, r.Size())
		}
		if err != nil {
			if len(line) > 0 || n > 1 {
				return nil, fmt.Errorf("agi environment ended before its blank line (line %d): %w", n, err)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) { // a check that closes with a reset (SO_LINGER 0)
				return nil, ErrNothingSent
			}
			return nil, fmt.Errorf("agi environment: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if n > maxEnvLines {
			return nil, fmt.Errorf("agi environment longer than %d lines", maxEnvLines)
		}
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !bytes.HasPrefix(key, []byte("agi_")) || len(key) == len("agi_") || !printable(key) {
			return nil, fmt.Errorf("agi environment line %d is not \"agi_name: value\": %q", n, truncate(line, 80))
		}
		sp := span{key: len(block)}
		block = append(block, key[len("agi_"):]...)
		sp.value = len(block)
		// Asterisk sends no control characters in a value; a stray client's (a CR, a NUL)
		// are dropped here, before a value can reach a record, a log or a page.
		for _, c := range bytes.TrimPrefix(value, []byte(" ")) {
			if c >= ' ' && c != 0x7f {
				block = append(block, c)
			}
		}
		sp.end = len(block)
		spans = append(spans, sp)
	}
	all := string(block)
	env := make(Env, len(spans)) // sized to what came: a map sized for more costs a kilobyte per call held
	for _, sp := range spans {
		env[all[sp.key:sp.value]] = all[sp.value:sp.end]
	}
	if env["request"] == "" && env["network_script"] == "" {
		return nil, errors.New("agi environment has neither agi_request nor agi_network_script")
	}
	return env, nil
}

func printable(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Request is what the dialplan asked for: AGI(agi://host/SCRIPT?QUERY,ARG1,ARG2…).
type Request struct {
	Script string
	Query  url.Values
	Args   []string
}

// ParseRequest reads the script, its query and the AGI arguments from the environment.
func (e Env) ParseRequest() (Request, error) {
	raw := e["network_script"]
	if raw == "" {
		u, err := url.Parse(e["request"])
		if err != nil {
			return Request{}, fmt.Errorf("agi_request %q: %w", e["request"], err)
		}
		raw = strings.TrimPrefix(u.Path, "/")
		if u.RawQuery != "" {
			raw += "?" + u.RawQuery
		}
	}
	path, query, _ := strings.Cut(raw, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return Request{}, fmt.Errorf("agi request %q: query: %w", raw, err)
	}
	req := Request{Script: strings.Trim(path, "/"), Query: q}
	var args []int
	for k := range e {
		if n, ok := strings.CutPrefix(k, "arg_"); ok {
			if i, err := strconv.Atoi(n); err == nil && i > 0 {
				args = append(args, i)
			}
		}
	}
	sort.Ints(args)
	for _, i := range args {
		req.Args = append(req.Args, e["arg_"+strconv.Itoa(i)])
	}
	return req, nil
}

// Presentation is agi_callingpres as a number, 0 (allowed) when absent or garbled.
func (e Env) Presentation() int {
	n, _ := strconv.Atoi(e["callingpres"])
	return n
}
