package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/shared/config"
)

// The viewer-level mode's files, written into Packager.Out.
const (
	// ViewerFunctionName is the generated CloudFront Function's code.
	ViewerFunctionName = "viewer-function.js"
	// ViewerKVSName is its KeyValueStore's content in CloudFront's import
	// format ({"data":[{"key","value"}]}), which an
	// AWS::CloudFront::KeyValueStore ImportSource reads from S3 and
	// cfjs.OpenKeyValueStore reads locally.
	ViewerKVSName = "viewer-kvs.json"
)

// ViewerArtifact says what WriteViewerFunction wrote.
type ViewerArtifact struct {
	// TemplatePath is the template with the generated function inline
	// (PackageTemplate): the one to deploy with ViewerMode=true.
	TemplatePath string
	// TemplateSize is its size in bytes; past MaxTemplateBody it must be
	// uploaded to S3 to deploy (aws cloudformation deploy --s3-bucket).
	TemplateSize int
	FunctionPath string
	FunctionSize int // bytes, of viewerfn.MaxCodeSize
	// KVSPath is "" when the keys are inline in the function.
	KVSPath string
	// InlineKeys: the function's code holds the session hash keys.
	InlineKeys bool
}

// WriteViewerFunction generates the viewer-level mode's function from c
// (viewerfn.Generate) and writes Out/viewer-function.js, Out/template.yaml
// (tpl, the repository's deploy/template.yaml, with that function inline:
// CloudFormation reads no code from files) and, unless the keys are
// inline, Out/viewer-kvs.json. Each is 0600 when it holds the session hash
// keys, which let whoever reads them forge sessions. With inline keys a
// viewer-kvs.json left by an earlier run is removed, so a deploy cannot
// import keys the function no longer reads.
func (p *Packager) WriteViewerFunction(c *config.Config, o viewerfn.Options, tpl []byte) (ViewerArtifact, error) {
	if p.Out == "" {
		return ViewerArtifact{}, errors.New("deploy: packager has no output directory")
	}
	fn, err := viewerfn.Generate(c, o)
	if err != nil {
		return ViewerArtifact{}, fmt.Errorf("deploy: viewer function: %w", err)
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return ViewerArtifact{}, fmt.Errorf("deploy: %w", err)
	}
	a := ViewerArtifact{FunctionPath: filepath.Join(p.Out, ViewerFunctionName), FunctionSize: len(fn.Code), InlineKeys: o.InlineKeys}
	mode := os.FileMode(0o644)
	if o.InlineKeys {
		mode = 0o600
	}
	if err := writeFile(a.FunctionPath, fn.Code, mode); err != nil {
		return ViewerArtifact{}, err
	}
	packaged, err := PackageTemplate(tpl, fn.Code)
	if err != nil {
		return ViewerArtifact{}, err
	}
	a.TemplatePath, a.TemplateSize = filepath.Join(p.Out, TemplateName), len(packaged)
	if err := writeFile(a.TemplatePath, packaged, mode); err != nil {
		return ViewerArtifact{}, err
	}
	kvsPath := filepath.Join(p.Out, ViewerKVSName)
	if o.InlineKeys {
		if err := os.Remove(kvsPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return ViewerArtifact{}, fmt.Errorf("deploy: %w", err)
		}
		return a, nil
	}
	b, err := fn.KVSFile()
	if err != nil {
		return ViewerArtifact{}, err
	}
	if err := writeFile(kvsPath, b, 0o600); err != nil {
		return ViewerArtifact{}, err
	}
	a.KVSPath = kvsPath
	return a, nil
}
