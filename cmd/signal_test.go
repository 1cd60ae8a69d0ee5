//go:build unix

package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestKillAndHangUpStopARunAsCtrlCDoes: SIGTERM and SIGHUP (a closed
// terminal) stop a run like Ctrl-C: exit 130, the JSON run ends with its
// cancelled error, and the lock file is gone.
func TestKillAndHangUpStopARunAsCtrlCDoes(t *testing.T) {
	bin := buildByob(t, "")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
			if err != nil {
				t.Fatal(err)
			}
			defer silent.Close()
			// A connection it accepts is the run waiting on it.
			waiting := make(chan net.Conn, 16)
			go func() {
				for {
					c, err := silent.Accept()
					if err != nil {
						return
					}
					waiting <- c
				}
			}()
			dir := t.TempDir()
			cmd := exec.Command(bin, "init", "--provider", "s3", "--bucket", "acme-signals", "--region", "us-east-1", "--yes", "--output", "json")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "AWS_ENDPOINT_URL=http://"+silent.Addr().String(),
				"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
			var out bytes.Buffer
			cmd.Stdout = &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select { // it waits on the silent endpoint
			case c := <-waiting:
				defer c.Close()
			case <-time.After(30 * time.Second):
				t.Fatal("byob never reached the endpoint")
			}
			_ = cmd.Process.Signal(sig)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitCancelled {
				t.Fatalf("exit: %v, want %d\n%s", err, ExitCancelled, out.String())
			}
			var doc struct {
				Error struct{ Kind string }
			}
			lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
			if json.Unmarshal(lines[len(lines)-1], &doc) != nil || doc.Error.Kind != "cancelled" {
				t.Errorf("stdout does not end with the cancelled error: %s", out.String())
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("left %s behind", entries[0].Name())
			}
		})
	}
}
