package loadtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestListenAndServeBaselineEndsWithItsContext: the baseline child stops cleanly when
// the load test ends it (SIGTERM cancels the context), not with an error.
func TestListenAndServeBaselineEndsWithItsContext(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sequences.json")
	if err := (Sequences{"ani": sequence}).Save(file); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ListenAndServeBaseline(ctx, "127.0.0.1:0", file); err != nil {
		t.Errorf("after cancel: %v", err)
	}
}

// TestListenAndServeBaselineNamesAMissingSequencesFile: the error says which file.
func TestListenAndServeBaselineNamesAMissingSequencesFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "nosuch.json")
	if err := ListenAndServeBaseline(context.Background(), "127.0.0.1:0", file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("err = %v, want one naming %s", err, file)
	}
}
