package freshdesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// Paging limits of GET /api/v2/tickets.
// https://developers.freshdesk.com/api/#list_all_tickets and #pagination
const (
	perPage = 100 // the most Freshdesk serves per page
	// pageCap is the deepest page Freshdesk serves for one query (a
	// third-party note reports 300 pages, i.e. 30,000 tickets; see
	// providers.md §6). The source never asks beyond it: it starts a new
	// query window instead.
	pageCap = 300
)

// fullHistory is the updated_since of a run without a checkpoint. Without
// updated_since, Freshdesk lists only tickets of the last 30 days; an
// explicit updated_since is how integrations reach older ones (Airbyte's
// source-freshdesk, airbytehq/airbyte#6442: "By default, only tickets that
// have been created within the past 30 days will be returned. For older
// tickets, use this parameter"; freshdeskr's tickets(): "If set to NULL, only
// tickets updated in the last 30 days are returned"). Those sources take a
// start date such as 2020-12-01T00:00:00Z; none documents a lower bound, so
// the Unix epoch stands for "everything".
const fullHistory = "1970-01-01T00:00:00Z"

// TicketsSource returns the `tickets` source: every ticket updated since the
// checkpoint, oldest change first.
//
// It lists GET {base}/api/v2/tickets?order_by=updated_at&order_type=asc&
// per_page=100&updated_since=T, where base is https://{domain} (domain acme
// or acme.freshdesk.com) or the base_url field, with HTTP Basic
// {api_key}:X, and follows the Link rel="next" header until it is absent.
//
// Freshdesk serves at most about 300 pages for one query. When page 300
// still has a next link, the source re-windows: it starts a fresh query with
// updated_since = the last updated_at seen. updated_since is inclusive, so
// the tickets at exactly that instant come again; those already emitted are
// skipped by id. A window that cannot advance (more than 30,000 tickets with
// one updated_at) is a source_error rather than an endless loop.
//
// The checkpoint is the largest updated_at emitted (RFC 3339, UTC), or the
// request's Since when nothing came. Because updated_since is inclusive, the
// next run fetches again the tickets updated at exactly the checkpoint:
// delivery is at least once, and consumers deduplicate on the primary key id.
func TicketsSource() jobrunner.Source {
	return &tickets{pageCap: pageCap}
}

// vendor names Freshdesk in messages.
var vendor = jobrunner.Vendor{Name: "freshdesk"}

type tickets struct {
	pageCap int // pages per query window; tests lower it
}

func (s *tickets) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	base, err := apiBase(req.Fields)
	if err != nil {
		return "", err
	}
	key := req.Secrets["api_key"]
	if key == "" {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "freshdesk: api_key is not set"}
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":X"))

	start := fullHistory
	var hw jobrunner.HighWater // the largest updated_at emitted
	if req.Since != "" {
		t, err := time.Parse(time.RFC3339, req.Since)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("freshdesk: checkpoint %q is not an RFC 3339 time", req.Since)}
		}
		start = t.UTC().Format(time.RFC3339)
	}

	// boundary holds the ids (as JSON) already emitted whose updated_at
	// equals the current window's start: the inclusive updated_since sends
	// them again.
	var boundary map[string]bool
	var ahead *jobrunner.Ahead[answer] // the next page, while one is written
	var pd jobrunner.PageDecoder
	defer func() { ahead.Stop() }()
	for {
		next := base + "/api/v2/tickets?" + url.Values{
			"order_by":      {"updated_at"},
			"order_type":    {"asc"},
			"per_page":      {fmt.Sprint(perPage)},
			"updated_since": {start},
		}.Encode()
		windowStart, _ := time.Parse(time.RFC3339, start)
		var lastAt time.Time
		var lastIDs idSet // ids emitted at lastAt
		pages := 0
		a, err := s.get(ctx, req, auth, next)
		for err == nil {
			pages++
			// The next page is asked for while this one is written,
			// unless this window ends here.
			var nerr error
			next, nerr = nextLink(a.header, a.r.URL)
			if nerr == nil && next != "" && pages < s.pageCap {
				u := next
				ahead = jobrunner.FetchAhead(ctx, func(ctx context.Context) (answer, error) { return s.get(ctx, req, auth, u) })
			}
			_, page, derr := jobrunner.DecodePage(&pd, a.body, "ticket list", "", list)
			req.HTTP.Reuse(a.body) // page holds copies
			if derr != nil {
				return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: vendor.Where(a.r) + ": " + derr.Error()}
			}
			for i := range page {
				t := &page[i]
				id, _ := t.Raw("id")
				at, err := updatedAt(t)
				if err != nil {
					id, _ := t.Get("id")
					return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("freshdesk: ticket %v: %v", id, err)}
				}
				if at.Equal(windowStart) && boundary[string(id)] {
					continue
				}
				if err := req.Emit(emit, t); err != nil {
					return "", err
				}
				hw.See(at)
				if !at.Equal(lastAt) {
					lastIDs.reset()
					lastAt = at
				}
				lastIDs.add(id)
			}
			if nerr != nil {
				return "", nerr
			}
			if next == "" || pages >= s.pageCap {
				break
			}
			a, err = ahead.Wait()
			ahead = nil
		}
		if err != nil {
			return "", err
		}
		if next == "" {
			break
		}
		// Page cap reached with more to come: re-window.
		if !lastAt.After(windowStart) {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf(
				"freshdesk: more than %d pages of tickets updated at %s; cannot page past Freshdesk's page limit", s.pageCap, start)}
		}
		start = lastAt.UTC().Format(time.RFC3339)
		boundary = lastIDs.set()
	}
	return hw.Checkpoint(req.Since, time.RFC3339), nil
}

// answer is one page as it came.
type answer struct {
	r      *http.Request
	header http.Header
	body   []byte
}

// get fetches one page of the ticket list.
func (s *tickets) get(ctx context.Context, req jobrunner.Request, auth, u string) (answer, error) {
	r, err := jobrunner.JSONRequest(ctx, vendor.Name, http.MethodGet, u, nil)
	if err != nil {
		return answer{}, err
	}
	r.Header.Set("Authorization", auth)
	_, header, body, err := req.HTTP.Do(ctx, r)
	if err != nil {
		return answer{}, err
	}
	return answer{r: r, header: header, body: body}, nil
}

// apiBase returns the scheme and host to call: base_url when set, else
// https://{domain}.freshdesk.com.
func apiBase(fields map[string]string) (string, error) {
	if b := strings.TrimRight(fields["base_url"], "/"); b != "" {
		return b, nil
	}
	domain := fields["domain"]
	if domain == "" {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "freshdesk: domain is not set"}
	}
	return "https://" + Host(domain), nil
}

// list is the records of a ticket list: the page itself.
func list(p *[]jobrunner.Record) *[]jobrunner.Record { return p }

func updatedAt(t *jobrunner.RawRecord) (time.Time, error) {
	// The usual string, read in place (a string of no escapes is the same
	// in JSON as decoded), without a copy a record.
	if raw, ok := t.Raw("updated_at"); ok && len(raw) > 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		if at, err := time.Parse(time.RFC3339, string(raw[1:len(raw)-1])); err == nil {
			return at, nil
		}
	}
	s, ok := t.String("updated_at")
	if !ok {
		return time.Time{}, fmt.Errorf("no updated_at")
	}
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("updated_at %q is not an RFC 3339 time", s)
	}
	return at, nil
}

// idSet is a set of ids, each as its JSON: the ids emitted at one
// updated_at, kept in one buffer reused from time to time (most times hold
// one or a few tickets), made a map only when a window ends.
type idSet struct {
	buf  []byte
	ends []int
}

func (s *idSet) reset() { s.buf, s.ends = s.buf[:0], s.ends[:0] }

func (s *idSet) add(id []byte) {
	s.buf = append(s.buf, id...)
	s.ends = append(s.ends, len(s.buf))
}

func (s *idSet) set() map[string]bool {
	m := make(map[string]bool, len(s.ends))
	from := 0
	for _, to := range s.ends {
		m[string(s.buf[from:to])] = true
		from = to
	}
	return m
}

// nextLink returns the rel="next" target of a Link header, resolved against
// the current URL, or "" when there is none. The target must be on the same
// scheme and host: the request carries the API key.
func nextLink(h http.Header, cur *url.URL) (string, error) {
	target := jobrunner.NextLink(h)
	if target == "" {
		return "", nil
	}
	u, err := cur.Parse(target)
	if err != nil {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "freshdesk: unreadable Link header"}
	}
	if u.Scheme != cur.Scheme || u.Host != cur.Host {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("freshdesk: next page on another host (%s); not sending the API key there", u.Host)}
	}
	return u.String(), nil
}
