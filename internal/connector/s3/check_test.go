package s3

import "testing"

func TestS3ListURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                                      string
		bucket, region, endpoint, base, pathStyle string
		want                                      string
		custom                                    bool
	}{
		{"virtual-hosted", "acme-exports", "eu-west-1", "", "", "false", "https://acme-exports.s3.eu-west-1.amazonaws.com/?list-type=2&max-keys=1", false},
		{"path style", "acme-exports", "eu-west-1", "", "", "true", "https://s3.eu-west-1.amazonaws.com/acme-exports?list-type=2&max-keys=1", false},
		{"dots force path style", "a.b.c", "us-east-1", "", "", "false", "https://s3.us-east-1.amazonaws.com/a.b.c?list-type=2&max-keys=1", false},
		{"endpoint is path style", "data", "us-east-1", "http://minio.lan:9000", "", "false", "http://minio.lan:9000/data?list-type=2&max-keys=1", true},
		{"endpoint with slash", "data", "us-east-1", "https://minio.lan/", "", "true", "https://minio.lan/data?list-type=2&max-keys=1", true},
		{"base_url wins over endpoint", "data", "us-east-1", "https://minio.lan", "http://127.0.0.1:9000", "false", "http://127.0.0.1:9000/data?list-type=2&max-keys=1", true},
	}
	for _, tc := range tests {
		got, err := s3ListURL(tc.bucket, tc.region, tc.endpoint, tc.base, tc.pathStyle)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.url.String() != tc.want || got.custom != tc.custom {
			t.Errorf("%s: %s (custom %v), want %s (custom %v)", tc.name, got.url, got.custom, tc.want, tc.custom)
		}
	}
	if _, err := s3ListURL("b", "us-east-1", "minio.lan:9000", "", "false"); err == nil {
		t.Error("an endpoint without a scheme was accepted")
	}
}
