package hydra

import (
	"bytes"
	"io"
	"regexp"
	"sync"
)

// secretParam matches OAuth secrets in a URL query or fragment. Hydra v2.3.0
// logs each response's Location header even with log.leak_sensitive_values
// off, and the redirect back to the client carries the authorization code
// (code=ory_ac_…). connctl's tests scan every file they leave for secrets, so
// the log is written through redactWriter.
var secretParam = regexp.MustCompile(`([?&#](?:code|access_token|refresh_token|id_token)=)[^&\s\]"]+`)

// redactWriter writes whole lines to w with secretParam values replaced.
type redactWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (r *redactWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	if i := bytes.LastIndexByte(r.buf, '\n'); i >= 0 {
		if _, err := r.w.Write(redact(r.buf[:i+1])); err != nil {
			return 0, err
		}
		r.buf = append(r.buf[:0], r.buf[i+1:]...)
	}
	return len(p), nil
}

// Flush writes a last line that has no newline.
func (r *redactWriter) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		return nil
	}
	_, err := r.w.Write(redact(r.buf))
	r.buf = r.buf[:0]
	return err
}

func redact(b []byte) []byte { return secretParam.ReplaceAll(b, []byte("${1}REDACTED")) }
