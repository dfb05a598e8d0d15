package worker

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// The source of a fetched package is what yaegi v0.16.1 reads, and yaegi
// lacks Go 1.21's min and max and Go 1.22's range over an integer, which
// current packages use. modulesFS serves such a package lowered, with the
// type information of its check (typeCheckFetched):
//
//   - `for i := range n` (n of a predeclared integer type or an untyped
//     constant) becomes `for i, n' := T(0), n; i < n'; i++`, n evaluated once;
//   - a use of the builtin min or max gets, in an added file, a generic
//     function of the package of that name with the builtin's results for
//     ordered values, NaN included.
//
// Other Go 1.22+ semantics (per-iteration loop variables) are yaegi's in
// fetched code: the cells' lowering passes apply to cells only.

// minMaxFile is the added file of a package that uses min or max.
const minMaxFile = "zz_unetlab_minmax.go"

const minMaxSrc = `

type __unetlab_ordered interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr | ~float32 | ~float64 | ~string
}

// min is the builtin min (Go 1.21), which yaegi v0.16.1 lacks.
func min[T __unetlab_ordered](x T, ys ...T) T {
	for _, y := range ys {
		if y != y || y < x {
			x = y
		}
	}
	return x
}

// max is the builtin max (Go 1.21), which yaegi v0.16.1 lacks.
func max[T __unetlab_ordered](x T, ys ...T) T {
	for _, y := range ys {
		if y != y || y > x {
			x = y
		}
	}
	return x
}
`

// lowerFetched returns the lowered files of a type-checked package (name
// -> source; only the files that change, and minMaxFile when needed).
func lowerFetched(fp *fetchedPkg, fset *token.FileSet, files []*ast.File, info *types.Info) (map[string][]byte, error) {
	out := map[string][]byte{}
	needMinMax := false
	for i, f := range files {
		name := fp.files[i]
		type edit struct {
			from, to int
			text     string
		}
		var edits []edit
		off := func(p token.Pos) int { return fset.Position(p).Offset }
		var src []byte
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				if b, ok := info.Uses[n].(*types.Builtin); ok && (b.Name() == "min" || b.Name() == "max") {
					needMinMax = true
				}
			case *ast.RangeStmt:
				tv, ok := info.Types[n.X]
				basic, isBasic := tv.Type.(*types.Basic)
				if !ok || !isBasic || basic.Info()&types.IsInteger == 0 || n.Value != nil || (n.Key != nil && n.Tok != token.DEFINE) {
					return true
				}
				if src == nil {
					var err error
					if src, err = os.ReadFile(filepath.Join(fp.dir, name)); err != nil {
						return false
					}
				}
				typ := basic.Name()
				if basic.Info()&types.IsUntyped != 0 {
					typ = "int"
				}
				key := "__unetlab_i"
				if id, ok := n.Key.(*ast.Ident); ok && id.Name != "_" {
					key = id.Name
				}
				x := string(src[off(n.X.Pos()):off(n.X.End())])
				edits = append(edits, edit{off(n.For), off(n.Body.Lbrace),
					fmt.Sprintf("for %s, __unetlab_n := %s(0), (%s); %s < __unetlab_n; %s++ ", key, typ, x, key, key)})
			}
			return true
		})
		if len(edits) == 0 {
			continue
		}
		if src == nil {
			return nil, fmt.Errorf("reading %s", name)
		}
		sort.Slice(edits, func(a, b int) bool { return edits[a].from > edits[b].from })
		text := bytes.Clone(src)
		for _, e := range edits {
			// Nested loops: an outer edit covers only its header, so
			// edits never overlap.
			text = append(text[:e.from:e.from], append([]byte(e.text), text[e.to:]...)...)
		}
		out[name] = text
	}
	if needMinMax {
		out[minMaxFile] = []byte("package " + fp.name + minMaxSrc)
	}
	return out, nil
}

// memFile is an fs.File over lowered source.
type memFile struct {
	name string
	r    *bytes.Reader
	size int64
}

func newMemFile(name string, data []byte) *memFile {
	return &memFile{name: name, r: bytes.NewReader(data), size: int64(len(data))}
}

func (f *memFile) Stat() (fs.FileInfo, error) { return memInfo{f.name, f.size}, nil }
func (f *memFile) Read(b []byte) (int, error) { return f.r.Read(b) }
func (f *memFile) Close() error               { return nil }

var _ io.Reader = (*memFile)(nil)

// memInfo is the fs.FileInfo of lowered source.
type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return filepath.Base(i.name) }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
