package providers_test

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers"
)

// TestCannotRunBlamesTheNetworkWhenNothingAnswered: a check whose cloud
// could not be reached is not told to grant a permission.
func TestCannotRunBlamesTheNetworkWhenNothingAnswered(t *testing.T) {
	dns := &url.Error{Op: "Get", URL: "http://123456789012.localhost:5123/v20180820/configuration/publicAccessBlock",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Name: "123456789012.localhost", Err: "no such host", IsNotFound: true}}}
	res := providers.CannotRun(dns, "grant s3:GetAccountPublicAccessBlock and re-run byob verify")
	if res.Status != providers.Unknown || strings.Contains(res.Remedy, "grant") || !strings.Contains(res.Remedy, "the name 123456789012.localhost does not resolve") {
		t.Errorf("unreachable: %+v", res)
	}
	denied := errors.New("AccessDenied: not authorized")
	if res := providers.CannotRun(denied, "grant s3:GetAccountPublicAccessBlock"); res.Remedy != "grant s3:GetAccountPublicAccessBlock" {
		t.Errorf("denied: %+v", res)
	}
}
