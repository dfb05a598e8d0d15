package apistyle

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// layers is the package table of ARCHITECTURE.md, top to bottom: a package
// may import only packages of a later layer (or of its own layer, where a
// layer lists a family whose members are ordered by their own tests). Paths
// are relative to the module; a path ending in "/" covers the folder's
// packages. Every package of the module must be listed, so a new package
// is placed on purpose.
var layers = [][]string{
	{"bench/"},
	{"cmd/unetlab"},
	{"kernel"},
	{"kernel/worker/host"},
	{"kernel/worker"},
	{"kernel/worker/symtypes"},
	{"kernel/worker/proto"},
	{"kernel/wire"},
	{"kernel/cell"},
	{"stdlib"},
	{"widget/views"},
	{"grid"},
	{"train/search"},
	{"viz"},
	{"train"},
	{"paper"},
	{"stats"},
	{"models"},
	{"models/safetensors"},
	{"models/nn"},
	{"models/nn/internal/"},
	{"volume/phantom"},
	{"volume/batch"},
	{"volume/augment"},
	{"volume/decathlon", "volume/split"},
	{"volume"},
	{"widget"},
	{"display", "comm"},
	{"rng"},
	{"install"},
	{"internal/"},
}

// layerOf returns the index in layers of a module-relative package path, or
// -1 when no entry covers it.
func layerOf(rel string) int {
	for i, l := range layers {
		for _, p := range l {
			if rel == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p)) {
				return i
			}
		}
	}
	return -1
}

// upwardImports lists, for every package, the module packages it imports
// from its own or an earlier layer (and packages no layer covers).
func upwardImports(pkgs []*srcPackage) []string {
	var bad []string
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.path, modulePath), "/")
		from := layerOf(rel)
		if from < 0 {
			bad = append(bad, fmt.Sprintf("%s: not in the layers of ARCHITECTURE.md", rel))
			continue
		}
		seen := map[string]bool{}
		for _, f := range p.files {
			for _, im := range f.f.Imports {
				path, err := strconv.Unquote(im.Path.Value)
				if err != nil || !strings.HasPrefix(path, modulePath+"/") || seen[path] {
					continue
				}
				seen[path] = true
				to := strings.TrimPrefix(path, modulePath+"/")
				if l := layerOf(to); l < 0 || l < from || (l == from && to != rel && !sameFamily(rel, to)) {
					bad = append(bad, fmt.Sprintf("%s imports %s (%s)", rel, to, f.name))
				}
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// sameFamily reports whether two packages of one layer may import each
// other: members of a "folder/" entry (internal/..., bench/...).
func sameFamily(a, b string) bool {
	i := layerOf(a)
	for _, p := range layers[i] {
		if strings.HasSuffix(p, "/") && strings.HasPrefix(a, p) && strings.HasPrefix(b, p) {
			return true
		}
	}
	return false
}

// TestLayers fails on an import that runs up the package table of
// ARCHITECTURE.md (train importing viz, say): data flows from the producer
// down to its consumers only.
func TestLayers(t *testing.T) {
	pkgs, err := load(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if bad := upwardImports(pkgs); len(bad) > 0 {
		t.Errorf("%d imports break the layers of ARCHITECTURE.md:\n\t%s", len(bad), strings.Join(bad, "\n\t"))
	}
}

// TestLayersCatch: the check finds an upward import and an unlisted package.
func TestLayersCatch(t *testing.T) {
	train := parsePackage(t, modulePath+"/train", `package train
import _ "`+modulePath+`/viz"`)
	viz := parsePackage(t, modulePath+"/viz", `package viz
import _ "`+modulePath+`/train"`)
	odd := parsePackage(t, modulePath+"/util", `package util`)
	got := upwardImports([]*srcPackage{train, viz, odd})
	want := []string{"train imports viz (0)", "util: not in the layers of ARCHITECTURE.md"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("upwardImports = %q, want %q", got, want)
	}
}
