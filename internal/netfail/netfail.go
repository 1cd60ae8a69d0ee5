// Package netfail tells network errors that no retry will fix: the host
// does not exist, nothing listens on its port, or its certificate is not
// to be trusted. Clients stop at once on them instead of retrying until
// their timeout.
package netfail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// Lasting reports an error a retry will not fix.
func Lasting(err error) bool {
	if err == nil {
		return false
	}
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case notTLS(err):
		return true
	case errors.As(err, &dns):
		return dns.IsNotFound
	case errors.Is(err, syscall.ECONNREFUSED):
		return true
	}
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}

// Unreachable says why a request got no answer, in a phrase that names
// where it went ("the name sts.amazonaws.com does not resolve"), and
// false for an error that is not about reaching the endpoint (an answer
// the server gave, missing credentials).
func Unreachable(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	var dns *net.DNSError
	var op *net.OpError
	var ue *url.Error
	host := ""
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
	}
	dialed := "" // the address a connection was tried to
	for e := err; e != nil; e = errors.Unwrap(e) {
		if o, ok := e.(*net.OpError); ok && o.Addr != nil {
			dialed = o.Addr.String()
			break
		}
	}
	if host == "" {
		host = dialed
	}
	switch {
	case errors.As(err, &op) && op.Op == "proxyconnect":
		proxy := dialed
		if proxy == "" && errors.As(err, &dns) {
			proxy = dns.Name // its name did not resolve
		}
		return fmt.Sprintf("the proxy at %s (HTTPS_PROXY) cannot be reached", proxy), true
	case notTLS(err):
		return fmt.Sprintf("%s does not answer in TLS: check that the endpoint is http:// or https:// as the server is", host), true
	case errors.As(err, &dns):
		return fmt.Sprintf("the name %s does not resolve (DNS)", dns.Name), true
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing accepts connections at %s", host), true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("the network has no route to %s", host), true
	case ue != nil && ue.Timeout(), errors.Is(err, context.DeadlineExceeded) && host != "":
		return fmt.Sprintf("%s did not answer in time", host), true
	}
	return "", false
}

// notTLS reports an https:// request answered in plain HTTP: net/http
// says so only in its message.
func notTLS(err error) bool {
	var record tls.RecordHeaderError
	return errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}
