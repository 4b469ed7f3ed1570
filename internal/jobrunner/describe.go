package jobrunner

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Answer is the final answer to a request a source sent: its status, header
// and, for an error answer, its body, as HTTP.Do returns them with a
// *Failure, so that the source can read the vendor's error. Status 0 means
// there was no answer (a transport error, cancellation, a request or token
// that could not be had).
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Refreshed reports that the answer came after Credential.Send renewed
	// the access token, so that a second 401 is worded as such.
	Refreshed bool
}

// Vendor says how a vendor's error answers read, for Describe: what every
// source of a connector would otherwise write out again.
type Vendor struct {
	// Name names the source in its messages ("zoho": "zoho: GET …").
	Name string
	// Explain, when non-nil, adds what the vendor's error answer says to f,
	// the failure Describe will return (its message already named): it may
	// append to f.Message (the vendor's code and message, clipped with Clip,
	// or a hint for the user) and change f.Reason (a 400 for a field that
	// does not exist is config). What it adds must hold no secret.
	Explain func(a Answer, f *Failure)
}

// Describe returns the error a source reports for err, the error of a
// request that ended with answer a (from Credential.Send or HTTP.Do). An
// error without an answer (status 0) or that is not a *Failure is returned
// with the vendor's name put before it (WithPrefix). A failed answer
// becomes a new *Failure: the vendor's name, the HTTP client's message,
// what Explain adds, and for a 401 after a renewed token " (again after
// refreshing the access token)".
func (v Vendor) Describe(err error, a Answer) error {
	var f *Failure
	if !errors.As(err, &f) || a.Status == 0 {
		return WithPrefix(v.Name, err)
	}
	out := &Failure{Reason: f.Reason, Message: v.Name + ": " + f.Message}
	if v.Explain != nil {
		v.Explain(a, out)
	}
	if a.Status == http.StatusUnauthorized && a.Refreshed {
		out.Message += " (again after refreshing the access token)"
	}
	return out
}

// BaseURL parses raw, the API base a connection's fields give (what names
// it in the message: "base_url", "API base"): an http or https URL with a
// host and without query or fragment. Anything else is a config Failure,
// `<name>: <what> "<raw>" is not an http(s) URL`.
func (v Vendor) BaseURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, &Failure{Reason: ReasonConfig, Message: fmt.Sprintf("%s: %s %q is not an http(s) URL", v.Name, what, raw)}
	}
	return u, nil
}

// Where names r in a message about its answer: "<name>: GET host/path",
// without the query, which may carry a key or a cursor.
func (v Vendor) Where(r *http.Request) string {
	return v.Name + ": " + r.Method + " " + r.URL.Host + r.URL.EscapedPath()
}
