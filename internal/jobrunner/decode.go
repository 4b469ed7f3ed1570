package jobrunner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// DecodeJSON decodes body, one JSON value, into a T. Numbers in it stay
// json.Number, so that ids and amounts are written back exactly as the
// vendor sent them. A body that does not decode is "malformed JSON: " and
// the decoder's error (wrapped); a value followed by more than white space
// is "malformed JSON: data after the " + what (what names the value: "page",
// "query result"). The error holds no request detail: the source puts the
// request before it and reports it as a source_error.
func DecodeJSON[T any](body []byte, what string) (T, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v T
	if err := dec.Decode(&v); err != nil {
		var zero T
		return zero, fmt.Errorf("malformed JSON: %w", err)
	}
	if dec.More() {
		var zero T
		return zero, errors.New("malformed JSON: data after the " + what)
	}
	return v, nil
}
