package jobrunner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// oldLines is the path DecodePage replaces: decode the page into maps,
// then encode each as the NDJSON destination does.
func oldLines(recs []Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func self(p *[]Record) *[]Record { return p }

type envelope struct {
	Results []Record `json:"results"`
	Next    string   `json:"next"`
	Total   int      `json:"total"`
}

func results(e *envelope) *[]Record { return &e.Results }

// checkSame holds DecodePage's records to the old decode-and-encode path:
// the same lines, the same fields.
func checkSame(t *testing.T, body []byte, old []Record, oldErr error, got []RawRecord, err error) {
	t.Helper()
	if (err == nil) != (oldErr == nil) || err != nil && err.Error() != oldErr.Error() {
		t.Fatalf("%q: error %v, old path %v", body, err, oldErr)
	}
	if err != nil {
		return
	}
	want, werr := oldLines(old)
	if werr != nil {
		t.Fatalf("%q: old path cannot encode: %v", body, werr)
	}
	var lines []byte
	for _, r := range got {
		lines = append(lines, r.Line()...)
	}
	if !bytes.Equal(lines, want) {
		t.Fatalf("%q:\n got %q\nwant %q", body, lines, want)
	}
	if (got == nil) != (old == nil) {
		t.Fatalf("%q: records nil: %v, old path %v", body, got == nil, old == nil)
	}
	if len(got) != len(old) {
		t.Fatalf("%q: %d records, old path %d", body, len(got), len(old))
	}
	for i, r := range got {
		for k, v := range old[i] {
			g, ok := r.Get(k)
			if !ok || !reflect.DeepEqual(g, v) {
				t.Fatalf("%q: record %d: Get(%q) = %#v, %v; old path %#v", body, i, k, g, ok, v)
			}
			if g, ok := r.Lookup(k); !ok || !reflect.DeepEqual(g, v) {
				t.Fatalf("%q: record %d: Lookup(%q) = %#v, %v; old path %#v", body, i, k, g, ok, v)
			}
			if inner, isMap := v.(map[string]any); isMap {
				for k2, v2 := range inner {
					if g, ok := r.Lookup(k, k2); !ok || !reflect.DeepEqual(g, v2) {
						t.Fatalf("%q: record %d: Lookup(%q, %q) = %#v, %v; old path %#v", body, i, k, k2, g, ok, v2)
					}
				}
				if _, ok := inner["\x00missing"]; !ok {
					if g, ok := r.Lookup(k, "\x00missing"); ok {
						t.Fatalf("%q: record %d: Lookup(%q, missing) = %#v", body, i, k, g)
					}
				}
			} else if g, ok := r.Lookup(k, "x"); ok {
				t.Fatalf("%q: record %d: Lookup(%q, x) inside a non-object = %#v", body, i, k, g)
			}
			raw, ok := r.Raw(k)
			wantRaw, _ := oldLines([]Record{{"v": v}})
			wantRaw = wantRaw[len(`{"v":`) : len(wantRaw)-2]
			if !ok || !bytes.Equal(raw, wantRaw) {
				t.Fatalf("%q: record %d: Raw(%q) = %q, %v; old path %q", body, i, k, raw, ok, wantRaw)
			}
			ws, wok := v.(string)
			if gs, gok := r.String(k); gs != ws || gok != wok {
				t.Fatalf("%q: record %d: String(%q) = %q, %v; old path %#v", body, i, k, gs, gok, v)
			}
		}
		if _, ok := old[i]["\x00missing"]; !ok {
			if _, ok := r.Raw("\x00missing"); ok {
				t.Fatalf("%q: record %d: Raw(missing) found", body, i)
			}
			if g, ok := r.Get("\x00missing"); ok {
				t.Fatalf("%q: record %d: Get(missing) = %#v", body, i, g)
			}
		}
		m, err := r.Record()
		if err != nil || !reflect.DeepEqual(m, old[i]) {
			t.Fatalf("%q: record %d: Record() = %#v, %v; old path %#v", body, i, m, err, old[i])
		}
	}
}

var pageSeeds = []string{
	`[]`,
	` [ ] `,
	`[{}]`,
	`[{"b":1,"a":2}]`,
	`[{"id":1,"updated_at":"2024-01-01T00:00:00Z","subject":"x"},{"id":2,"updated_at":"2024-01-02T00:00:00Z"}]`,
	"[{\"z\" : [1, 2.50, -0, 1E+3, {\"y\":null,\"x\":true}], \"a\":\t{\"d\":{},\"c\":[]}}]\n",
	`[{"s":"a\"b\\c\/d\b\f\n\r\t\u0000\u001f\u00e9\u2028\u2029 \u003c&>"}]`,
	"[{\"s\":\"raw \u2028 and \u2029 and \x7f é 😀\"}]",
	`[{"e":"\ud83d\ude00","lone":"x"}]`,
	`[{"lone":"\ud800"}]`,
	`[{"lone":"\udc00x"}]`,
	`[{"a":1,"a":2}]`,
	`[{"a":1,"\u0061":2}]`,
	`[{"a\nb":1,"a!":2}]`,
	`[{"k\u00e9":1,"k":2,"kz":3}]`,
	"[{\"bad\":\"\xff\"}]",
	`[null]`,
	`[{"a":1},null]`,
	`[1]`,
	`["x"]`,
	`null`,
	`{}`,
	`[{"a":1}] x`,
	`[{"a":1}] []`,
	`[{"a":1}`,
	``,
	`[{"n":12345678901234567890,"f":0.1e-7}]`,
	strings.Repeat(`[`, 300) + strings.Repeat(`]`, 300),
	`[{"d":` + strings.Repeat(`[`, 250) + strings.Repeat(`]`, 250) + `}]`,
	`{"results":[{"b":1,"a":2}],"next":"n","total":3}`,
	`{"next":"n","results":[],"total":1}`,
	`{"next":"n"}`,
	`{"results":null}`,
	`{"results":[1]}`,
	`{"RESULTS":[{"a":1}]}`,
	`{"reſults":[{"a":1}]}`,
	`{"results":[{"a":1}],"results":[]}`,
	`{"results":[{"a":1}],"total":"x"}`,
	`{"results":[{"a":1}],"extra":{"k":[1,{"z":2}]}}`,
	`{"results":[{"id":"1","properties":{"b":"x,\"}","a":[1,{"c":"]"}],"e":{},"d":-1.5e3,"f":null}}]}`,
	`[{"p":{"x":{"y":"z"},"w":[]},"q":[{"a":1}]}]`,
	`[{"attributes":{"type":"Account"},"Id":"1","Owner":{"attributes":{"url":"/x"},"Name":"n"},"Kids":{"records":[{"attributes":{},"Id":"2"}]}}]`,
	`[{"b":1,"attributes":1,"a":2},{"attributes":null},{"attributes":1,"attributes":2,"z":0}]`,
	`{"results":[{"a":1}]} {}`,
	`{"next":"a","results":[{"a":1}],"next":"b","total":1,"total":2}`,
	`{"next":"a","extra":{"k":1,"k":2},"results":[{"a":1}]}`,
	// What jsontext checked before the normalizer did it itself: control
	// characters and invalid UTF-8 in strings and keys, number grammar,
	// literals, white space, delimiters, in records and in the envelope.
	"[{\"s\":\"tab\there\"}]",
	"[{\"s\":\"nul\x00\"}]",
	"[{\"k\x01\":1}]",
	"[{\"s\":\"\xc3\"}]",
	"[{\"s\":\"\xe2\x80\"}]",
	"[{\"s\":\"\xed\xa0\x80\"}]",
	"[{\"s\":\"over\xf4\x90\x80\x80\"}]",
	"[{\"k\xff\":1}]",
	`[{"n":01}]`, `[{"n":-}]`, `[{"n":1.}]`, `[{"n":.5}]`, `[{"n":1e}]`, `[{"n":1e+}]`, `[{"n":+1}]`,
	`[{"n":-0.0e-0}]`, `[{"n":1E5,"m":-12.25E+02}]`, `[{"n":0x1}]`, `[{"n":1-2}]`, `[{"n":Infinity}]`, `[{"n":NaN}]`,
	`[{"t":tru}]`, `[{"t":truex}]`, `[{"t":nul}]`, `[{"t":False}]`, `[{"t":true1}]`, `[{"t":t}]`,
	"[{\"a\":1}\f]", "[{\"a\":1}\v]", "\ufeff[{\"a\":1}]", "[{\"a\":1}]\x00",
	`[{"a":1},]`, `[,{"a":1}]`, `[{"a":1,}]`, `[{"a":1 "b":2}]`, `[{"a" 1}]`, `[{"a":[1,]}]`, `[{"a":[,1]}]`,
	`[{"a":[1 2]}]`, `[{,"a":1}]`, `[{"a":1}}`, `[{"a":1}]]`, `[{"a":"x`, `[{"a":`, `[{"a"`, `[{`, `[`,
	"{\"results\":[{\"a\":1}],\"next\":\"\xff\"}",
	"{\"results\":[{\"a\":1}],\"next\":\"a\x01\"}",
	"{\"n\xe9xt\":\"x\",\"results\":[]}",
	`{"results":[{"a":1}],"total":01}`, `{"results":[{"a":1}],"total":1.}`, `{"results":[{"a":1}],"next":nul}`,
	`{"results":[{"a":1}],}`, `{,"results":[]}`, `{"results":[{"a":1}] "total":1}`, `{"results" [{"a":1}]}`,
	`{"results":[{"a":1}],"extra":[1,]}`, `{"results":[{"a":1}],"extra":{"a":1,}}`, `{"results":[{"a":1}],"total":1`,
	`{"res\u0075lts":[{"a":1}]}`, `{"next":"\u2028","results":[{"a":"\u2029"}]}`, ` {"results" : [ { "a" : 1 } ] , "total" : 2 } `,
}

func TestDecodePageMatchesDecodeAndEncode(t *testing.T) {
	t.Parallel()
	var pd PageDecoder // reused: each page's records are checked before the next
	for _, s := range pageSeeds {
		diffArray(t, &pd, []byte(s))
		diffObject(t, &pd, []byte(s))
		diffOmit(t, []byte(s))
	}
}

func diffArray(t *testing.T, pd *PageDecoder, body []byte) {
	t.Helper()
	old, oldErr := DecodeJSON[[]Record](body, "ticket list")
	_, got, err := DecodePage[[]Record](pd, body, "ticket list", "", self)
	checkSame(t, body, old, oldErr, got, err)
}

// diffOmit is diffArray with PageDecoder.Omit, against deleting the key
// from every decoded map.
func diffOmit(t *testing.T, body []byte) {
	t.Helper()
	old, oldErr := DecodeJSON[[]Record](body, "query result")
	for _, r := range old {
		omit(r, "attributes")
	}
	_, got, err := DecodePage[[]Record](&PageDecoder{Omit: "attributes"}, body, "query result", "", self)
	checkSame(t, body, old, oldErr, got, err)
}

func diffObject(t *testing.T, pd *PageDecoder, body []byte) {
	t.Helper()
	old, oldErr := DecodeJSON[envelope](body, "page")
	env, got, err := DecodePage[envelope](pd, body, "page", "results", results)
	checkSame(t, body, old.Results, oldErr, got, err)
	if err == nil && (env.Next != old.Next || env.Total != old.Total || env.Results != nil) {
		t.Fatalf("%q: envelope %+v, old path %+v", body, env, old)
	}
}

// FuzzDecodePage is the differential test of DecodePage against decoding
// into maps and encoding them again: same lines, same fields, same errors.
func FuzzDecodePage(f *testing.F) {
	for _, s := range pageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		diffArray(t, nil, body)
		diffObject(t, new(PageDecoder), body)
		diffOmit(t, body)
	})
}

// TestDecodePageFastPath checks that the usual shapes take the fast path,
// not the old one (which would give the same output, slowly).
func TestDecodePageFastPath(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		`[{"id":1,"b":"x","a":[1,{"z":1,"y":"\u00e9"}]}]`,
		`{"next":"n","results":[{"b":1,"a":2}],"total":3}`,
	} {
		_, recs, ok := fastPage[[]Record](new(PageDecoder), []byte(s), "page", "", self)
		if strings.HasPrefix(s, "{") {
			_, recs, ok = fastPage[envelope](new(PageDecoder), []byte(s), "page", "results", results)
		}
		if !ok || len(recs) != 1 || recs[0].decoded {
			t.Errorf("%s: fast path not taken", s)
		}
	}
}

func benchPage(per int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range per {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"subject":"Ticket %d: printer on fire","status":2,"priority":1,"requester_id":%d,"type":"Question","cc_emails":[],"tags":["printer"],"custom_fields":{"cf_region":"emea","cf_tier":null},"spam":false,"description_text":"caf\u00e9 \"quoted\"","updated_at":"2024-01-01T00:%02d:%02dZ"}`,
			i+1, i, 1000+i, i/60, i%60)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// BenchmarkDecodePage compares the page decode of a run, 100 records of
// 100, then each record's line and cursor fields: the old way (maps,
// encoding/json) and DecodePage.
func BenchmarkDecodePage(b *testing.B) {
	body := benchPage(100)
	b.Run("old", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			recs, err := DecodeJSON[[]Record](body, "ticket list")
			if err != nil {
				b.Fatal(err)
			}
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			for _, r := range recs {
				_, _ = r["updated_at"].(string)
				_ = r["id"]
				if err := enc.Encode(r); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("new", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		var buf bytes.Buffer
		var pd PageDecoder
		for b.Loop() {
			_, recs, err := DecodePage[[]Record](&pd, body, "ticket list", "", self)
			if err != nil {
				b.Fatal(err)
			}
			buf.Reset()
			for i := range recs {
				_, _ = recs[i].String("updated_at")
				_, _ = recs[i].Get("id")
				buf.Write(recs[i].Line())
			}
		}
	})
}
