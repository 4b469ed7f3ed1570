// Package browsersim holds the browsers connctl's OAuth tests use: Follow, a
// stand-in that walks an authorization as a user clicking "allow" would
// (cookies, redirects, submitting the page's form), and Chromium, the real
// browser driven headless through chromedp. Main makes Follow a $BROWSER
// command for the end-to-end scripts.
//
// Both stop at the client's loopback redirect, load it once (so the client's
// loopback server receives the code) and hand back what that page said. They
// never print or store the code or any token; the authorization URL they are
// given holds neither.
package browsersim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Result is what the browser saw at the client's redirect URI.
type Result struct {
	// CallbackURL is the redirect the authorization server sent the browser
	// to, with its query (code or error, state, maybe iss).
	CallbackURL string
	// StatusCode is the HTTP status of the callback page (0 when Chromium
	// could not tell).
	StatusCode int
	// Body is the callback page: the raw body for Follow, the visible text
	// for Chromium.
	Body string
	// Pages lists, in order, the URLs (without query) of the forms submitted
	// on the way, for test diagnostics.
	Pages []string
}

// Query returns the callback's query parameters.
func (r *Result) Query() url.Values {
	u, err := url.Parse(r.CallbackURL)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

// Option changes how a browser walks the flow.
type Option func(*config)

type config struct {
	button   string
	login    string
	maxSteps int
	client   *http.Client
}

// Deny clicks the button with id "deny" instead of "allow".
func Deny() Option { return func(c *config) { c.button = "deny" } }

// WithHTTPClient makes Follow use c's transport and timeout (its cookie jar
// and redirect policy are replaced).
func WithHTTPClient(c *http.Client) Option { return func(cf *config) { cf.client = c } }

func newConfig(opts []Option) *config {
	c := &config{button: "allow", login: DefaultLogin, maxSteps: 30}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Follow opens authURL as a user would and clicks "allow" (or, with Deny,
// "deny") on every page that has such a button, following redirects with a
// cookie jar, until a redirect points at the client's callback. It then loads
// the callback once and returns what it answered. The callback is the
// authorization request's redirect_uri (same scheme, host, port and path);
// without one, the first loopback redirect to another port than authURL's.
func Follow(ctx context.Context, authURL string, opts ...Option) (*Result, error) {
	cfg := newConfig(opts)
	start, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("browsersim: authorization URL: %w", err)
	}
	isCallback := callbackMatcher(start)

	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: 30 * time.Second}
	if cfg.client != nil {
		c.Transport, c.Timeout = cfg.client.Transport, cfg.client.Timeout
	}
	c.Jar = jar
	var callback *url.URL
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if isCallback(req.URL) {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		if len(via) >= cfg.maxSteps {
			return fmt.Errorf("more than %d redirects", cfg.maxSteps)
		}
		return nil
	}

	res := &Result{}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, start.String(), nil)
	if err != nil {
		return nil, err
	}
	for step := 0; ; step++ {
		if step >= cfg.maxSteps {
			return nil, fmt.Errorf("browsersim: no callback after %d pages", step)
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("browsersim: %s: %w", redact(req.URL), unwrapURLError(err))
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("browsersim: reading %s: %w", redact(resp.Request.URL), err)
		}
		if callback != nil {
			return res, loadCallback(ctx, c, callback, res)
		}
		if isCallback(resp.Request.URL) { // authURL itself was the callback
			callback = resp.Request.URL
			return res, loadCallback(ctx, c, callback, res)
		}
		var next *http.Request
		form, err := findForm(body, cfg.button)
		if err == nil {
			next, err = form.request(ctx, resp.Request.URL)
		} else if dnext, derr := devInteraction(ctx, body, resp.Request.URL, cfg); derr == nil {
			next, err = dnext, nil
		} else {
			return nil, fmt.Errorf("browsersim: at %s (%s): %w; page: %s",
				redact(resp.Request.URL), resp.Status, err, snippet(body))
		}
		if err != nil {
			return nil, fmt.Errorf("browsersim: at %s: %w", redact(resp.Request.URL), err)
		}
		res.Pages = append(res.Pages, redact(resp.Request.URL))
		req = next
	}
}

// loadCallback GETs the callback once, without following its redirects.
func loadCallback(ctx context.Context, c *http.Client, u *url.URL, res *Result) error {
	res.CallbackURL = u.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cc.Do(req)
	if err != nil {
		return fmt.Errorf("browsersim: loading the callback %s: %w", redact(u), unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	res.StatusCode, res.Body = resp.StatusCode, string(b)
	if err != nil {
		return fmt.Errorf("browsersim: reading the callback page: %w", err)
	}
	return nil
}

// callbackMatcher returns a test for "this URL is the client's callback".
func callbackMatcher(auth *url.URL) func(*url.URL) bool {
	if ru, err := url.Parse(auth.Query().Get("redirect_uri")); err == nil && ru.Host != "" {
		return func(u *url.URL) bool {
			return u.Scheme == ru.Scheme && strings.EqualFold(u.Host, ru.Host) && samePath(u.Path, ru.Path)
		}
	}
	return func(u *url.URL) bool {
		return isLoopback(u.Hostname()) && u.Port() != auth.Port() && u.Port() != "" &&
			(u.Query().Has("code") || u.Query().Has("error"))
	}
}

func samePath(a, b string) bool {
	if a == "" {
		a = "/"
	}
	if b == "" {
		b = "/"
	}
	return a == b
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// form is an HTML form ready to submit with one button pressed.
type form struct {
	method, action string
	values         url.Values
}

func (f *form) request(ctx context.Context, base *url.URL) (*http.Request, error) {
	action, err := base.Parse(f.action)
	if err != nil {
		return nil, fmt.Errorf("form action: %w", err)
	}
	if strings.EqualFold(f.method, http.MethodPost) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(f.values.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
	action.RawQuery = f.values.Encode()
	return http.NewRequestWithContext(ctx, http.MethodGet, action.String(), nil)
}

// findForm finds the form holding the button (or submit input) with id
// button and returns it with that button pressed: the form's named inputs
// (hidden, text, checked boxes) plus the button's own name=value.
func findForm(page []byte, button string) (*form, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return nil, err
	}
	var found *form
	var walk func(n *html.Node, f *form) bool
	walk = func(n *html.Node, f *form) bool {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				method := attr(n, "method")
				if method == "" {
					method = http.MethodGet
				}
				f = &form{method: method, action: attr(n, "action"), values: url.Values{}}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if walk(c, f) {
						return true
					}
				}
				return false
			case "input":
				if f != nil {
					typ := strings.ToLower(attr(n, "type"))
					switch {
					case typ == "submit" || typ == "image":
						if attr(n, "id") == button {
							pressButton(f, n)
							found = f
							return true
						}
					case typ == "checkbox" || typ == "radio":
						if hasAttr(n, "checked") && attr(n, "name") != "" {
							f.values.Add(attr(n, "name"), valueOr(n, "on"))
						}
					case attr(n, "name") != "" && typ != "button" && typ != "reset" && typ != "file":
						f.values.Add(attr(n, "name"), attr(n, "value"))
					}
				}
			case "button":
				if f != nil && attr(n, "id") == button {
					pressButton(f, n)
					found = f
					return true
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if walk(c, f) {
				return true
			}
		}
		return false
	}
	walk(doc, nil)
	if found == nil {
		return nil, fmt.Errorf("no form with a button id=%q", button)
	}
	return found, nil
}

// pressButton adds the pressed button's name=value. Inputs after it in the
// form are not collected; the pages here put the buttons last.
func pressButton(f *form, n *html.Node) {
	if name := attr(n, "name"); name != "" {
		f.values.Set(name, attr(n, "value"))
	}
	if a := attr(n, "formaction"); a != "" {
		f.action = a
	}
	if m := attr(n, "formmethod"); m != "" {
		f.method = m
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func valueOr(n *html.Node, def string) string {
	if hasAttr(n, "value") {
		return attr(n, "value")
	}
	return def
}

// redact drops a URL's query and fragment: they carry codes, states and
// challenges that have no place in an error message.
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.RawQuery, c.Fragment, c.User = "", "", nil
	return c.String()
}

// unwrapURLError strips *url.Error, which quotes the full URL.
func unwrapURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// snippet shortens a page for an error message.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		s = "(empty)"
	}
	return s
}
