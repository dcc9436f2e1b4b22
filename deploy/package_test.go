package deploy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/deploy"
)

func TestWriteZipDeterministic(t *testing.T) {
	files := []deploy.File{
		{Name: "index.mjs", Mode: 0o644, Data: []byte("export const handler = 1;\n")},
		{Name: "bootstrap", Mode: 0o755, Data: bytes.Repeat([]byte("\x7fELF"), 1000)},
		{Name: "config.json", Mode: 0o644, Data: []byte(`{"a":1}`)},
	}
	var a, b bytes.Buffer
	if err := deploy.WriteZip(&a, files); err != nil {
		t.Fatal(err)
	}
	// Same files in another order, another moment: same bytes.
	if err := deploy.WriteZip(&b, []deploy.File{files[2], files[0], files[1]}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("WriteZip output depends on input order")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode fs.FileMode
	}{{"bootstrap", 0o755}, {"config.json", 0o644}, {"index.mjs", 0o644}}
	if len(zr.File) != len(want) {
		t.Fatalf("zip has %d entries, want %d", len(zr.File), len(want))
	}
	for i, f := range zr.File {
		if f.Name != want[i].name || f.Mode().Perm() != want[i].mode {
			t.Errorf("entry %d = %s %v, want %s %v", i, f.Name, f.Mode().Perm(), want[i].name, want[i].mode)
		}
		if !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("entry %s modified %v, want the fixed 1980-01-01", f.Name, f.Modified)
		}
		if f.Method != zip.Deflate {
			t.Errorf("entry %s method %d, want deflate", f.Name, f.Method)
		}
	}
}

func TestWriteZipRejects(t *testing.T) {
	for _, files := range [][]deploy.File{
		{{Name: "../x"}},
		{{Name: "/abs"}},
		{{Name: "a"}, {Name: "a"}},
		{{Name: ""}},
	} {
		if err := deploy.WriteZip(io.Discard, files); err == nil {
			t.Errorf("WriteZip(%v) succeeded", files)
		}
	}
}

func TestBuildFails(t *testing.T) {
	b := &deploy.Builder{Root: moduleRoot(t)}
	err := b.Build(context.Background(), "./deploy/testdata/no-such-package", filepath.Join(t.TempDir(), "bootstrap"))
	if !errors.Is(err, deploy.ErrBuild) {
		t.Errorf("Build(missing) = %v, want ErrBuild", err)
	}
}

func readZip(t *testing.T, path string) map[string]*zip.File {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zr.Close() })
	m := map[string]*zip.File{}
	for _, f := range zr.File {
		m[f.Name] = f
	}
	return m
}

func content(t *testing.T, f *zip.File) []byte {
	t.Helper()
	r, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPackage builds a bootstrap (the testdata function, quicker to build
// than cmd/bootstrap) into the zip twice and checks the zip's layout and
// that the bytes repeat.
func TestPackage(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("needs a Unix go toolchain")
	}
	cfg := []byte("{\"clientId\":\"x\"}\n")
	run := func(out string) deploy.Artifact {
		p := &deploy.Packager{Builder: &deploy.Builder{Root: moduleRoot(t)}, Out: out, Bootstrap: "./deploy/testdata/echo"}
		art, err := p.Package(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return art
	}
	out1, out2 := t.TempDir(), filepath.Join(t.TempDir(), "dist")
	a1, a2 := run(out1), run(out2)
	if a1.Name != deploy.ZipName || a1.Path != filepath.Join(out1, deploy.ZipName+".zip") {
		t.Fatalf("artifact = %+v, want %s.zip in the output directory", a1, deploy.ZipName)
	}
	b1, err := os.ReadFile(a1.Path)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := os.ReadFile(a2.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) || a1.SHA256 != a2.SHA256 {
		t.Error("two packagings of the same inputs differ")
	}
	if a1.Size != int64(len(b1)) {
		t.Errorf("size %d, file has %d", a1.Size, len(b1))
	}
	if entries, _ := os.ReadDir(out1); len(entries) != 2 {
		t.Errorf("output directory holds %d files, want the zip and config.json", len(entries))
	}
	z := readZip(t, a1.Path)
	if len(z) != 3 {
		t.Errorf("zip entries = %d, want 3", len(z))
	}
	if f := z["bootstrap"]; f == nil || f.Mode().Perm() != 0o755 {
		t.Errorf("bootstrap missing or not 0755: %v", f)
	} else if elf := content(t, f); !bytes.HasPrefix(elf, []byte("\x7fELF")) || elf[18] != 0x3e {
		// e_machine 0x3e: x86-64, whatever this machine is.
		t.Errorf("bootstrap is not a linux x86-64 ELF")
	} else if info, err := buildinfo.Read(bytes.NewReader(elf)); err != nil {
		t.Errorf("bootstrap build info: %v", err)
	} else if got := setting(info, "-tags"); got != strings.Join(deploy.BuildTags, ",") {
		t.Errorf("bootstrap built with -tags=%q, want %q", got, strings.Join(deploy.BuildTags, ","))
	}
	if f := z["config.json"]; f == nil || !bytes.Equal(content(t, f), cfg) {
		t.Errorf("config.json missing or changed")
	}
	if f := z[deploy.BridgeName]; f == nil || !bytes.Equal(content(t, f), deploy.Bridge()) {
		t.Errorf("%s missing or not the bridge", deploy.BridgeName)
	}
	if b, err := os.ReadFile(filepath.Join(out1, "config.json")); err != nil || !bytes.Equal(b, cfg) {
		t.Errorf("dist/config.json = %q, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(out1, "config.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dist/config.json mode = %v, want 0600", fi.Mode().Perm())
	}

	var table bytes.Buffer
	if err := deploy.WriteSizeTable(&table, []deploy.Artifact{a1}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{deploy.ZipName + ".zip", "viewer trigger (1 MiB)", "origin trigger (50 MiB)", "TOO BIG", "fits"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("size table lacks %q:\n%s", want, table.String())
		}
	}
}

func setting(info *buildinfo.BuildInfo, key string) string {
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// TestMakefileBuildsAsPackaged: make build's bootstrap (the one e2e and
// the local edge's runtime-api mode run) is built with the packaging tags.
func TestMakefileBuildsAsPackaged(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	want := "-tags=" + strings.Join(deploy.BuildTags, ",")
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "BUILDFLAGS :=") {
			if !strings.Contains(line, want) || !strings.Contains(line, "-trimpath") || !strings.Contains(line, "-s -w") {
				t.Errorf("Makefile %s  want %s, -trimpath and -s -w, as deploy.Builder", line, want)
			}
			return
		}
	}
	t.Error("Makefile has no BUILDFLAGS")
}

func TestSizeTableVerdicts(t *testing.T) {
	var buf bytes.Buffer
	arts := []deploy.Artifact{
		{Name: "small", Size: 512 << 10, SHA256: strings.Repeat("a", 64)},
		{Name: "huge", Size: 60 << 20, SHA256: strings.Repeat("b", 64)},
	}
	if err := deploy.WriteSizeTable(&buf, arts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("table:\n%s", buf.String())
	}
	if strings.Count(lines[1], "fits") != 2 {
		t.Errorf("512 KiB row: %q, want fits twice", lines[1])
	}
	if strings.Count(lines[2], "TOO BIG") != 2 {
		t.Errorf("60 MiB row: %q, want TOO BIG twice", lines[2])
	}
}
