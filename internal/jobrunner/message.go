package jobrunner

import (
	"errors"
	"strings"
)

// WithPrefix returns err with "name: " put before its message when err is
// itself a *Failure whose message does not start so already (a source's
// failures name the source); any other error is returned as it is.
func WithPrefix(name string, err error) error {
	var f *Failure
	if errors.As(err, &f) && f == err && !strings.HasPrefix(f.Message, name+": ") {
		return &Failure{Reason: f.Reason, Message: name + ": " + f.Message}
	}
	return err
}

// Clip collapses white space in a vendor's error text and cuts it to at
// most n runes, marking a cut with "…", so that it fits a one-line message.
func Clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
