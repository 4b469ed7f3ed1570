// Command benchserver serves Freshdesk-shaped ticket pages on loopback for
// scripts/bench-jobs.sh: GET /api/v2/tickets?page=N&per_page=100 with a
// Link rel="next" header while more pages follow
// (https://developers.freshdesk.com/api/#pagination), honouring updated_since. It prints its URL and
// serves until killed. With -tls-cert FILE it serves HTTPS with a fresh
// self-signed certificate for 127.0.0.1, written to FILE (PEM) for clients
// to trust (SSL_CERT_FILE=FILE for connctl, --cacert FILE for curl).
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	total := flag.Int("records", 10000, "tickets to serve")
	certOut := flag.String("tls-cert", "", "serve HTTPS; write the self-signed certificate (PEM) to this file")
	flag.Parse()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scheme := "http"
	if *certOut != "" {
		cert, err := selfSigned(*certOut)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
		scheme = "https"
	}
	fmt.Printf("%s://%s\n", scheme, l.Addr())
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
			w.Header().Set("Link", fmt.Sprintf(`<%s://%s%s>; rel="next"`, scheme, r.Host, next.RequestURI()))
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

// selfSigned makes a certificate for 127.0.0.1, valid for a day, and writes
// it to path as PEM.
func selfSigned(path string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "benchserver"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
