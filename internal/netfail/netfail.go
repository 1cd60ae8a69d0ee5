// Package netfail tells network errors that no retry will fix: the host
// does not exist, nothing listens on its port, or its certificate is not
// to be trusted. Clients stop at once on them instead of retrying until
// their timeout.
package netfail

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
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
	case errors.As(err, &dns):
		return dns.IsNotFound
	case errors.Is(err, syscall.ECONNREFUSED):
		return true
	}
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}
