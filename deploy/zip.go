package deploy

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// File is one entry of a zip.
type File struct {
	Name string
	Mode fs.FileMode
	Data []byte
}

// zipTime is every entry's modification time, so that the same inputs give
// the same bytes. 1980-01-01 is the earliest time a zip can store.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteZip writes files as a deflated zip whose bytes depend only on the
// files: entries sorted by name, fixed times, Unix modes kept (Lambda needs
// bootstrap executable), deflate at its best compression (15 KB less than
// archive/zip's default on the bootstrap; the zip is written once per
// package, read once per deploy). Names must be unique, relative and clean.
func WriteZip(w io.Writer, files []File) error {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	for i, f := range sorted {
		if !fs.ValidPath(f.Name) || f.Name == "." {
			return fmt.Errorf("deploy: zip entry name %q is not a clean relative path", f.Name)
		}
		if i > 0 && sorted[i-1].Name == f.Name {
			return fmt.Errorf("deploy: zip entry %q appears twice", f.Name)
		}
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, f := range sorted {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(f.Mode.Perm())
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("deploy: zip %s: %w", f.Name, err)
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("deploy: zip %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("deploy: zip: %w", err)
	}
	return nil
}
