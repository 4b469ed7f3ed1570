package hydra

import (
	"strings"
	"testing"
)

func TestRedactWriter(t *testing.T) {
	var out strings.Builder
	w := &redactWriter{w: &out}
	in := "a location:http://127.0.0.1:1/callback?code=ory_ac_X.Y&scope=openid+email&state=s pragma:no-cache]\n" +
		"b location:http://127.0.0.1:1/cb#access_token=ory_at_Z&token_type=bearer\n" +
		"c http://x/?state=1&refresh_token=ory_rt_W] end"
	for _, chunk := range []string{in[:30], in[30:100], in[100:]} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "a location:http://127.0.0.1:1/callback?code=REDACTED&scope=openid+email&state=s pragma:no-cache]\n" +
		"b location:http://127.0.0.1:1/cb#access_token=REDACTED&token_type=bearer\n" +
		"c http://x/?state=1&refresh_token=REDACTED] end"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
