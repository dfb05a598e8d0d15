package worker

import "testing"

func TestLowerErrors(t *testing.T) {
	decl := "type E struct{ c int }\nfunc (e *E) Error() string { return \"e\" }\n"
	runLowerCases(t, []lowerCase{
		{name: "wrap", code: decl + "err := fmt.Errorf(\"x: %w %v\", &E{1}, 2)\n_ = err",
			has: []string{"func(e error) error { return e }(&E{1})"}},
		{name: "as", code: decl + "var e *E\nok := errors.As(nil, &e)\n_ = ok",
			has: []string{"func(err error, target **E) bool {", "__unetlab_help.Inner(e).(*E); ok { *target = v; return true }"}},
		{name: "is", code: decl + "t := &E{}\nok := errors.Is(nil, t)\n_ = ok",
			has: []string{"func(err error, target *E) bool {", "__unetlab_help.Inner(e).(*E); ok && v == target { return true }"}},
		{name: "value type refused", code: "type V struct{}\nfunc (V) Error() string { return \"v\" }\nvar v V\nok := errors.As(nil, &v)\n_ = ok",
			err: "cannot run faithfully: errors.As with a target of the value type V"},
		{name: "compiled targets left alone", code: "var pe *fs.PathError\nok := errors.As(nil, &pe)\n_ = ok", hasNot: []string{"func(err error"}},
	})
}
