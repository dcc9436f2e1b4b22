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

// Artifact is the written zip.
type Artifact struct {
	Name string // the zip's base name, without .zip
	Path string
	Size int64
	// SHA256 is the zip's digest in hex; CodeSHA256 the same in base64, as
	// Lambda reports it (CodeSha256).
	SHA256, CodeSHA256 string
}

// Default names of what Packager builds and writes.
const (
	// BootstrapPackage is the one binary the three functions share.
	BootstrapPackage = "./cmd/bootstrap"
	// ZipName is the base name of the one zip.
	ZipName = "edgeauth"
)

// Packager writes the suite's Lambda@Edge zip: one bootstrap holding the
// three functions, which the three Lambda functions share (each runs the
// function its name ends in; see cmd/bootstrap).
type Packager struct {
	Builder *Builder
	// Out is the directory the zip is written to; created if missing.
	Out string
	// Bootstrap is the Go package of the bootstrap, relative to the module
	// root; default BootstrapPackage.
	Bootstrap string
	// Name is the zip's base name; default ZipName.
	Name string
}

// Package builds the bootstrap and writes Out/<Name>.zip holding the
// bridge, the bootstrap (0755) and configJSON as config.json, plus
// Out/config.json.
func (p *Packager) Package(ctx context.Context, configJSON []byte) (Artifact, error) {
	if p.Builder == nil {
		return Artifact{}, errors.New("deploy: packager has no builder")
	}
	if p.Out == "" {
		return Artifact{}, errors.New("deploy: packager has no output directory")
	}
	pkg, name := p.Bootstrap, p.Name
	if pkg == "" {
		pkg = BootstrapPackage
	}
	if name == "" {
		name = ZipName
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("deploy: %w", err)
	}
	// config.json holds the session keys and the client secret.
	if err := writeFile(filepath.Join(p.Out, config.FileName), configJSON, 0o600); err != nil {
		return Artifact{}, err
	}
	tmp, err := os.MkdirTemp("", "edgeauth-build-")
	if err != nil {
		return Artifact{}, fmt.Errorf("deploy: %w", err)
	}
	defer os.RemoveAll(tmp)

	bin := filepath.Join(tmp, "bootstrap")
	if err := p.Builder.Build(ctx, pkg, bin); err != nil {
		return Artifact{}, err
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return Artifact{}, fmt.Errorf("deploy: %w", err)
	}
	var buf bytes.Buffer
	err = WriteZip(&buf, []File{
		{Name: BridgeName, Mode: 0o644, Data: Bridge()},
		{Name: "bootstrap", Mode: 0o755, Data: exe},
		{Name: config.FileName, Mode: 0o644, Data: configJSON},
	})
	if err != nil {
		return Artifact{}, err
	}
	path := filepath.Join(p.Out, name+".zip")
	if err := writeFile(path, buf.Bytes(), 0o600); err != nil {
		return Artifact{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	return Artifact{
		Name:       name,
		Path:       path,
		Size:       int64(buf.Len()),
		SHA256:     hex.EncodeToString(sum[:]),
		CodeSHA256: base64.StdEncoding.EncodeToString(sum[:]),
	}, nil
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
	fmt.Fprintln(tw, "zip\tbytes\tMiB\tviewer trigger (1 MiB)\torigin trigger (50 MiB)\tsha256\t")
	for _, a := range arts {
		fmt.Fprintf(tw, "%s.zip\t%d\t%.2f\t%s\t%s\t%s\t\n", a.Name, a.Size, float64(a.Size)/(1<<20),
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
