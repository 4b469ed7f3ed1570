package browsersim

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/connctl/connctl/internal/testpeer"
)

// ChromiumEnv names the environment variable that points at a Chromium or
// Chrome binary to use instead of the one on PATH.
const ChromiumEnv = "CONNCTL_CHROMIUM"

// ChromiumFix says how to get Chromium; it ends the error of ChromiumPath.
const ChromiumFix = "apt-get install chromium (scripts/install-deps.sh does)"

// ChromiumPath returns the browser Chromium drives: $CONNCTL_CHROMIUM when
// set, else Debian's /usr/bin/chromium, else chromium, chromium-browser or
// google-chrome on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", ChromiumEnv, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found: %s", ChromiumFix)
}

// chromiumFlags are the flags from shared/reference/test-peers.md, plus a few
// that keep a throw-away profile quiet: without the background-networking
// ones Chromium keeps trying to reach the internet, and password-store=basic
// keeps it away from a Secret Service the tests may be running.
func chromiumFlags(path string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"+
			"AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions"),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// Even with the flags above Chromium 156 looks up accounts.google.com,
		// clients2.google.com and update.googleapis.com at start. The tests
		// only ever use the loopback, so resolve nothing else.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// No user-data-dir: chromedp makes a fresh one per browser and
		// removes it (and any leftover Chromium process using it) at the end.
	}
}

// pageState is what Chromium's page looks like at one moment.
type pageState struct {
	Href      string `json:"href"`
	Step      string `json:"step"` // the body's class: "login" or "consent" on the app's pages
	Ready     string `json:"ready"`
	HasButton bool   `json:"hasButton"`
	Text      string `json:"text"`
}

// Chromium walks the authorization in a real headless Chromium: it opens
// authURL, clicks #allow (or #deny with Deny) on each page that has it — the
// login page and the consent page — and waits until the browser shows the
// client's callback, whose visible text it returns. Without a deadline on ctx
// it gives up after 60 seconds.
func Chromium(ctx context.Context, authURL string, opts ...Option) (*Result, error) {
	cfg := newConfig(opts)
	path, err := ChromiumPath()
	if err != nil {
		return nil, err
	}
	start, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("chromium: authorization URL: %w", err)
	}
	isCallback := callbackMatcher(start)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
	}

	var output strings.Builder // Chromium's own stderr, for errors
	var outMu sync.Mutex
	allocOpts := append(chromiumFlags(path), chromedp.CombinedOutput(lockedWriter{&outMu, &output}))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, allocOpts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	res := &Result{}
	var mu sync.Mutex
	onEvent := func(ev any) {
		var e *network.EventResponseReceived
		switch v := ev.(type) {
		case *network.EventResponseReceived:
			e = v
		case network.EventResponseReceived:
			e = &v
		default:
			return
		}
		if e.Type != network.ResourceTypeDocument || e.Response == nil {
			return
		}
		if u, err := url.Parse(e.Response.URL); err == nil && isCallback(u) {
			mu.Lock()
			res.CallbackURL, res.StatusCode = e.Response.URL, int(e.Response.Status)
			mu.Unlock()
		}
	}
	fail := func(err error) (*Result, error) {
		outMu.Lock()
		defer outMu.Unlock()
		if out := strings.TrimSpace(output.String()); out != "" && ctx.Err() == nil {
			return nil, fmt.Errorf("chromium: %w\nchromium output:\n%s", err, lastLines(out, 15))
		}
		return nil, fmt.Errorf("chromium: %w", err)
	}
	// Listen starts the browser; a start failure shows up here.
	if err := chromedp.Listen(bctx, onEvent); err != nil {
		return fail(fmt.Errorf("starting %s: %w", path, err))
	}
	// Navigate waits for the first page that does not redirect: the login page.
	if err := chromedp.Do(bctx, chromedp.Navigate(authURL)); err != nil {
		return fail(fmt.Errorf("opening the authorization URL: %w", err))
	}

	const probe = `(() => { const b = document.getElementById(%q); return {
		href: location.href, step: document.body ? document.body.className : "",
		ready: document.readyState, hasButton: !!b,
		text: document.body ? document.body.innerText : "" }; })()`
	clicked := map[string]bool{}
	var last pageState
	var stuckSince time.Time
	for {
		st, err := chromedp.Run(bctx, chromedp.Evaluate[pageState](fmt.Sprintf(probe, cfg.button)))
		switch {
		case ctx.Err() != nil:
			return fail(fmt.Errorf("no callback before the deadline; last page %s %q: %s",
				redactString(last.Href), last.Step, snippet([]byte(last.Text))))
		case err != nil:
			// The page is navigating; ask again.
		case strings.HasPrefix(st.Href, "chrome-error:"):
			return fail(fmt.Errorf("page failed to load after %s: %s", redactString(last.Href), snippet([]byte(st.Text))))
		case isCallbackString(isCallback, st.Href) && st.Ready == "complete":
			mu.Lock()
			if res.CallbackURL == "" {
				res.CallbackURL = st.Href
			}
			res.Body = st.Text
			mu.Unlock()
			return res, nil
		case st.HasButton && st.Ready == "complete" && !clicked[st.Href]:
			clicked[st.Href] = true
			res.Pages = append(res.Pages, redactString(st.Href))
			// A real click (mouse events at the button), as a user would.
			if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID(cfg.button), chromedp.NodeVisible)); err != nil && ctx.Err() == nil {
				return fail(fmt.Errorf("clicking #%s on %s: %w", cfg.button, redactString(st.Href), err))
			}
		case st.Ready == "complete" && !st.HasButton:
			// A page with nothing to click that is not the callback, e.g. a
			// Hydra error page: give it a moment (it may redirect), then fail.
			if st.Href != last.Href || stuckSince.IsZero() {
				stuckSince = time.Now()
			} else if time.Since(stuckSince) > 3*time.Second {
				return fail(fmt.Errorf("stuck at %s with no #%s: %s", redactString(st.Href), cfg.button, snippet([]byte(st.Text))))
			}
		}
		if err == nil {
			last = st
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func isCallbackString(isCallback func(*url.URL) bool, s string) bool {
	u, err := url.Parse(s)
	return err == nil && isCallback(u)
}

func redactString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return redact(u)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() > 64<<10 { // keep the start; it says why Chromium did not come up
		return len(p), nil
	}
	return w.b.Write(p)
}

// RequireChromium returns ChromiumPath, or skips tb when there is none (fails
// it when CONNCTL_TEST_DISALLOW_SKIP=1).
func RequireChromium(tb testing.TB) string {
	tb.Helper()
	p, err := ChromiumPath()
	if err != nil {
		testpeer.Missing(tb, err, ChromiumFix)
	}
	return p
}
