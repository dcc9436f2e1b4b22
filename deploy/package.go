package deploy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/edgeauth/edgeauth/shared/config"
)

// Artifact is one written zip.
type Artifact struct {
	Function string
	Path     string
	Size     int64
	// SHA256 is the zip's digest in hex; CodeSHA256 the same in base64, as
	// Lambda reports it (CodeSha256).
	SHA256, CodeSHA256 string
}

// Packager writes one Lambda@Edge zip per function.
type Packager struct {
	Builder *Builder
	// Out is the directory the zips are written to; created if missing.
	Out string
	// Functions to package; default Functions().
	Functions []Function
}

// Package builds every function and writes Out/<name>.zip holding the
// bridge, the bootstrap (0755) and configJSON as config.json, plus
// Out/config.json. It returns the zips in Functions order.
func (p *Packager) Package(ctx context.Context, configJSON []byte) ([]Artifact, error) {
	if p.Builder == nil {
		return nil, errors.New("deploy: packager has no builder")
	}
	if p.Out == "" {
		return nil, errors.New("deploy: packager has no output directory")
	}
	fns := p.Functions
	if len(fns) == 0 {
		fns = Functions()
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	// config.json holds the session keys and the client secret.
	if err := writeFile(filepath.Join(p.Out, config.FileName), configJSON, 0o600); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "edgeauth-build-")
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	defer os.RemoveAll(tmp)

	bridge := Bridge()
	arts := make([]Artifact, 0, len(fns))
	for _, fn := range fns {
		bin := filepath.Join(tmp, fn.Name, "bootstrap")
		if err := p.Builder.Build(ctx, fn.Package, bin); err != nil {
			return nil, err
		}
		exe, err := os.ReadFile(bin)
		if err != nil {
			return nil, fmt.Errorf("deploy: %w", err)
		}
		var buf bytes.Buffer
		err = WriteZip(&buf, []File{
			{Name: BridgeName, Mode: 0o644, Data: bridge},
			{Name: "bootstrap", Mode: 0o755, Data: exe},
			{Name: config.FileName, Mode: 0o644, Data: configJSON},
		})
		if err != nil {
			return nil, err
		}
		path := filepath.Join(p.Out, fn.Name+".zip")
		if err := writeFile(path, buf.Bytes(), 0o600); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(buf.Bytes())
		arts = append(arts, Artifact{
			Function:   fn.Name,
			Path:       path,
			Size:       int64(buf.Len()),
			SHA256:     hex.EncodeToString(sum[:]),
			CodeSHA256: base64.StdEncoding.EncodeToString(sum[:]),
		})
	}
	return arts, nil
}

// writeFile replaces path atomically, so a failed run never leaves half a
// zip that looks deployable.
func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("deploy: write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("deploy: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("deploy: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	return nil
}

// WriteSizeTable prints each zip's size against the Lambda@Edge limits.
func WriteSizeTable(w io.Writer, arts []Artifact) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\tzip bytes\tMiB\tviewer trigger (1 MiB)\torigin trigger (50 MiB)\tsha256\t")
	for _, a := range arts {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%s\t%s\t\n", a.Function, a.Size, float64(a.Size)/(1<<20),
			fits(a.Size, ViewerLimit), fits(a.Size, OriginLimit), a.SHA256[:12])
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	return nil
}

func fits(size, limit int64) string {
	if size <= limit {
		return fmt.Sprintf("fits (%.0f%%)", 100*float64(size)/float64(limit))
	}
	return fmt.Sprintf("TOO BIG (%.1fx)", float64(size)/float64(limit))
}
