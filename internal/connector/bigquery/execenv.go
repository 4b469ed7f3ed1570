package bigquery

// execEnv gives a Google OAuth connection's access token to `connctl
// exec`'s child: GOOGLE_OAUTH_ACCESS_TOKEN is what the Terraform Google
// provider reads for its access_token setting, and CLOUDSDK_AUTH_ACCESS_TOKEN
// what gcloud and tools built on it (Prowler, Steampipe) take instead of
// their own credentials. A service-account connection gets none: Google's
// tools want the key as a file (GOOGLE_APPLICATION_CREDENTIALS), and
// connctl never writes a secret to a file; the child finds the key in
// CONNCTL__<NAME>__SERVICE_ACCOUNT_KEY.
func execEnv(_, _ map[string]string, token string) map[string]string {
	if token == "" {
		return nil
	}
	return map[string]string{
		"GOOGLE_OAUTH_ACCESS_TOKEN":  token,
		"CLOUDSDK_AUTH_ACCESS_TOKEN": token,
	}
}
