package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	zagi "github.com/zaf/agi"

	"github.com/idv-project/idv/agi/agitest"
)

// Sequences are the AGI command lines idv sent for one call of each scenario, by
// scenario name: what the baseline server sends back for the same calls.
type Sequences map[string][]string

// BaselineScript is the script a call of this scenario asks the baseline server for.
func BaselineScript(sc Scenario) string { return "baseline/" + sc.Name }

// Capture plays one call of each scenario of the mix against the server at target and
// keeps the commands it sent. Each call must end as its scenario expects.
func Capture(ctx context.Context, target, script string, mix []Scenario) (Sequences, error) {
	seqs, _, err := capture(ctx, target, script, mix)
	return seqs, err
}

// capture is Capture that also returns each call's IDV_INTERACTION by scenario name.
func capture(ctx context.Context, target, script string, mix []Scenario) (Sequences, map[string]string, error) {
	seqs, ids := Sequences{}, map[string]string{}
	for _, sc := range mix {
		res, err := agitest.Caller{Script: script, ANI: sc.ANI, Keys: sc.Keys}.Call(ctx, target)
		if err != nil {
			return nil, nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
		if kind := sc.check(res); kind != "" {
			return nil, nil, fmt.Errorf("scenario %s: %s (IDV_STATUS %q, AGISTATUS %s)", sc.Name, kind, res.Var("IDV_STATUS"), res.AGIStatus)
		}
		for _, c := range res.Commands {
			seqs[sc.Name] = append(seqs[sc.Name], c.Line)
		}
		ids[sc.Name] = res.Var("IDV_INTERACTION")
	}
	return seqs, ids, nil
}

// Save writes the sequences as JSON.
func (s Sequences) Save(path string) error { return saveJSON(path, s) }

// LoadSequences reads what Save wrote.
func LoadSequences(path string) (Sequences, error) { return loadJSON[Sequences](path) }

// saveJSON writes v as JSON to a file only its owner reads.
func saveJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// loadJSON reads what saveJSON wrote.
func loadJSON[T any](path string) (T, error) {
	var v T
	b, err := os.ReadFile(path)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ServeBaseline is the bare FastAGI server a load run compares idv with: plain
// github.com/zaf/agi, one goroutine per call, sending the commands of the call's
// scenario ("baseline/NAME") one after the other and reading each reply, with no flow,
// CRM or store. It returns when the listener is closed.
func ServeBaseline(ln net.Listener, seqs Sequences) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go func() {
			defer conn.Close()
			a := zagi.New()
			if a.Init(bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn))) != nil {
				return
			}
			name := strings.TrimPrefix(a.Env["network_script"], "baseline/")
			for _, line := range seqs[name] {
				if _, err := a.RawCommand(line); err != nil && (errors.Is(err, io.EOF) || isNetError(err)) {
					return
				}
			}
			// After a HANGUP zaf leaves a reply unread; closing with unread bytes would
			// reset the connection. End our side, then read until Asterisk closes its own.
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.CloseWrite()
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				io.Copy(io.Discard, conn)
			}
		}()
	}
}

// ListenAndServeBaseline serves the baseline on addr with the sequences Save wrote to
// file, until ctx is done: the process the load test starts for its -baseline run.
func ListenAndServeBaseline(ctx context.Context, addr, file string) error {
	seqs, err := LoadSequences(file)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer context.AfterFunc(ctx, func() { ln.Close() })()
	return ServeBaseline(ln, seqs)
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
