package safehttp

import (
	"net/url"
	"testing"
)

func TestOrigin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://API.example.com/x?y": "https://api.example.com:443",
		"https://api.example.com:443": "https://api.example.com:443",
		"http://127.0.0.1:8080/a":     "http://127.0.0.1:8080",
		"http://[::1]/":               "http://[::1]:80",
	} {
		u, _ := url.Parse(in)
		if got := Origin(u); got != want {
			t.Errorf("Origin(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCheckEndpoint(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"https://idp.example/token":  true,
		"http://127.0.0.1:9/token":   true,
		"http://localhost/token":     true,
		"http://[::1]:5/t":           true,
		"http://idp.example/token":   false,
		"http://127.0.0.1.nip.io/t":  false,
		"https://u:p@idp.example/t":  false,
		"/token":                     false,
		"ftp://idp.example/token":    false,
		"javascript:alert(document)": false,
	} {
		if err := CheckEndpoint("token endpoint", raw); (err == nil) != ok {
			t.Errorf("CheckEndpoint(%s) = %v", raw, err)
		}
	}
}
