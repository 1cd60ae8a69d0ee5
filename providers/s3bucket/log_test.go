package s3bucket

import (
	"bytes"
	"testing"

	"github.com/aws/smithy-go/logging"
)

// TestSDKLogLinesOnlyWithVerbose: the SDK's own warnings are dropped
// unless --verbose gives them a writer.
func TestSDKLogLinesOnlyWithVerbose(t *testing.T) {
	if _, ok := sdkLogger(nil).(logging.Nop); !ok {
		t.Error("without --verbose the SDK's lines must be dropped")
	}
	var b bytes.Buffer
	sdkLogger(&b).Logf(logging.Warn, "falling back to IMDSv1")
	if !bytes.Contains(b.Bytes(), []byte("WARN falling back to IMDSv1")) {
		t.Errorf("with --verbose: %q", b.String())
	}
}
