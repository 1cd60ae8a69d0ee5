package awstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	accessKeyRe = regexp.MustCompile(`<AccessKeyId>([^<]+)</AccessKeyId>`)
	secretKeyRe = regexp.MustCompile(`<SecretAccessKey>([^<]+)</SecretAccessKey>`)
	authRe      = regexp.MustCompile(`Credential=([^/]+)/([^/]+)/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)`)
)

// keyFrom reads the key of a CreateAccessKey answer.
func keyFrom(resp string) (id, secret string) {
	i, s := accessKeyRe.FindStringSubmatch(resp), secretKeyRe.FindStringSubmatch(resp)
	if i == nil || s == nil {
		return "", ""
	}
	return i[1], s[1]
}

// signedWith reports whether r's Signature Version 4 signature is the one
// secret makes: the request is signed again, with the headers, time and
// payload hash the client signed, and the signatures compared.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
func signedWith(r *http.Request, body []byte, secret string) bool {
	m := authRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return false
	}
	keyID, region, service, signed, signature := m[1], m[3], m[4], strings.Split(m[5], ";"), m[6]
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return false
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return false
	}
	for _, h := range signed {
		if h != "host" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	again.Host = r.Host
	hash := r.Header.Get("X-Amz-Content-Sha256") // S3 sends it; the query APIs sign the body's hash
	if hash == "" {
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hash, service, region, at); err != nil {
		return false
	}
	n := authRe.FindStringSubmatch(again.Header.Get("Authorization"))
	return n != nil && n[6] == signature
}
