package s3

import "strings"

// execEnv gives an S3 connection's keys to `connctl exec`'s child under the
// names the AWS CLI and SDKs read (AWS SDKs and Tools Reference Guide:
// "Environment variables support", "Service-specific endpoints"). The
// session token and endpoints are claimed even when the connection has
// none (value ""): a parent's AWS_SESSION_TOKEN would spoil the keys, and a
// parent's AWS_ENDPOINT_URL would send them to another server.
func execEnv(fields, secrets map[string]string, _ string) map[string]string {
	endpoint := fields["base_url"] // the API base override wins, as in s3ListURL
	if endpoint == "" {
		endpoint = fields["endpoint"]
	}
	endpoint = strings.TrimRight(endpoint, "/")
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     fields["access_key_id"],
		"AWS_SECRET_ACCESS_KEY": secrets["secret_access_key"],
		"AWS_SESSION_TOKEN":     secrets["session_token"],
		"AWS_REGION":            fields["region"],
		"AWS_DEFAULT_REGION":    fields["region"],
		"AWS_ENDPOINT_URL":      endpoint,
		"AWS_ENDPOINT_URL_S3":   endpoint,
	}
}
