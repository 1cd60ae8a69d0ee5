package providers

import "sync"

// Secrets holds, in memory only, what must reach the bundle file and
// nowhere else: never the state file, output, logs or errors.
type Secrets struct {
	mu             sync.Mutex
	awsAccessKeyID string
	awsSecretKey   string
	gcpKeyJSON     []byte
}

// SetAWS records a new access key's secret.
func (s *Secrets) SetAWS(accessKeyID, secretAccessKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.awsAccessKeyID, s.awsSecretKey = accessKeyID, secretAccessKey
}

// AWS returns the access key recorded by SetAWS.
func (s *Secrets) AWS() (accessKeyID, secretAccessKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.awsAccessKeyID, s.awsSecretKey
}
