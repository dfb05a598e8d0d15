package worker

import "testing"

func TestLowerJSON(t *testing.T) {
	decl := "type T float64\nfunc (t T) MarshalJSON() ([]byte, error) { return nil, nil }\n"
	runLowerCases(t, []lowerCase{
		{name: "marshaler", code: decl + "json.Marshal(T(1))",
			has: []string{`__unetlab_help.JSONMarshaler(func() ([]byte, error) { return x.MarshalJSON() })`}},
		{name: "unexported field", code: "type P struct{ X int; y int }\njson.Marshal([]P{})",
			has: []string{`__unetlab_help.JSONStruct([]string{"X"}, []string{""}, []any{__unetlab_help.FmtLeaf(x.X)}, []any{__unetlab_help.FmtLeaf(x.X)})`}},
		{name: "plain struct left alone", code: "type P struct{ X int `json:\"x\"` }\njson.Marshal(P{})", hasNot: []string{"__unetlab_help"}},
		{name: "unmarshaler", code: "type K struct{}\nfunc (k *K) UnmarshalText(b []byte) error { return nil }\nvar k K\njson.Unmarshal(nil, &k)",
			has: []string{`func(p *K) any { return __unetlab_help.JSONUnmarshaler(nil, func(b []byte) error { return p.UnmarshalText(b) }) }(&k)`}},
		{name: "embedded refused", code: "type E struct{ y int }\ntype P struct{ E }\njson.Marshal(P{})", err: "cannot run faithfully: encoding a struct of the cell with an embedded field"},
	})
}
