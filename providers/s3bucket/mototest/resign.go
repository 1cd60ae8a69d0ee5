package mototest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
)

// resign replaces r's SigV4 signature with the one moto computes: the
// same canonical request but for the query, whose %2F moto reads as '/'
// (see Options.EnforceIAM). A request of a key whose secret is unknown
// goes as it came.
func (s *Server) resign(r *http.Request) {
	auth := r.Header.Get("Authorization")
	cred := between(auth, "Credential=", ",")
	id, scope, _ := strings.Cut(cred, "/")
	s.mu.Lock()
	secret, ok := s.secrets[id]
	s.mu.Unlock()
	if !ok {
		return
	}
	signed := strings.Split(between(auth, "SignedHeaders=", ","), ";")
	var headers []string
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		headers = append(headers, h+":"+strings.Join(strings.Fields(v), " ")+"\n")
	}
	pairs := strings.Split(strings.ReplaceAll(r.URL.RawQuery, "%2F", "/"), "&")
	for i, p := range pairs {
		if !strings.Contains(p, "=") {
			pairs[i] = p + "="
		}
	}
	slices.Sort(pairs)
	canonical := strings.Join([]string{r.Method, r.URL.EscapedPath(), strings.Join(pairs, "&"),
		strings.Join(headers, ""), strings.Join(signed, ";"), r.Header.Get("X-Amz-Content-Sha256")}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + r.Header.Get("X-Amz-Date") + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + secret)
	for _, part := range strings.Split(scope, "/") { // date, region, service, aws4_request
		key = hmacSHA256(key, part)
	}
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	old := between(auth, "Signature=", ",")
	r.Header.Set("Authorization", strings.Replace(auth, "Signature="+old, "Signature="+sig, 1))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// between is what s holds between first and the next sep (or its end).
func between(s, first, sep string) string {
	_, after, _ := strings.Cut(s, first)
	v, _, _ := strings.Cut(after, sep)
	return v
}
