// Command pkgcheck lists the files a .deb package installs, one per line
// (./usr/bin/byob), so CI can check a snapshot package holds the binary,
// the manual pages and the completions without dpkg installed.
package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: pkgcheck FILE.deb")
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := list(bufio.NewReader(f), os.Stdout); err != nil {
		log.Fatalf("%s: %v", os.Args[1], err)
	}
}

// list reads the ar archive of a .deb and lists its data.tar.gz.
func list(r *bufio.Reader, w io.Writer) error {
	magic := make([]byte, 8)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "!<arch>\n" {
		return fmt.Errorf("not an ar archive")
	}
	for {
		hdr := make([]byte, 60)
		if _, err := io.ReadFull(r, hdr); err != nil {
			return fmt.Errorf("no data.tar.gz member")
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil {
			return fmt.Errorf("bad member size: %w", err)
		}
		body := io.LimitReader(r, size)
		if name == "data.tar.gz" {
			zr, err := gzip.NewReader(body)
			if err != nil {
				return err
			}
			tr := tar.NewReader(zr)
			for {
				h, err := tr.Next()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if h.Typeflag != tar.TypeDir {
					fmt.Fprintln(w, h.Name)
				}
			}
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return err
		}
		if size%2 == 1 { // members are padded to an even size
			if _, err := r.ReadByte(); err != nil {
				return err
			}
		}
	}
}
