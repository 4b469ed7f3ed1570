package s3

import (
	"fmt"
	"net/url"
	"strings"
)

// BucketURL says where a bucket is; `connctl test` (keycheck) and the
// objects source address it the same way:
//   - base_url or endpoint set: path style against it, {base}/{bucket}
//     (S3-compatible stores accept it whatever their virtual-host setup);
//   - path_style=true, or a bucket name with dots (which the *.s3 TLS
//     certificate does not cover): https://s3.{region}.amazonaws.com/{bucket};
//   - otherwise virtual-hosted style: https://{bucket}.s3.{region}.amazonaws.com.
//
// custom reports an endpoint or base_url (not AWS's own S3). The URL has no
// query; its Path is unescaped and has no trailing slash (empty for a
// virtual-hosted bucket): object keys follow as "/" + key. The error names
// the field at fault.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
func BucketURL(bucket, region, endpoint, baseURL, pathStyle string) (u *url.URL, custom bool, err error) {
	base, field := strings.TrimRight(baseURL, "/"), "base_url"
	if base == "" {
		base, field = strings.TrimRight(endpoint, "/"), "endpoint"
	}
	switch {
	case base != "":
		u, err := url.Parse(base)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, true, fmt.Errorf("the connection's %s is not an http(s) URL: use one such as https://minio.example.com:9000", field)
		}
		u.User, u.RawQuery, u.Fragment, u.RawPath = nil, "", "", ""
		u.Path = strings.TrimRight(u.Path, "/") + "/" + bucket
		return u, true, nil
	case pathStyle == "true" || strings.Contains(bucket, "."):
		return &url.URL{Scheme: "https", Host: "s3." + region + ".amazonaws.com", Path: "/" + bucket}, false, nil
	default:
		return &url.URL{Scheme: "https", Host: bucket + ".s3." + region + ".amazonaws.com"}, false, nil
	}
}
