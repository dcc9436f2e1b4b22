package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
)

// template.yaml's names and CloudFormation's limit on it.
const (
	// ViewerAuthResource is the CloudFront Function resource of viewer
	// mode; its FunctionCode is what PackageTemplate replaces.
	ViewerAuthResource = "ViewerAuthFunction"
	// TemplateName is the template's file name, in the repository
	// (deploy/template.yaml) and in make package's output.
	TemplateName = "template.yaml"
	// MaxTemplateBody is the largest template CloudFormation takes inline
	// (TemplateBody of CreateStack and UpdateStack); a larger one must be
	// uploaded to S3 first (aws cloudformation deploy --s3-bucket), up to
	// 460,800 bytes ("AWS CloudFormation quotas").
	MaxTemplateBody = 51200
)

// ErrNoFunctionCode is returned when a template has no block scalar
// FunctionCode for the named resource.
var ErrNoFunctionCode = errors.New("deploy: template has no FunctionCode block for the resource")

// PackageTemplate returns the template with ViewerAuthFunction's code
// replaced by code (the generated viewer function): what make package
// writes as <out>/template.yaml. CloudFormation cannot read the code from a
// file, and a parameter value holds at most 4,096 bytes, so the code goes
// into the template itself, as the repository's template holds its other
// function inline.
func PackageTemplate(tpl, code []byte) ([]byte, error) {
	return ReplaceFunctionCode(tpl, ViewerAuthResource, code)
}

// ReplaceFunctionCode puts code into the "FunctionCode: |" block of the
// top-level resource named resource in the template text, indented as the
// block is (eight spaces). The code must not be empty; every other byte of
// the template is kept.
func ReplaceFunctionCode(tpl []byte, resource string, code []byte) ([]byte, error) {
	if len(bytes.TrimSpace(code)) == 0 {
		return nil, errors.New("deploy: empty function code")
	}
	if code[0] == ' ' || code[0] == '\t' || code[0] == '\n' {
		// YAML takes a block's indentation from its first line.
		return nil, errors.New("deploy: function code must not start with white space")
	}
	start := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(resource) + `:\n(?:    .*\n|\n)*?      FunctionCode: \|\n`).FindIndex(tpl)
	if start == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoFunctionCode, resource)
	}
	// The block ends at the first non-blank line indented less than its
	// content (eight spaces).
	end := start[1]
	for end < len(tpl) {
		nl := bytes.IndexByte(tpl[end:], '\n')
		if nl < 0 {
			nl = len(tpl) - end - 1
		}
		line := tpl[end : end+nl+1]
		if len(bytes.TrimSpace(line)) > 0 && !bytes.HasPrefix(line, []byte("        ")) {
			break
		}
		end += nl + 1
	}
	var block bytes.Buffer
	for _, l := range bytes.Split(bytes.TrimRight(code, "\n"), []byte("\n")) {
		if len(l) > 0 {
			block.WriteString("        ")
		}
		block.Write(l)
		block.WriteByte('\n')
	}
	block.WriteByte('\n')
	out := make([]byte, 0, len(tpl)+block.Len())
	out = append(out, tpl[:start[1]]...)
	out = append(out, block.Bytes()...)
	return append(out, tpl[end:]...), nil
}
