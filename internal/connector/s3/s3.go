// Package s3 describes the Amazon S3 connector, which also serves
// S3-compatible stores (MinIO, Ceph, R2, ...) through a custom endpoint: AWS
// access keys, SigV4-signed. It holds the catalogue entry only and never
// talks to the network.
package s3

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// Connector returns the catalogue entry for Amazon S3.
func Connector() *connector.Connector {
	return &connector.Connector{
		ID:       "s3",
		ExecEnv:  execEnv,
		Name:     "Amazon S3 (and S3-compatible stores)",
		Aliases:  []string{"aws-s3"},
		Category: connector.CategoryStorage,
		Multiple: true,
		Fields: []connector.Field{
			{
				Name:     "bucket",
				Label:    "Bucket",
				Help:     "bucket name (not a URL or ARN)",
				Required: true,
				Example:  "acme-exports",
				Validate: validateBucket,
			},
			{
				Name:     "region",
				Label:    "Region",
				Help:     "bucket region; S3-compatible stores usually take us-east-1",
				Default:  "us-east-1",
				Example:  "eu-west-1",
				Validate: validateRegion,
			},
			{
				Name:     "endpoint",
				Label:    "Endpoint",
				Help:     "S3-compatible store's endpoint (MinIO, Ceph, R2, ...); empty for AWS. http is allowed: SigV4 never sends the secret key",
				Example:  "https://minio.example.com:9000",
				Validate: fieldkit.URL("endpoint", "https://minio.example.com:9000", fieldkit.AllowHTTP),
			},
			fieldkit.Enum(connector.Field{
				Name:    "path_style",
				Label:   "Path-style addressing",
				Help:    "AWS only: true for https://s3.{region}.amazonaws.com/{bucket}, false for https://{bucket}.s3.{region}.amazonaws.com (buckets with dots always use path style); with endpoint set, requests always go to {endpoint}/{bucket}, which S3-compatible stores accept",
				Default: "false",
				Enum:    []string{"true", "false"},
			}),
			{
				Name:    "prefix",
				Label:   "Key prefix",
				Help:    "only objects whose key starts with this",
				Example: "exports/2026/",
			},
			fieldkit.BaseURL("API base override for proxies and local test servers; for S3-compatible stores set endpoint instead", "http://127.0.0.1:9000"),
		},
		Auths: []connector.AuthMethod{{
			ID:    "aws_keys",
			Check: checkKeys,
			Kind:  connector.AuthAWSKeys,
			Label: "Access key",
			Fields: []connector.Field{
				{
					Name:     "access_key_id",
					Label:    "Access key ID",
					Help:     "access key ID (AKIA... for IAM users, ASIA... for temporary credentials); not secret",
					Required: true,
					Example:  "AKIAIOSFODNN7EXAMPLE",
					Validate: validateAccessKeyID,
				},
				fieldkit.Secret("secret_access_key", "Secret access key", "secret access key that goes with access_key_id"),
				{
					Name:   "session_token",
					Label:  "Session token",
					Help:   "session token, only for temporary credentials (STS, IAM Identity Center)",
					Secret: true,
				},
			},
			HowTo: "In the AWS console > IAM > Users > (user) > Security credentials > Create access key; copy the\n" +
				"Access key ID into access_key_id and give the Secret access key with --secret-stdin (shown once).\n" +
				"The user needs s3:ListBucket on the bucket and s3:GetObject on its objects. Temporary\n" +
				"credentials also need session_token. S3-compatible stores: use the store's access key, set\n" +
				"endpoint (e.g. https://minio.example.com:9000); requests go to {endpoint}/{bucket}/{key} (path style).",
		}},
		Sources: []connector.Source{
			{Name: "objects", New: ObjectsSource, Help: "objects under prefix (ListObjectsV2; with download_dir, GetObject per key)", PrimaryKey: "key", IncrementalField: "last_modified",
				Params: []connector.Field{
					{Name: "prefix", Label: "Key prefix", Help: "only objects whose key starts with this (default: the connection's prefix)", Example: "exports/2026/"},
					{Name: "download_dir", Label: "Download folder", Help: "also download each object to <folder>/<key> (folders 0700, files 0600); records get path", Example: "/srv/s3-files"},
				}},
		},
		DocsURL: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html",
		Assumptions: "an endpoint means path-style addressing; checkpoints are capped at the server's Date minus one " +
			"second so objects written during a listing are not missed.",
	}
}

var (
	bucketChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`) })
	// Prefixes and suffixes AWS reserves for its own features.
	reservedPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// validateBucket applies the S3 general-purpose bucket naming rules.
func validateBucket(v string) error {
	if strings.HasPrefix(v, "s3://") || strings.HasPrefix(v, "arn:") || strings.Contains(v, "/") {
		name := strings.TrimPrefix(v, "s3://")
		if i := strings.LastIndex(name, ":"); i >= 0 {
			name = name[i+1:]
		}
		name, _, _ = strings.Cut(name, "/")
		return fmt.Errorf("bucket %q is not a bucket name: use the name alone, e.g. %s (put a key prefix in prefix)", v, name)
	}
	if len(v) < 3 || len(v) > 63 {
		return fmt.Errorf("bucket %q is not a bucket name: names are 3 to 63 characters long", v)
	}
	if !bucketChars().MatchString(v) {
		return fmt.Errorf("bucket %q is not a bucket name: use lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit", v)
	}
	if strings.Contains(v, "..") {
		return fmt.Errorf("bucket %q is not a bucket name: two dots in a row are not allowed", v)
	}
	if net.ParseIP(v) != nil {
		return fmt.Errorf("bucket %q is not a bucket name: it must not look like an IP address", v)
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(v, p) {
			return fmt.Errorf("bucket %q is not a bucket name: the prefix %s is reserved", v, p)
		}
	}
	for _, s := range reservedSuffixes {
		if strings.HasSuffix(v, s) {
			return fmt.Errorf("bucket %q is not a bucket name: the suffix %s is reserved (give the bucket's own name)", v, s)
		}
	}
	return nil
}

var region = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`) })

func validateRegion(v string) error {
	if region().MatchString(v) {
		return nil
	}
	return fmt.Errorf("region %q is not a region: use a code such as us-east-1 or eu-west-1 (lowercase, from the bucket's Properties)", v)
}

var keyID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._-]{3,128}$`) })

// validateAccessKeyID also catches a secret access key pasted into the
// non-secret access_key_id field, where it would land in the config file: AWS
// and most S3-compatible stores issue 40-character secrets and shorter IDs.
// Its messages never repeat the value, which may be that secret.
func validateAccessKeyID(v string) error {
	if len(v) == 40 && !strings.HasPrefix(v, "AKIA") && !strings.HasPrefix(v, "ASIA") {
		return errors.New("access_key_id looks like a secret access key: give that with --secret-stdin as secret_access_key, and put the key ID (e.g. AKIA...) here")
	}
	if keyID().MatchString(v) {
		return nil
	}
	return errors.New("access_key_id is not an access key ID: copy the Access key ID (letters and digits, e.g. AKIAIOSFODNN7EXAMPLE), not the secret")
}
