// Command sizes shows what each dependency costs in a bootstrap: it builds
// the package for linux/amd64 as packaging does (plus an unstripped copy
// to read the symbols from), sums `go tool nm -size` by module path, and
// prints a Markdown table.
//
//	go run ./scripts/sizes [-tags t1,t2] [package]   # default ./cmd/bootstrap
//
// The standard library is one row per top-level package tree (net, crypto,
// ...). The function tables the runtime keeps for every function (the
// .gopclntab section and the go:func.* funcdata, near half the file) are
// shared out to the rows in proportion to their code; type descriptors of
// composite types, which belong to no one package, and what is left (ELF
// headers, tables nm does not size) are a row each, so the rows add up to
// the shipped file.
package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sizes:", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	fl := flag.NewFlagSet("sizes", flag.ContinueOnError)
	tags := fl.String("tags", "", "build tags, as go build -tags")
	if err := fl.Parse(args); err != nil {
		return err
	}
	pkg := "./cmd/bootstrap"
	if fl.NArg() > 0 {
		pkg = fl.Arg(0)
	}
	tmp, err := os.MkdirTemp("", "edgeauth-sizes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	full, stripped := filepath.Join(tmp, "full"), filepath.Join(tmp, "stripped")
	if err := build(pkg, *tags, full, "-buildid="); err != nil {
		return err
	}
	if err := build(pkg, *tags, stripped, "-s -w -buildid="); err != nil {
		return err
	}
	fi, err := os.Stat(stripped)
	if err != nil {
		return err
	}
	modules, err := packageModules(pkg, *tags)
	if err != nil {
		return err
	}
	syms, pclntab, err := symbols(full)
	if err != nil {
		return err
	}
	type row struct {
		name             string
		code, data, pcln int64
	}
	rows := map[string]*row{}
	var attributed, code int64
	tables := pclntab
	for _, s := range syms {
		attributed += s.size
		if strings.HasPrefix(s.name, "go:func.") {
			tables += s.size // per-function data, shared out below
			continue
		}
		name := rowOf(s.name, modules)
		r := rows[name]
		if r == nil {
			r = &row{name: name}
			rows[name] = r
		}
		if s.kind == 'T' || s.kind == 't' {
			r.code += s.size
			code += s.size
		} else {
			r.data += s.size
		}
	}
	var out []*row
	for _, r := range rows {
		r.pcln = tables * r.code / code
		out = append(out, r)
	}
	total := func(r *row) int64 { return r.code + r.data + r.pcln }
	slices.SortFunc(out, func(a, b *row) int { return int(total(b) - total(a)) })
	var shared int64
	for _, r := range out {
		shared += r.pcln
	}
	rest := fi.Size() - (attributed - (tables - pclntab)) - shared

	fmt.Fprintf(w, "%s (tags %q): %s bytes stripped\n\n", pkg, *tags, thousands(fi.Size()))
	fmt.Fprintln(w, "| module or std tree | code | data | function tables | total | share |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range out {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.1f %% |\n", r.name, thousands(r.code), thousands(r.data), thousands(r.pcln),
			thousands(total(r)), 100*float64(total(r))/float64(fi.Size()))
	}
	fmt.Fprintf(w, "| ELF headers, symbol-less tables | | | | %s | %.1f %% |\n", thousands(rest), 100*float64(rest)/float64(fi.Size()))
	return nil
}

func build(pkg, tags, out, ldflags string) error {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=" + ldflags, "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	return nil
}

// packageModules maps each package the binary links to its module path
// ("" for the standard library).
func packageModules(pkg, tags string) (map[string]string, error) {
	args := []string{"list", "-deps", "-f", "{{.ImportPath}}\t{{with .Module}}{{.Path}}{{end}}"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	m := map[string]string{}
	for line := range strings.Lines(string(b)) {
		p, mod, _ := strings.Cut(strings.TrimSpace(line), "\t")
		m[p] = mod
	}
	return m, nil
}

type symbol struct {
	name string
	size int64
	kind byte // nm's type letter: T text, R rodata, D data
}

// symbols lists the sized symbols of bin that take file space: those in
// sections with contents (not .bss or .noptrbss); and the size of the
// .gopclntab section.
func symbols(bin string) ([]symbol, int64, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, 0, err
	}
	var nobits [][2]uint64
	var pclntab int64
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOBITS {
			nobits = append(nobits, [2]uint64{s.Addr, s.Addr + s.Size})
		}
		if s.Name == ".gopclntab" {
			pclntab = int64(s.Size)
		}
	}
	f.Close()
	out, err := exec.Command("go", "tool", "nm", "-size", "-sort", "size", bin).Output()
	if err != nil {
		return nil, 0, fmt.Errorf("go tool nm: %w", err)
	}
	var syms []symbol
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// address size type name (the name may hold spaces)
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		addr, err1 := strconv.ParseUint(fields[0], 16, 64)
		size, err2 := strconv.ParseInt(fields[1], 10, 64)
		if err := errors.Join(err1, err2); err != nil || size == 0 || strings.ContainsAny(fields[2], "U") {
			continue
		}
		if slices.ContainsFunc(nobits, func(r [2]uint64) bool { return addr >= r[0] && addr < r[1] }) {
			continue
		}
		syms = append(syms, symbol{strings.Join(fields[3:], " "), size, fields[2][0]})
	}
	return syms, pclntab, sc.Err()
}

// rowOf names the row a symbol counts in: its package's module, or its
// standard library tree.
func rowOf(name string, modules map[string]string) string {
	n := strings.TrimPrefix(name, "type:")
	n = strings.TrimPrefix(n, "go:itab.")
	n = strings.TrimLeft(n, "*")
	if strings.HasPrefix(n, "go:") || strings.HasPrefix(n, "go.") {
		return "Go runtime metadata (funcdata, strings)"
	}
	head := n
	if i := strings.IndexAny(head, "[(, "); i >= 0 {
		head = head[:i]
	}
	slash := strings.LastIndexByte(head, '/')
	pkg := head
	if dot := strings.IndexByte(head[slash+1:], '.'); dot >= 0 {
		pkg = head[:slash+1+dot]
	}
	mod, ok := modules[pkg]
	switch {
	case !ok:
		return "types of no one package (maps, funcs, structs)"
	case mod != "":
		return mod
	}
	tree, _, _ := strings.Cut(strings.TrimPrefix(pkg, "vendor/"), "/")
	if strings.HasPrefix(pkg, "vendor/") {
		tree = "vendor/" + strings.Join(strings.SplitN(strings.TrimPrefix(pkg, "vendor/"), "/", 4)[:3], "/")
	}
	return "std: " + tree
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && c != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
