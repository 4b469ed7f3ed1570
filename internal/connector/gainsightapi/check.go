package gainsightapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/connctl/connctl/internal/keycheck"
)

// Gainsight CS has no who-am-I: a one-row read of Company
// (POST /v1/data/objects/query/Company) with the key in the accesskey header.
// https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Company_and_Relationship_API/Company_API_Documentation
func checkAccessKey(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	fs, key, err := in.Need("access_key", "domain")
	if err != nil {
		return nil, err
	}
	domain := fs[0]
	req := keycheck.Request{
		Method: http.MethodPost,
		URL:    in.BaseURL("https://"+domain) + "/v1/data/objects/query/Company",
		Header: http.Header{AccessKeyHeader: {key}, "Content-Type": {"application/json"}},
		Body:   []byte(`{"select":["Gsid"],"limit":1}`),
	}
	var out struct {
		Result    *bool  `json:"result"`
		ErrorCode string `json:"errorCode"`
		ErrorDesc string `json:"errorDesc"`
	}
	r, err := in.SendJSON(ctx, req, keycheck.Fixes{
		Unauthorized: "check access_key (Administration > Connectors 2.0 > the Gainsight API connection); generating a new key stops the old one",
		Forbidden:    "the access key may not read the Company object",
		NotFound:     "check domain (your tenant domain, e.g. acme.gainsightcloud.com)",
	}, nil, &out)
	if err != nil {
		return nil, err
	}
	if out.Result == nil {
		return nil, keycheck.Unexpected(r, "a result")
	}
	if !*out.Result {
		msg := fmt.Sprintf("%s refused the Company query (error %s)", r.Host, in.Quote(out.ErrorCode))
		if d := in.Quote(out.ErrorDesc); d != "" {
			msg += ": " + d
		}
		return nil, &keycheck.Error{Kind: keycheck.KindServer, Status: r.Status, Message: msg}
	}
	return &keycheck.Identity{Org: domain}, nil
}
