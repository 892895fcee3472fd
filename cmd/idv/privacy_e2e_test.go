package main

import (
	"strings"
	"testing"

	"github.com/idv-project/idv/agi/agitest"
)

func TestPrivacySettings(t *testing.T) {
	t.Run("by default the calling number is masked and the typed identifier is not kept", func(t *testing.T) {
		h := newHarness(t, "")
		_, in := h.call(agitest.Caller{ANI: "+81399999999", Keys: "100235#"})
		if in.ANI != "+*******9999" || in.ANIE164 != "+*******9999" || in.Identifier != "" {
			t.Errorf("record ANI %q / %q identifier %q", in.ANI, in.ANIE164, in.Identifier)
		}
		if strings.Contains(h.logs.String(), "81399999999") {
			t.Error("the full calling number is in the log")
		}
	})
	t.Run("configured to keep them", func(t *testing.T) {
		h := newHarness(t, "", "[privacy]\nani_visible_digits = -1\nrecord_identifier = true")
		_, in := h.call(agitest.Caller{ANI: "+81399999999", Keys: "100235#"})
		if in.ANI != "+81399999999" || in.Identifier != "100235" {
			t.Errorf("record ANI %q identifier %q", in.ANI, in.Identifier)
		}
	})
}
