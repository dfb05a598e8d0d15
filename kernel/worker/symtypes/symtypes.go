// Package symtypes gives go/types the packages of yaegi symbol tables: an
// importer whose types.Package objects are built from the reflect.Values of
// the tables (github.com/unetlab/unetlab/stdlib), so that a cell is type
// checked against exactly the packages the interpreter can import.
//
// A table maps "path/name" to the package's exported members:
//
//   - a function is its non-addressable func value;
//   - a variable is an addressable value (reflect.ValueOf(&v).Elem());
//   - a type is a nil pointer to it ((*T)(nil));
//   - an untyped constant is a go/constant.Value, a typed one its value;
//   - names starting with "_" are yaegi's interface wrappers and skipped.
//
// Packages are built lazily, one per Import, and cached by the Importer:
// types reached from a package's members (struct fields, method
// signatures) are converted on demand, and named types of a path the tables
// do not list go into a scope-less stand-in package of that path. Generic
// functions and types cannot be in a table (they have no reflect.Value), so
// the generic part of the standard library is not known here.
package symtypes

import (
	"fmt"
	"go/constant"
	"go/token"
	"go/types"
	"reflect"
	"strings"
	"sync"
)

// Importer is a types.Importer over yaegi symbol tables. The zero value is
// not usable; use New. It is safe for concurrent use.
type Importer struct {
	tables map[string]map[string]reflect.Value // "path/name" -> members

	mu       sync.Mutex
	byPath   map[string]string // import path -> table key
	pkgs     map[string]*types.Package
	complete map[string]bool // packages whose scope is filled from a table
	named    map[reflect.Type]types.Type
}

// New returns an importer over tables, keyed "path/name" as in yaegi's
// interp.Exports. The tables are read, never modified.
func New(tables map[string]map[string]reflect.Value) *Importer {
	im := &Importer{
		tables:   tables,
		byPath:   map[string]string{},
		pkgs:     map[string]*types.Package{},
		complete: map[string]bool{},
		named:    map[reflect.Type]types.Type{},
	}
	for key := range tables {
		if i := strings.LastIndexByte(key, '/'); i > 0 {
			im.byPath[key[:i]] = key
		}
	}
	return im
}

// Has reports whether path is a package of the tables (or "unsafe").
func (im *Importer) Has(path string) bool {
	if path == "unsafe" {
		return true
	}
	_, ok := im.byPath[path]
	return ok
}

// Import returns the package of path, built from its table on first use.
func (im *Importer) Import(path string) (*types.Package, error) {
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	key, ok := im.byPath[path]
	if !ok {
		return nil, fmt.Errorf("symtypes: package %q is not in the symbol tables", path)
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	pkg := im.pkg(path, key[strings.LastIndexByte(key, '/')+1:])
	if im.complete[path] {
		return pkg, nil
	}
	if err := im.fill(pkg, im.tables[key]); err != nil {
		return nil, fmt.Errorf("symtypes: building package %q: %w", path, err)
	}
	im.complete[path] = true
	pkg.MarkComplete()
	return pkg, nil
}

// ImportFrom implements types.ImporterFrom; dir and mode are unused.
func (im *Importer) ImportFrom(path, _ string, _ types.ImportMode) (*types.Package, error) {
	return im.Import(path)
}

// pkg returns the (maybe still empty) package object of path.
func (im *Importer) pkg(path, name string) *types.Package {
	if p := im.pkgs[path]; p != nil {
		return p
	}
	if name == "" {
		if key, ok := im.byPath[path]; ok {
			name = key[strings.LastIndexByte(key, '/')+1:]
		} else {
			name = path[strings.LastIndexByte(path, '/')+1:]
		}
	}
	p := types.NewPackage(path, name)
	im.pkgs[path] = p
	return p
}

var constantValueType = reflect.TypeOf((*constant.Value)(nil)).Elem()

// fill declares the members of table in pkg's scope.
func (im *Importer) fill(pkg *types.Package, table map[string]reflect.Value) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	scope := pkg.Scope()
	for name, v := range table {
		if strings.HasPrefix(name, "_") || !v.IsValid() || !token.IsExported(name) {
			continue
		}
		var obj types.Object
		switch {
		case v.Type().Implements(constantValueType) && !v.CanAddr():
			cv, _ := v.Interface().(constant.Value)
			if cv == nil {
				continue
			}
			obj = types.NewConst(token.NoPos, pkg, name, untypedOf(cv), cv)
		case v.CanAddr():
			obj = types.NewVar(token.NoPos, pkg, name, im.typ(v.Type()))
		case v.Kind() == reflect.Pointer && v.IsNil():
			t := im.typ(v.Type().Elem())
			if n, ok := t.(*types.Named); ok && n.Obj().Name() == name && n.Obj().Pkg() == pkg {
				obj = n.Obj()
			} else {
				obj = types.NewTypeName(token.NoPos, pkg, name, t) // an alias
			}
		case v.Kind() == reflect.Func:
			sig, _ := im.typ(v.Type()).(*types.Signature)
			obj = types.NewFunc(token.NoPos, pkg, name, sig)
		default:
			cv, ok := constOf(v)
			if !ok {
				obj = types.NewVar(token.NoPos, pkg, name, im.typ(v.Type()))
				break
			}
			obj = types.NewConst(token.NoPos, pkg, name, im.typ(v.Type()), cv)
		}
		if alt := scope.Insert(obj); alt != nil && alt != obj {
			return fmt.Errorf("member %s declared twice", name)
		}
	}
	return nil
}

// untypedOf is the untyped basic type of a constant value.
func untypedOf(v constant.Value) types.Type {
	switch v.Kind() {
	case constant.Bool:
		return types.Typ[types.UntypedBool]
	case constant.String:
		return types.Typ[types.UntypedString]
	case constant.Float:
		return types.Typ[types.UntypedFloat]
	case constant.Complex:
		return types.Typ[types.UntypedComplex]
	}
	return types.Typ[types.UntypedInt]
}

// constOf is the constant value of a typed constant of the tables.
func constOf(v reflect.Value) (constant.Value, bool) {
	switch v.Kind() {
	case reflect.Bool:
		return constant.MakeBool(v.Bool()), true
	case reflect.String:
		return constant.MakeString(v.String()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return constant.MakeInt64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return constant.MakeUint64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		return constant.MakeFloat64(v.Float()), true
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		return constant.BinaryOp(constant.MakeFloat64(real(c)), token.ADD,
			constant.MakeImag(constant.MakeFloat64(imag(c)))), true
	}
	return nil, false
}

var basicKinds = map[reflect.Kind]types.BasicKind{
	reflect.Bool: types.Bool, reflect.Int: types.Int, reflect.Int8: types.Int8, reflect.Int16: types.Int16,
	reflect.Int32: types.Int32, reflect.Int64: types.Int64, reflect.Uint: types.Uint, reflect.Uint8: types.Uint8,
	reflect.Uint16: types.Uint16, reflect.Uint32: types.Uint32, reflect.Uint64: types.Uint64,
	reflect.Uintptr: types.Uintptr, reflect.Float32: types.Float32, reflect.Float64: types.Float64,
	reflect.Complex64: types.Complex64, reflect.Complex128: types.Complex128, reflect.String: types.String,
	reflect.UnsafePointer: types.UnsafePointer,
}

var errorType = reflect.TypeOf((*error)(nil)).Elem()

// typ converts a reflect type. Named types are cached before their
// underlying type is built, so recursive types end.
func (im *Importer) typ(t reflect.Type) types.Type {
	if t == errorType {
		return types.Universe.Lookup("error").Type()
	}
	if t.Name() != "" && t.PkgPath() != "" {
		return im.namedType(t)
	}
	if t.Name() != "" && t.PkgPath() == "" {
		if k, ok := basicKinds[t.Kind()]; ok {
			return types.Typ[k]
		}
	}
	return im.structure(t)
}

// structure converts t by its kind, ignoring its name: the type literal of
// an unnamed type, the underlying type of a named one.
func (im *Importer) structure(t reflect.Type) types.Type {
	switch t.Kind() {
	case reflect.Pointer:
		return types.NewPointer(im.typ(t.Elem()))
	case reflect.Slice:
		return types.NewSlice(im.typ(t.Elem()))
	case reflect.Array:
		return types.NewArray(im.typ(t.Elem()), int64(t.Len()))
	case reflect.Map:
		return types.NewMap(im.typ(t.Key()), im.typ(t.Elem()))
	case reflect.Chan:
		dir := types.SendRecv
		switch t.ChanDir() {
		case reflect.SendDir:
			dir = types.SendOnly
		case reflect.RecvDir:
			dir = types.RecvOnly
		}
		return types.NewChan(dir, im.typ(t.Elem()))
	case reflect.Func:
		return im.signature(nil, t, 0)
	case reflect.Struct:
		return im.structType(t)
	case reflect.Interface:
		return im.interfaceType(t)
	}
	if k, ok := basicKinds[t.Kind()]; ok {
		return types.Typ[k]
	}
	return types.Typ[types.Invalid]
}

// signature converts a func type, skipping its first skip parameters (the
// receiver of a method value of reflect).
func (im *Importer) signature(recv *types.Var, t reflect.Type, skip int) *types.Signature {
	var params, results []*types.Var
	for i := skip; i < t.NumIn(); i++ {
		params = append(params, types.NewParam(token.NoPos, nil, "", im.typ(t.In(i))))
	}
	for i := 0; i < t.NumOut(); i++ {
		results = append(results, types.NewParam(token.NoPos, nil, "", im.typ(t.Out(i))))
	}
	return types.NewSignatureType(recv, nil, nil, types.NewTuple(params...), types.NewTuple(results...), t.IsVariadic())
}

func (im *Importer) structType(t reflect.Type) *types.Struct {
	var fields []*types.Var
	var tags []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		var pkg *types.Package
		if f.PkgPath != "" {
			pkg = im.pkg(f.PkgPath, "")
		}
		fields = append(fields, types.NewField(token.NoPos, pkg, f.Name, im.typ(f.Type), f.Anonymous))
		tags = append(tags, string(f.Tag))
	}
	return types.NewStruct(fields, tags)
}

func (im *Importer) interfaceType(t reflect.Type) *types.Interface {
	var methods []*types.Func
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		var pkg *types.Package
		if m.PkgPath != "" {
			pkg = im.pkg(m.PkgPath, "")
		}
		methods = append(methods, types.NewFunc(token.NoPos, pkg, m.Name, im.signature(nil, m.Type, 0)))
	}
	return types.NewInterfaceType(methods, nil).Complete()
}

// namedType builds a defined type of a package and its method set.
func (im *Importer) namedType(t reflect.Type) types.Type {
	if n := im.named[t]; n != nil {
		return n
	}
	pkg := im.pkg(t.PkgPath(), "")
	obj := types.NewTypeName(token.NoPos, pkg, t.Name(), nil)
	n := types.NewNamed(obj, nil, nil)
	im.named[t] = n
	under := im.structure(t)
	n.SetUnderlying(under)
	if t.Kind() != reflect.Interface {
		seen := map[string]bool{}
		add := func(mt reflect.Type, ptr bool) {
			for i := 0; i < mt.NumMethod(); i++ {
				m := mt.Method(i)
				if seen[m.Name] {
					continue
				}
				seen[m.Name] = true
				var rt types.Type = n
				if ptr {
					rt = types.NewPointer(n)
				}
				recv := types.NewVar(token.NoPos, pkg, "", rt)
				n.AddMethod(types.NewFunc(token.NoPos, pkg, m.Name, im.signature(recv, m.Type, 1)))
			}
		}
		add(t, false)
		add(reflect.PointerTo(t), true)
	}
	return n
}
