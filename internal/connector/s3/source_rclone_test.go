package s3

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/testpeer/rclone"
)

// The objects source against a real S3 server: `rclone serve s3` over a
// folder. The bucket is a subfolder, each file an object whose LastModified
// is the file's modification time.
func TestObjectsAgainstRcloneServeS3(t *testing.T) {
	t.Parallel()
	served := t.TempDir()
	bucketDir := filepath.Join(served, "acme-exports")
	// Modification times well before now, on whole seconds, one apart; the
	// incremental step then touches one file to a later time.
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	files := map[string]string{
		"a.txt":                 "alpha\n",
		"exports/2026/01.csv":   "id,name\n1,a\n",
		"exports/2026/02.csv":   "id,name\n2,b\n",
		"exports/2026/03.csv":   "id,name\n3,c\n",
		"exports/deep/er/x.bin": string(make([]byte, 300<<10)),
		"exports/notes.md":      "# notes\n",
		"exports/a b+c&é.txt":   "odd key\n", // encoded once, the S3 way, in path and signature
		"z.json":                `{"z":1}`,
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	modified := map[string]time.Time{}
	for i, k := range keys {
		p := filepath.Join(bucketDir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(files[k]), 0o644); err != nil {
			t.Fatal(err)
		}
		modified[k] = base.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(p, modified[k], modified[k]); err != nil {
			t.Fatal(err)
		}
	}

	srv := rclone.Start(t, served)
	stats := new(jobrunner.Stats)
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	req := func(params map[string]string) jobrunner.Request {
		return jobrunner.Request{
			Fields: map[string]string{
				"bucket": "acme-exports", "region": rclone.Region, "endpoint": srv.Endpoint, "path_style": "true",
				"access_key_id": srv.AccessKey,
			},
			Secrets: map[string]string{"secret_access_key": srv.SecretKey},
			Params:  params,
			HTTP:    jobrunner.NewHTTP(&http.Client{Timeout: 30 * time.Second}, noSleep, stats, nil),
		}
	}
	// Three keys a page: three pages for eight objects.
	src := &objects{maxKeys: 3, now: time.Now}
	download := t.TempDir()

	// Full run, with downloads.
	recs, cp, err := fetch(t, src, req(map[string]string{"download_dir": download}))
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(recs); !slices.Equal(got, keys) {
		t.Fatalf("keys = %q, want %q", got, keys)
	}
	for _, r := range recs {
		k := r["key"].(string)
		sum := md5.Sum([]byte(files[k]))
		want := fmt.Sprintf("size %d, last_modified %s, etag %s", len(files[k]), modified[k].UTC().Format(time.RFC3339Nano), hex.EncodeToString(sum[:]))
		if got := fmt.Sprintf("size %d, last_modified %s, etag %s", r["size"], r["last_modified"], r["etag"]); got != want {
			t.Errorf("%s: %s\nwant  %s", k, got, want)
		}
		path := filepath.Join(download, filepath.FromSlash(k))
		if r["path"] != path {
			t.Errorf("%s: path %v, want %s", k, r["path"], path)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != files[k] {
			t.Errorf("%s: downloaded %d bytes (%v), want %d", k, len(b), err, len(files[k]))
		}
	}
	if want := modified[keys[len(keys)-1]].UTC().Format(time.RFC3339Nano); cp != want {
		t.Errorf("checkpoint = %q, want %q (the latest LastModified)", cp, want)
	}
	if p := stats.Pages.Load(); p != 3+int64(len(keys)) {
		t.Errorf("pages = %d, want 3 listings and %d downloads", p, len(keys))
	}

	// A prefix: only what is under it.
	recs, _, err = fetch(t, src, req(map[string]string{"prefix": "exports/2026/"}))
	if got := keysOf(recs); err != nil || !slices.Equal(got, []string{"exports/2026/01.csv", "exports/2026/02.csv", "exports/2026/03.csv"}) {
		t.Errorf("prefix run: %q, %v", got, err)
	}

	// Change one file: the incremental run emits only it, and downloads it again.
	changed := "exports/2026/02.csv"
	files[changed] = "id,name\n2,b-changed\n"
	p := filepath.Join(bucketDir, filepath.FromSlash(changed))
	if err := os.WriteFile(p, []byte(files[changed]), 0o644); err != nil {
		t.Fatal(err)
	}
	touched := time.Now().Add(-time.Minute).Truncate(time.Second)
	if err := os.Chtimes(p, touched, touched); err != nil {
		t.Fatal(err)
	}
	r2 := req(map[string]string{"download_dir": download})
	r2.Since = cp
	recs, cp2, err := fetch(t, src, r2)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(recs); !slices.Equal(got, []string{changed}) {
		t.Fatalf("incremental run emitted %q, want only %s", got, changed)
	}
	if want := touched.UTC().Format(time.RFC3339Nano); cp2 != want {
		t.Errorf("checkpoint = %q, want %q", cp2, want)
	}
	if b, _ := os.ReadFile(filepath.Join(download, filepath.FromSlash(changed))); string(b) != files[changed] {
		t.Errorf("downloaded %q, want the new content", b)
	}

	// Nothing new: nothing emitted, the checkpoint stays.
	r3 := req(nil)
	r3.Since = cp2
	if recs, cp3, err := fetch(t, src, r3); err != nil || len(recs) != 0 || cp3 != cp2 {
		t.Errorf("third run: %q, checkpoint %q, %v", keysOf(recs), cp3, err)
	}

	// What rclone answers for a wrong secret and a missing bucket.
	bad := req(nil)
	bad.Secrets["secret_access_key"] = "not-the-secret"
	_, _, err = fetch(t, src, bad)
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonAuth {
		t.Errorf("wrong secret: %#v", err)
	} else {
		t.Logf("wrong secret: %s", f.Message)
	}
	missing := req(nil)
	missing.Fields["bucket"] = "no-such-bucket"
	_, _, err = fetch(t, src, missing)
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig {
		t.Errorf("missing bucket: %#v", err)
	} else {
		t.Logf("missing bucket: %s", f.Message)
	}
}
