package hydra

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// app is the login and consent app Hydra sends the browser to. Its pages are
// small HTML forms with two buttons, id "allow" and id "deny", so that
// browsersim and a real browser click through them alike. It signs in the
// configured subject without asking for a password, and never remembers a
// login or a consent, so that every authorization shows both pages.
type app struct {
	url  string // http://127.0.0.1:<port>
	srv  *http.Server
	http *http.Client

	mu      sync.Mutex
	admin   string // Hydra's admin URL, known once Hydra has ports
	subject string
	deny    bool
}

func startApp(subject string) (*app, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &app{
		url:     "http://" + l.Addr().String(),
		http:    &http.Client{Timeout: 10 * time.Second},
		subject: subject,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", a.loginPage)
	mux.HandleFunc("POST /login", a.loginSubmit)
	mux.HandleFunc("GET /consent", a.consentPage)
	mux.HandleFunc("POST /consent", a.consentSubmit)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(l) }()
	return a, nil
}

func (a *app) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.srv.Shutdown(ctx); err != nil {
		_ = a.srv.Close()
	}
}

func (a *app) setAdmin(u string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.admin = u
}

func (a *app) setSubject(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.subject = s
}

func (a *app) getSubject() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.subject
}

func (a *app) setDeny(d bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deny = d
}

func (a *app) state() (admin, subject string, deny bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.admin, a.subject, a.deny
}

// loginRequest and consentRequest are the parts of Hydra's answers the app uses.
type loginRequest struct {
	Skip           bool     `json:"skip"`
	Subject        string   `json:"subject"`
	RequestedScope []string `json:"requested_scope"`
	Client         struct {
		ClientID   string `json:"client_id"`
		ClientName string `json:"client_name"`
	} `json:"client"`
}

type consentRequest struct {
	Skip                         bool     `json:"skip"`
	Subject                      string   `json:"subject"`
	RequestedScope               []string `json:"requested_scope"`
	RequestedAccessTokenAudience []string `json:"requested_access_token_audience"`
	Client                       struct {
		ClientID   string `json:"client_id"`
		ClientName string `json:"client_name"`
	} `json:"client"`
}

type redirect struct {
	RedirectTo string `json:"redirect_to"`
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body class="{{.Step}}">
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Scopes}}<ul id="scopes">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<form method="post" action="/{{.Step}}">
<input type="hidden" name="challenge" value="{{.Challenge}}">
<button type="submit" id="allow" name="action" value="allow">{{.Allow}}</button>
<button type="submit" id="deny" name="action" value="deny">Deny</button>
</form>
</body></html>
`))

type page struct {
	Step, Title, Text, Challenge, Allow string
	Scopes                              []string
}

func clientName(id, name string) string {
	if name != "" {
		return name + " (" + id + ")"
	}
	return id
}

func (a *app) loginPage(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("login_challenge")
	admin, subject, _ := a.state()
	var lr loginRequest
	if err := a.call(r.Context(), admin, http.MethodGet, "login", challenge, nil, &lr); err != nil {
		a.fail(w, err)
		return
	}
	if lr.Skip { // Hydra already knows the user: it must not be asked again
		a.acceptLogin(w, r, admin, challenge, lr.Subject)
		return
	}
	a.render(w, page{
		Step: "login", Title: "Sign in", Allow: "Sign in", Challenge: challenge,
		Text:   fmt.Sprintf("Sign in to %s as %s.", clientName(lr.Client.ClientID, lr.Client.ClientName), subject),
		Scopes: lr.RequestedScope,
	})
}

func (a *app) loginSubmit(w http.ResponseWriter, r *http.Request) {
	challenge := r.PostFormValue("challenge")
	admin, subject, deny := a.state()
	if deny || r.PostFormValue("action") != "allow" {
		a.reject(w, r, admin, "login", challenge)
		return
	}
	a.acceptLogin(w, r, admin, challenge, subject)
}

func (a *app) acceptLogin(w http.ResponseWriter, r *http.Request, admin, challenge, subject string) {
	var red redirect
	body := map[string]any{"subject": subject, "remember": false}
	if err := a.call(r.Context(), admin, http.MethodPut, "login/accept", challenge, body, &red); err != nil {
		a.fail(w, err)
		return
	}
	http.Redirect(w, r, red.RedirectTo, http.StatusFound)
}

func (a *app) consentPage(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("consent_challenge")
	admin, _, _ := a.state()
	var cr consentRequest
	if err := a.call(r.Context(), admin, http.MethodGet, "consent", challenge, nil, &cr); err != nil {
		a.fail(w, err)
		return
	}
	if cr.Skip {
		a.acceptConsent(w, r, admin, challenge, &cr)
		return
	}
	a.render(w, page{
		Step: "consent", Title: "Allow access", Allow: "Allow", Challenge: challenge,
		Text:   fmt.Sprintf("%s asks to act for %s with these scopes:", clientName(cr.Client.ClientID, cr.Client.ClientName), cr.Subject),
		Scopes: cr.RequestedScope,
	})
}

func (a *app) consentSubmit(w http.ResponseWriter, r *http.Request) {
	challenge := r.PostFormValue("challenge")
	admin, _, deny := a.state()
	if deny || r.PostFormValue("action") != "allow" {
		a.reject(w, r, admin, "consent", challenge)
		return
	}
	var cr consentRequest
	if err := a.call(r.Context(), admin, http.MethodGet, "consent", challenge, nil, &cr); err != nil {
		a.fail(w, err)
		return
	}
	a.acceptConsent(w, r, admin, challenge, &cr)
}

// acceptConsent grants everything asked for and puts the subject in the ID
// token's email claim (which is what connctl shows as the account).
func (a *app) acceptConsent(w http.ResponseWriter, r *http.Request, admin, challenge string, cr *consentRequest) {
	body := map[string]any{
		"grant_scope":                 nonNil(cr.RequestedScope),
		"grant_access_token_audience": nonNil(cr.RequestedAccessTokenAudience),
		"remember":                    false,
		"session": map[string]any{
			"id_token": map[string]any{"email": cr.Subject},
		},
	}
	var red redirect
	if err := a.call(r.Context(), admin, http.MethodPut, "consent/accept", challenge, body, &red); err != nil {
		a.fail(w, err)
		return
	}
	http.Redirect(w, r, red.RedirectTo, http.StatusFound)
}

func (a *app) reject(w http.ResponseWriter, r *http.Request, admin, step, challenge string) {
	body := map[string]any{
		"error":             "access_denied",
		"error_description": "The user denied the request.",
	}
	var red redirect
	if err := a.call(r.Context(), admin, http.MethodPut, step+"/reject", challenge, body, &red); err != nil {
		a.fail(w, err)
		return
	}
	http.Redirect(w, r, red.RedirectTo, http.StatusFound)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// call calls /admin/oauth2/auth/requests/<what>?<login|consent>_challenge=…
func (a *app) call(ctx context.Context, adminURL, method, what, challenge string, body, out any) error {
	if adminURL == "" {
		return errors.New("hydra is not started yet")
	}
	if challenge == "" {
		return errors.New("missing challenge")
	}
	param := "login_challenge"
	if strings.HasPrefix(what, "consent") {
		param = "consent_challenge"
	}
	path := "/admin/oauth2/auth/requests/" + what + "?" + url.Values{param: {challenge}}.Encode()
	return adminJSON(ctx, a.http, adminURL, method, path, body, out)
}

func (a *app) render(w http.ResponseWriter, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTmpl.Execute(w, p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (a *app) fail(w http.ResponseWriter, err error) {
	http.Error(w, "login app: "+err.Error(), http.StatusBadGateway)
}
