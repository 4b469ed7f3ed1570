package gainsightpx

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/connctl/connctl/internal/keycheck"
)

// pxHosts are Gainsight PX's API hosts by region.
// https://px-apidocs.gainsight.com/ (Base URL)
var pxHosts = map[string]string{"us": "api.aptrinsic.com", "eu": "api-eu.aptrinsic.com", "us2": "api-us2.aptrinsic.com"}

// Gainsight PX has no who-am-I: GET /v1/accounts?pageSize=1 with the key in
// X-APTRINSIC-API-KEY is the cheapest authenticated read.
// https://px-apidocs.gainsight.com/ ; https://support.gainsight.com/PX/API_for_Developers/02Usage_of_Different_APIs/Work_with_the_Gainsight_PX_REST_API
func checkAPIKey(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	key, err := in.Secret("api_key")
	if err != nil {
		return nil, err
	}
	region := in.Optional("region", "us")
	host, ok := pxHosts[region]
	if !ok {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: fmt.Sprintf("the gainsight-px connection's region %q is not us, eu or us2: set it with --set region=us", region)}
	}
	// The catalogue's base_url includes /v1 (https://api-eu.aptrinsic.com/v1);
	// a bare host is taken to mean the same.
	base := in.BaseURL("https://" + host + "/v1")
	if u, perr := url.Parse(base); perr == nil && (u.Path == "" || u.Path == "/") {
		base += "/v1"
	}
	var page map[string]json.RawMessage
	r, err := in.GetJSON(ctx, base+"/accounts?pageSize=1", APIKeyHeader, key, keycheck.Fixes{
		Unauthorized: "check api_key (Administration > REST API) and region (us, eu or us2)",
		Forbidden:    "the API key lacks Read permission, or belongs to another region: check region (us, eu or us2)",
		NotFound:     "check region (us, eu or us2) and base_url",
	}, nil, &page)
	if err != nil {
		return nil, err
	}
	if _, ok := page["accounts"]; !ok {
		return nil, keycheck.Unexpected(r, "accounts")
	}
	return &keycheck.Identity{Org: host}, nil
}
