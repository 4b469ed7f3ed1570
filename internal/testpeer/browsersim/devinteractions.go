package browsersim

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// LoginEnv names the login Main types on a sign-in page that asks for one
// (oidc-provider's devInteractions); default DefaultLogin.
const LoginEnv = "CONNCTL_TEST_BROWSER_LOGIN"

// DefaultLogin is the login typed unless Login says otherwise.
const DefaultLogin = "alice@example.com"

// Login types login on sign-in pages that ask for one.
func Login(login string) Option { return func(c *config) { c.login = login } }

// devInteraction answers the development login and consent pages of panva's
// oidc-provider, which have no button ids: a form with a hidden
// prompt=login (type the login and any password) or prompt=consent (submit
// it), and a "[ Cancel ]" link to …/abort that denies. It returns the next
// request, or an error when page is not such a page.
func devInteraction(ctx context.Context, page []byte, base *url.URL, cfg *config) (*http.Request, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return nil, err
	}
	var action, method, prompt, abort string
	var walk func(n *html.Node, inForm bool, formAction, formMethod string)
	walk = func(n *html.Node, inForm bool, formAction, formMethod string) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				inForm, formAction, formMethod = true, attr(n, "action"), attr(n, "method")
			case "input":
				if inForm && attr(n, "type") == "hidden" && attr(n, "name") == "prompt" && prompt == "" {
					prompt, action, method = attr(n, "value"), formAction, formMethod
				}
			case "a":
				if href := attr(n, "href"); strings.HasSuffix(href, "/abort") && abort == "" {
					abort = href
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inForm, formAction, formMethod)
		}
	}
	walk(doc, false, "", "")
	if prompt != "login" && prompt != "consent" {
		return nil, errors.New("not an oidc-provider login or consent page")
	}
	if cfg.button == "deny" {
		if abort == "" {
			return nil, errors.New("the page has no …/abort link to deny with")
		}
		f := &form{method: http.MethodGet, action: abort, values: url.Values{}}
		return f.request(ctx, base)
	}
	if method == "" {
		method = http.MethodGet
	}
	f := &form{method: method, action: action, values: url.Values{"prompt": {prompt}}}
	if prompt == "login" {
		f.values.Set("login", cfg.login)
		f.values.Set("password", "any password will do")
	}
	return f.request(ctx, base)
}
