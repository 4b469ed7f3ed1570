package s3

import (
	"maps"
	"testing"
)

func TestExecEnv(t *testing.T) {
	t.Parallel()
	keys := map[string]string{"secret_access_key": "s3cr3t"}
	tests := []struct {
		name            string
		fields, secrets map[string]string
		want            map[string]string
	}{
		{"AWS", map[string]string{"access_key_id": "AKIAEXAMPLE", "region": "eu-west-1"}, keys, map[string]string{
			"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "",
			"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "",
		}},
		{"temporary keys on MinIO", map[string]string{"access_key_id": "ASIAEXAMPLE", "region": "us-east-1", "endpoint": "http://minio.lan:9000/"},
			map[string]string{"secret_access_key": "s3cr3t", "session_token": "tok"}, map[string]string{
				"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "tok",
				"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
				"AWS_ENDPOINT_URL": "http://minio.lan:9000", "AWS_ENDPOINT_URL_S3": "http://minio.lan:9000",
			}},
		{"base_url wins over endpoint", map[string]string{"access_key_id": "AK", "region": "us-east-1", "endpoint": "https://minio.lan", "base_url": "http://127.0.0.1:9000"},
			keys, map[string]string{
				"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "",
				"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
				"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
			}},
	}
	for _, tc := range tests {
		if got := Connector().ExecEnv(tc.fields, tc.secrets, ""); !maps.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
