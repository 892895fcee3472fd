package flow

import "testing"

func TestMaskHidesAllButTheLastDigits(t *testing.T) {
	cases := []struct {
		in      string
		visible int
		want    string
	}{
		{"+81312345678", 4, "+*******5678"},
		{"0312345678", 0, "**********"},
		{"0312345678", -1, "0312345678"},
		{"anonymous", 4, "anonymous"},
		{"12", 4, "12"},
	}
	for _, tc := range cases {
		if got := Mask(tc.in, tc.visible); got != tc.want {
			t.Errorf("Mask(%q, %d) = %q, want %q", tc.in, tc.visible, got, tc.want)
		}
	}
}
