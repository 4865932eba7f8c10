// Command zipdir writes a zip of files, keeping each file's Unix mode
// (FC needs the executable bit on the binary `main`). Pure Go, so that
// `make package` needs nothing but Go.
//
//	go run ./scripts/zipdir -C dist/code -o dist/picbed.zip main
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("C", ".", "directory the file names are relative to")
	out := flag.String("o", "", "zip file to write")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: zipdir -C dir -o out.zip file...")
		os.Exit(2)
	}
	if err := write(*out, *dir, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "zipdir:", err)
		os.Exit(1)
	}
}

func write(out, dir string, names []string) error {
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	zw := zip.NewWriter(f)
	for _, n := range names {
		if err := add(zw, dir, n); err != nil {
			f.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func add(zw *zip.Writer, dir, name string) error {
	src, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	h, err := zip.FileInfoHeader(fi) // carries the mode, executable bit included
	if err != nil {
		return err
	}
	h.Name = filepath.ToSlash(name)
	h.Method = zip.Deflate
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, src)
	return err
}
