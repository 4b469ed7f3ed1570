package mixpanel

import "testing"

func TestMixpanelBase(t *testing.T) {
	t.Parallel()
	tests := []struct{ region, base, want string }{
		{"us", "", "https://mixpanel.com"},
		{"eu", "", "https://eu.mixpanel.com"},
		{"in", "", "https://in.mixpanel.com"},
		{"us", "https://data-in.mixpanel.com", "https://in.mixpanel.com"},
		{"us", "https://data.mixpanel.com", "https://mixpanel.com"},
		{"eu", "http://127.0.0.1:8080/mp", "http://127.0.0.1:8080/mp"},
	}
	for _, tc := range tests {
		got, err := mixpanelBase(tc.region, tc.base)
		if err != nil || got != tc.want {
			t.Errorf("mixpanelBase(%q, %q) = %q, %v; want %q", tc.region, tc.base, got, err, tc.want)
		}
	}
	if _, err := mixpanelBase("mars", ""); err == nil {
		t.Error("mixpanelBase accepted region mars")
	}
}
