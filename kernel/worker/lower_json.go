package worker

import (
	"encoding"
	"encoding/json"
	"go/ast"
	"go/types"
	"reflect"
	"strconv"
	"strings"
)

// passLowerJSON makes encoding/json see values of cell types as go run's
// json does. yaegi hands json a value of a cell type as its underlying
// structure: the type's MarshalJSON, MarshalText, UnmarshalJSON and
// UnmarshalText methods were not called, and an unexported field x was
// marshaled as "Xx" (yaegi's name of it in the structure).
//
// The operand of json.Marshal, json.MarshalIndent and (*json.Encoder).Encode
// whose static type reaches (through exported fields, pointers, slices,
// arrays and maps) a cell type with one of those Marshal methods or a cell
// struct with an unexported field becomes a compiled stand-in built from
// the static types: a json.Marshaler or encoding.TextMarshaler calling
// the method, a struct of the exported fields with their tags (a field's
// stand-in left nil where the field is empty and tagged omitempty), []any,
// map[string]any with the keys json would write. The target of
// json.Unmarshal and (*json.Decoder).Decode that points to a cell type
// with UnmarshalJSON or UnmarshalText becomes a json.Unmarshaler calling
// it. What cannot be built faithfully (an embedded field, a ",string" field
// of a cell type, a cell type with an Unmarshal method below the target)
// is a CompileError "cannot run faithfully".
func (s *session) passLowerJSON(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if fd, ok := n.(*ast.FuncDecl); ok && isGenericFunc(fd) {
			return false
		}
		call, ok := n.(*ast.CallExpr)
		if !ok || !l.inCell(call) || call.Ellipsis.IsValid() {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		fn, ok := info.Uses[sel.Sel].(*types.Func)
		if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "encoding/json" {
			return true
		}
		recv := ""
		if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil {
			if n, ok := derefType(sig.Recv().Type()).(*types.Named); ok {
				recv = n.Obj().Name() + "."
			}
		}
		var arg ast.Expr
		marshal := true
		switch recv + fn.Name() {
		case "Marshal", "MarshalIndent", "Encoder.Encode":
			if len(call.Args) > 0 {
				arg = call.Args[0]
			}
		case "Unmarshal":
			if len(call.Args) == 2 {
				arg, marshal = call.Args[1], false
			}
		case "Decoder.Decode":
			if len(call.Args) == 1 {
				arg, marshal = call.Args[0], false
			}
		}
		if arg == nil {
			return true
		}
		t := info.Types[arg].Type
		if marshal {
			if !jsonNeeds(t, map[types.Type]bool{}) {
				return true
			}
			g := &jsonGen{fmtGen: fmtGen{l: l, at: arg, ok: true}}
			c := g.closure(t)
			if !g.ok {
				return true
			}
			l.insert(arg.Pos(), g.wrap(c))
			l.insert(arg.End(), ")")
			return true
		}
		l.lowerUnmarshal(arg, t)
		return true
	})
	return l.done()
}

// jsonMethods returns which of the json methods a value of type t has.
func jsonMethods(t types.Type) (marshalJSON, marshalText, unmarshalJSON, unmarshalText bool) {
	ms := types.NewMethodSet(t)
	bytesT := types.NewSlice(types.Typ[types.Byte])
	errT := types.Universe.Lookup("error").Type()
	for _, name := range []string{"MarshalJSON", "MarshalText", "UnmarshalJSON", "UnmarshalText"} {
		sel := ms.Lookup(nil, name)
		if sel == nil {
			continue
		}
		sig, ok := sel.Type().(*types.Signature)
		if !ok {
			continue
		}
		if strings.HasPrefix(name, "Marshal") {
			if sig.Params().Len() == 0 && sig.Results().Len() == 2 && types.Identical(sig.Results().At(0).Type(), bytesT) && types.Identical(sig.Results().At(1).Type(), errT) {
				if name == "MarshalJSON" {
					marshalJSON = true
				} else {
					marshalText = true
				}
			}
			continue
		}
		if sig.Params().Len() == 1 && types.Identical(sig.Params().At(0).Type(), bytesT) && sig.Results().Len() == 1 && types.Identical(sig.Results().At(0).Type(), errT) {
			if name == "UnmarshalJSON" {
				unmarshalJSON = true
			} else {
				unmarshalText = true
			}
		}
	}
	return
}

func isCellNamed(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == cellPkgPath
}

// jsonNeeds reports whether json marshals a value of type t wrongly
// without a stand-in.
func jsonNeeds(t types.Type, seen map[types.Type]bool) bool {
	if t == nil || seen[t] {
		return false
	}
	seen[t] = true
	if isCellNamed(t) {
		if mj, mt, _, _ := jsonMethods(t); mj || mt {
			return true
		}
		if mj, mt, _, _ := jsonMethods(types.NewPointer(t)); mj || mt {
			return true // (called where the value is addressable)
		}
	} else if _, ok := types.Unalias(t).(*types.Named); ok {
		return false // a compiled type
	}
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return jsonNeeds(u.Elem(), seen)
	case *types.Slice:
		return jsonNeeds(u.Elem(), seen)
	case *types.Array:
		return jsonNeeds(u.Elem(), seen)
	case *types.Map:
		return jsonNeeds(u.Key(), seen) || jsonNeeds(u.Elem(), seen)
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			if !f.Exported() {
				return true // yaegi exports it, as "X"+name
			}
			if jsonNeeds(f.Type(), seen) {
				return true
			}
		}
	}
	return false
}

// jsonGen writes the closures building a json stand-in (fmtGen's scheme).
type jsonGen struct {
	fmtGen
}

func (g *jsonGen) wrap(c string) string {
	var b strings.Builder
	b.WriteString("func() func(" + g.specs[0] + ") any { ")
	for i := range g.types {
		b.WriteString("var " + g.names[i] + " func(" + g.specs[i] + ") any; ")
	}
	for i := range g.types {
		b.WriteString(g.names[i] + " = func(x " + g.specs[i] + ") any { " + g.body[i] + " }; ")
	}
	b.WriteString("return " + c + " }()(")
	return b.String()
}

func (g *jsonGen) closure(t types.Type) string {
	for i, u := range g.types {
		if types.Identical(u, t) {
			return g.names[i]
		}
	}
	spec, ok := g.l.typeString(t)
	if !ok {
		g.fail("cannot run faithfully: encoding a value of type %s needs the packages of its types imported in the cell", types.TypeString(t, types.RelativeTo(g.l.c.pkg)))
		return ""
	}
	i := len(g.types)
	name := helperPrefix + "_j" + strconv.Itoa(i)
	g.types = append(g.types, t)
	g.names = append(g.names, name)
	g.specs = append(g.specs, spec)
	g.body = append(g.body, "")
	g.body[i] = g.bodyOf(t)
	return name
}

func (g *jsonGen) part(t types.Type, expr string) string {
	if !jsonNeeds(t, map[types.Type]bool{}) {
		return helperPrefix + "_help.FmtLeaf(" + expr + ")"
	}
	return g.closure(t) + "(" + expr + ")"
}

func (g *jsonGen) bodyOf(t types.Type) string {
	h := helperPrefix + "_help."
	if isCellNamed(t) || isCellNamed(derefType(t)) {
		if mj, mt, _, _ := jsonMethods(t); mj || mt {
			nilCheck := ""
			if _, ptr := t.(*types.Pointer); ptr {
				nilCheck = "if x == nil { return nil }; "
			}
			if mj {
				return nilCheck + "return " + h + "JSONMarshaler(func() ([]byte, error) { return x.MarshalJSON() })"
			}
			return nilCheck + "return " + h + "JSONTextMarshaler(func() ([]byte, error) { return x.MarshalText() })"
		}
	}
	if isCellNamed(t) {
		if mj, mt, _, _ := jsonMethods(types.NewPointer(t)); mj || mt {
			g.fail("cannot run faithfully: encoding %s, whose Marshal method has a pointer receiver, where json may call it (an addressable value); pass a pointer or give the method a value receiver", types.TypeString(t, types.RelativeTo(g.l.c.pkg)))
			return ""
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return "if x == nil { return nil }; return " + g.part(u.Elem(), "*x")
	case *types.Slice:
		return "if x == nil { return " + h + "JSONSeq(true, nil) }; r := make([]any, len(x)); for i := range x { r[i] = " + g.part(u.Elem(), "x[i]") + " }; return " + h + "JSONSeq(false, r)"
	case *types.Array:
		return "r := make([]any, len(x)); for i := range x { r[i] = " + g.part(u.Elem(), "x[i]") + " }; return " + h + "JSONSeq(false, r)"
	case *types.Map:
		key := "nil"
		if isCellNamed(u.Key()) {
			if _, mt, _, _ := jsonMethods(u.Key()); mt {
				key = "func() ([]byte, error) { return k.MarshalText() }"
			}
		}
		return "if x == nil { return " + h + "JSONMap(true, nil, nil) }; var ks []string; var vs []any; for k, v := range x { ks = append(ks, " + h + "JSONKey(" + h + "FmtLeaf(k), " + key + ")); vs = append(vs, " + g.part(u.Elem(), "v") + ") }; return " + h + "JSONMap(false, ks, vs)"
	case *types.Struct:
		var names, tags, fields, raws []string
		for i := range u.NumFields() {
			f := u.Field(i)
			if f.Embedded() {
				g.fail("cannot run faithfully: encoding a struct of the cell with an embedded field (%s) as JSON", f.Name())
				return ""
			}
			if !f.Exported() {
				continue
			}
			tag := reflect.StructTag(u.Tag(i)).Get("json")
			conv := jsonNeeds(f.Type(), map[types.Type]bool{})
			if conv && strings.Contains(tag, ",string") {
				g.fail("cannot run faithfully: encoding the field %s of a cell type with the json option \",string\"", f.Name())
				return ""
			}
			names = append(names, strconv.Quote(f.Name()))
			tags = append(tags, strconv.Quote(u.Tag(i)))
			fields = append(fields, g.part(f.Type(), "x."+f.Name()))
			raws = append(raws, h+"FmtLeaf(x."+f.Name()+")")
		}
		return "return " + h + "JSONStruct([]string{" + strings.Join(names, ", ") + "}, []string{" + strings.Join(tags, ", ") + "}, []any{" + strings.Join(fields, ", ") + "}, []any{" + strings.Join(raws, ", ") + "})"
	}
	return "return " + h + "FmtLeaf(x)"
}

// lowerUnmarshal lowers the target of json.Unmarshal or Decoder.Decode
// that points to a cell type with UnmarshalJSON or UnmarshalText.
func (l *lowerer) lowerUnmarshal(arg ast.Expr, t types.Type) {
	pt, ok := t.(*types.Pointer)
	if !ok {
		return
	}
	_, _, uj, ut := jsonMethods(pt)
	if !uj && !ut {
		if jsonUnmarshalBelow(pt.Elem(), map[types.Type]bool{}) {
			l.fail(arg, "cannot run faithfully: decoding JSON into a value that holds a cell type with an UnmarshalJSON or UnmarshalText method below its top level")
		}
		return
	}
	ts, ok := l.typeString(t)
	if !ok {
		return
	}
	h := helperPrefix + "_help."
	if uj {
		l.insert(arg.Pos(), "func(p "+ts+") any { return "+h+"JSONUnmarshaler(func(b []byte) error { return p.UnmarshalJSON(b) }, nil) }(")
	} else {
		l.insert(arg.Pos(), "func(p "+ts+") any { return "+h+"JSONUnmarshaler(nil, func(b []byte) error { return p.UnmarshalText(b) }) }(")
	}
	l.insert(arg.End(), ")")
}

func jsonUnmarshalBelow(t types.Type, seen map[types.Type]bool) bool {
	if t == nil || seen[t] {
		return false
	}
	seen[t] = true
	if isCellNamed(t) {
		if _, _, uj, ut := jsonMethods(types.NewPointer(t)); uj || ut {
			return true
		}
	} else if _, ok := types.Unalias(t).(*types.Named); ok {
		return false
	}
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return jsonUnmarshalBelow(u.Elem(), seen)
	case *types.Slice:
		return jsonUnmarshalBelow(u.Elem(), seen)
	case *types.Array:
		return jsonUnmarshalBelow(u.Elem(), seen)
	case *types.Map:
		return jsonUnmarshalBelow(u.Key(), seen) || jsonUnmarshalBelow(u.Elem(), seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if u.Field(i).Exported() && jsonUnmarshalBelow(u.Field(i).Type(), seen) {
				return true
			}
		}
	}
	return false
}

// The compiled side of lower-json.

type jsonMarshalFunc func() ([]byte, error)

func (f jsonMarshalFunc) MarshalJSON() ([]byte, error) { return f() }

type jsonTextFunc func() ([]byte, error)

func (f jsonTextFunc) MarshalText() ([]byte, error) { return f() }

// jsonUnmarshalFuncs is a json.Unmarshaler (or encoding.TextUnmarshaler)
// over an interpreted method.
type jsonUnmarshalFuncs struct{ j func([]byte) error }

func (u *jsonUnmarshalFuncs) UnmarshalJSON(b []byte) error { return u.j(b) }

// jsonTextUnmarshal is the encoding.TextUnmarshaler form.
type jsonTextUnmarshal struct{ t func([]byte) error }

func (u *jsonTextUnmarshal) UnmarshalText(b []byte) error { return u.t(b) }

var (
	_ json.Marshaler           = jsonMarshalFunc(nil)
	_ encoding.TextMarshaler   = jsonTextFunc(nil)
	_ json.Unmarshaler         = (*jsonUnmarshalFuncs)(nil)
	_ encoding.TextUnmarshaler = (*jsonTextUnmarshal)(nil)
)

// jsonEmpty is json's omitempty test (encoding/json's isEmptyValue).
func jsonEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

func init() {
	h := cellHelpers["unetlab/cellhelp/cellhelp"]
	h["JSONMarshaler"] = reflect.ValueOf(func(f func() ([]byte, error)) any { return jsonMarshalFunc(f) })
	h["JSONTextMarshaler"] = reflect.ValueOf(func(f func() ([]byte, error)) any { return jsonTextFunc(f) })
	h["JSONUnmarshaler"] = reflect.ValueOf(func(j, t func([]byte) error) any {
		if j != nil {
			return &jsonUnmarshalFuncs{j: j}
		}
		return &jsonTextUnmarshal{t: t}
	})
	h["JSONSeq"] = reflect.ValueOf(func(isNil bool, elems []any) any {
		if isNil {
			return []any(nil)
		}
		return elems
	})
	h["JSONMap"] = reflect.ValueOf(func(isNil bool, keys []string, vals []any) any {
		if isNil {
			return map[string]any(nil)
		}
		m := make(map[string]any, len(keys))
		for i, k := range keys {
			m[k] = vals[i]
		}
		return m
	})
	h["JSONKey"] = reflect.ValueOf(func(k any, text func() ([]byte, error)) string {
		v := reflect.ValueOf(k)
		switch v.Kind() {
		case reflect.String:
			return v.String()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if text == nil {
				return strconv.FormatInt(v.Int(), 10)
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if text == nil {
				return strconv.FormatUint(v.Uint(), 10)
			}
		}
		if text != nil {
			b, err := text()
			if err != nil {
				panic(err)
			}
			return string(b)
		}
		if tm, ok := k.(encoding.TextMarshaler); ok {
			b, err := tm.MarshalText()
			if err != nil {
				panic(err)
			}
			return string(b)
		}
		return ""
	})
	h["JSONStruct"] = reflect.ValueOf(func(names, tags []string, fields, raws []any) any {
		sf := make([]reflect.StructField, len(names))
		vals := make([]reflect.Value, len(names))
		for i, n := range names {
			raw := reflect.ValueOf(raws[i])
			f := reflect.ValueOf(fields[i])
			if _, conv := fields[i].(jsonMarshalFunc); conv || !f.IsValid() || !raw.IsValid() || f.Type() != raw.Type() {
				// a stand-in: an interface field, nil where the original
				// is empty and tagged omitempty
				sf[i] = reflect.StructField{Name: n, Type: reflect.TypeFor[any](), Tag: reflect.StructTag(tags[i])}
				opts := reflect.StructTag(tags[i]).Get("json")
				if _, o, _ := strings.Cut(opts, ","); strings.Contains(","+o+",", ",omitempty,") && jsonEmpty(raw) {
					continue
				}
				if f.IsValid() {
					vals[i] = f
				}
				continue
			}
			sf[i] = reflect.StructField{Name: n, Type: f.Type(), Tag: reflect.StructTag(tags[i])}
			vals[i] = f
		}
		v := reflect.New(reflect.StructOf(sf)).Elem()
		for i, x := range vals {
			if x.IsValid() {
				v.Field(i).Set(x)
			}
		}
		return v.Interface()
	})
}
