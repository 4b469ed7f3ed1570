// Command benchserver serves Freshdesk-shaped ticket pages on loopback for
// scripts/bench-jobs.sh: GET /api/v2/tickets?page=N&per_page=100 with a
// Link rel="next" header while more pages follow
// (https://developers.freshdesk.com/api/#pagination), honouring updated_since. It prints its URL and
// serves until killed.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	total := flag.Int("records", 10000, "tickets to serve")
	flag.Parse()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("http://%s\n", l.Addr())
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	http.HandleFunc("/api/v2/tickets", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		per, _ := strconv.Atoi(q.Get("per_page"))
		if per <= 0 || per > 100 {
			per = 100
		}
		page, _ := strconv.Atoi(q.Get("page"))
		if page <= 0 {
			page = 1
		}
		// updated_since is inclusive; ticket i was updated at base+i seconds.
		first := 0
		if since, err := time.Parse(time.RFC3339, q.Get("updated_since")); err == nil && since.After(base) {
			first = int(since.Sub(base) / time.Second)
		}
		from := first + (page-1)*per
		to := min(from+per, *total)
		from = min(from, to)
		if to < *total {
			next := *r.URL
			nq := next.Query()
			nq.Set("page", strconv.Itoa(page+1))
			nq.Set("per_page", strconv.Itoa(per))
			next.RawQuery = nq.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
		}
		w.Header().Set("Content-Type", "application/json")
		buf := make([]byte, 0, 256*per)
		buf = append(buf, '[')
		for i := from; i < to; i++ {
			if i > from {
				buf = append(buf, ',')
			}
			buf = fmt.Appendf(buf, `{"id":%d,"subject":"Printer on floor %d is out of paper","status":2,"priority":1,"requester_id":%d,"type":"Question","updated_at":%q}`,
				i+1, i%40, 1000+i%997, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
		}
		buf = append(buf, ']')
		_, _ = w.Write(buf)
	})
	_ = http.Serve(l, nil)
}
