package s3bucket

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Profiles lists the profile names of the shared config and credentials
// files (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config
// and ~/.aws/credentials), sorted, "default" first. Missing files are no
// error.
func Profiles(lookupEnv func(string) (string, bool)) ([]string, error) {
	env := func(k string) string { v, _ := lookupEnv(k); return v }
	home := env("HOME")
	configFile, credsFile := env("AWS_CONFIG_FILE"), env("AWS_SHARED_CREDENTIALS_FILE")
	if configFile == "" {
		configFile = filepath.Join(home, ".aws", "config")
	}
	if credsFile == "" {
		credsFile = filepath.Join(home, ".aws", "credentials")
	}
	var names []string
	for _, f := range []struct {
		path   string
		prefix string // the config file names profiles "profile x", except default
	}{{configFile, "profile "}, {credsFile, ""}} {
		file, err := os.Open(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
				continue
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			if f.prefix != "" && name != "default" {
				var ok bool
				if name, ok = strings.CutPrefix(name, f.prefix); !ok {
					continue // [sso-session x], [services x]
				}
				name = strings.TrimSpace(name)
			}
			if name != "" && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		file.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "default":
			return -1
		case b == "default":
			return 1
		}
		return strings.Compare(a, b)
	})
	return names, nil
}
