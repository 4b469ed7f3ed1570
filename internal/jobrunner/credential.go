package jobrunner

import (
	"context"
	"net/http"
)

// Credential is the Authorization header a source sends with every request
// of a run, and, for a token that can be renewed (OAuth), how to renew it.
// Its Do sends a request with the header and, when the vendor answers 401
// and the token can be renewed, asks for a new token once and sends the
// same request again: the loop every OAuth source would otherwise repeat.
//
// A Credential keeps the current token between requests, so after a renewal
// the later pages of the run carry the new one. It is not safe for
// concurrent use.
type Credential struct {
	scheme string // "Bearer", "Zoho-oauthtoken": the header is scheme + " " + token
	header string // the Authorization value to send; "" until the first token
	// token returns the access token; with force a renewed one. nil: the
	// header is fixed and a 401 is final.
	token func(ctx context.Context, force bool) (string, error)
}

// StaticCredential returns a Credential that sends header as it is (an API
// key's "Basic …" or a private app's "Bearer …") and never renews it: a 401
// is returned as the final answer.
func StaticCredential(header string) *Credential {
	return &Credential{header: header}
}

// OAuthCredential returns a Credential for an OAuth connection: it sends
// scheme + " " + the access token from req.AccessToken(ctx, false), got
// now so that a connection without one fails before the first request,
// and after a 401 renews it once with req.AccessToken(ctx, true). The
// error is AccessToken's, as it returned it (a *Failure or ctx's error).
func OAuthCredential(ctx context.Context, req Request, scheme string) (*Credential, error) {
	tok, err := req.AccessToken(ctx, false)
	if err != nil {
		return nil, err
	}
	return &Credential{scheme: scheme, header: scheme + " " + tok, token: req.AccessToken}, nil
}

// TokenCredential returns a Credential that sends scheme + " " + the token
// that token returns, asked for (force false) at the first Do and kept, and
// renewed (force true) once after a 401. It serves a source that gets its
// token another way than Request.AccessToken (a service account's signed
// JWT exchange, say). token's errors are returned by Do as they are.
func TokenCredential(scheme string, token func(ctx context.Context, force bool) (string, error)) *Credential {
	return &Credential{scheme: scheme, token: token}
}

// Send sends the request that build returns through h, with the
// Authorization header set to the credential, and returns what h.Do
// returns as an Answer: the status, header and body of the final answer
// (also with a *Failure for an error answer, so the source can read the
// vendor's error: see Vendor.Describe) and the error.
//
// When the answer is 401 and the credential's token can be renewed, Send
// asks for a renewed token once, keeps it, calls build again for a fresh
// request (with a fresh body) and sends that; Answer.Refreshed reports that
// the final answer came after such a renewal, so a second 401 can be worded
// "again after refreshing the access token". Only status 401 triggers the
// renewal: other error answers are returned at once.
//
// An error from build or from getting the token is returned as it is, with
// status 0, no header and no body, like a transport error or cancellation
// from h.Do; Refreshed then says whether a renewal had succeeded before
// build failed (false when getting the token failed).
func (c *Credential) Send(ctx context.Context, h *HTTP, build func() (*http.Request, error)) (Answer, error) {
	if c.header == "" && c.token != nil {
		tok, err := c.token(ctx, false)
		if err != nil {
			return Answer{}, err
		}
		c.header = c.scheme + " " + tok
	}
	refreshed := false
	for {
		r, err := build()
		if err != nil {
			return Answer{Refreshed: refreshed}, err
		}
		r.Header.Set("Authorization", c.header)
		status, header, body, err := h.Do(ctx, r)
		if err == nil || status != http.StatusUnauthorized || c.token == nil || refreshed {
			return Answer{Status: status, Header: header, Body: body, Refreshed: refreshed}, err
		}
		tok, err := c.token(ctx, true)
		if err != nil {
			return Answer{}, err
		}
		c.header, refreshed = c.scheme+" "+tok, true
	}
}

// Do is Send with the Answer's fields returned one by one.
func (c *Credential) Do(ctx context.Context, h *HTTP, build func() (*http.Request, error)) (status int, header http.Header, body []byte, refreshed bool, err error) {
	a, err := c.Send(ctx, h, build)
	return a.Status, a.Header, a.Body, a.Refreshed, err
}
