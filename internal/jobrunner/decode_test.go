package jobrunner

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeJSONKeepsNumbersExact(t *testing.T) {
	t.Parallel()
	type page struct {
		Data []Record `json:"data"`
	}
	p, err := DecodeJSON[page]([]byte(`{"data":[{"id":12345678901234567890,"amount":0.1}]}`+"\n \t"), "page")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := p.Data[0]["id"].(json.Number); !ok || id.String() != "12345678901234567890" {
		t.Errorf("id = %#v", p.Data[0]["id"])
	}
	if a, ok := p.Data[0]["amount"].(json.Number); !ok || a.String() != "0.1" {
		t.Errorf("amount = %#v", p.Data[0]["amount"])
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, want string }{
		{`{"data": [`, "malformed JSON: unexpected EOF"},
		{``, "malformed JSON: EOF"},
		{`{"data": 1}`, "malformed JSON: json: cannot unmarshal number into Go struct field .data of type []map[string]interface {}"},
		{`{"data": []} {"data": []}`, "malformed JSON: data after the query result"},
		{`{} x`, "malformed JSON: data after the query result"},
	} {
		_, err := DecodeJSON[struct {
			Data []Record `json:"data"`
		}]([]byte(c.body), "query result")
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: error %v, want %q", c.body, err, c.want)
		}
	}
	// The decoder's own error stays reachable.
	_, err := DecodeJSON[[]Record]([]byte(`[}`), "list")
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("error %v does not wrap the decoder's", err)
	}
}
