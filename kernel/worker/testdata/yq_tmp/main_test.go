package yq

import (
	"testing"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

func run(t *testing.T, srcs ...string) {
	in := interp.New(interp.Options{})
	in.Use(stdlib.Symbols)
	for _, s := range srcs {
		func() {
			defer func() { if r := recover(); r != nil { t.Logf("PANIC %v", r) } }()
			v, err := in.Eval(s)
			t.Logf("%q -> %v %v", s, v, err)
		}()
	}
}

const pre = `type pr struct{ N int }`
const ps = `ps := map[string]pr{"a": {N: 1}}`

func TestMap1(t *testing.T) { run(t, `import "fmt"`, pre, ps, `var v, ok = ps["a"]`, `fmt.Println(v, ok)`) }
func TestMap2(t *testing.T) { run(t, `import "fmt"`, pre, ps, `var v pr; var ok bool`, `v, ok = ps["a"]`, `fmt.Println(v, ok)`) }
func TestMap3(t *testing.T) { run(t, `import "fmt"`, pre, ps, `func() { v, ok := ps["a"]; fmt.Println(v, ok) }()`) }
func TestMap4(t *testing.T) { run(t, `import "fmt"`, pre, `ps := map[string]*pr{"a": {N: 1}}`, `v, ok := ps["a"]`, `fmt.Println(v, ok)`) }
func TestMap5(t *testing.T) { run(t, `import "fmt"`, `ps := map[string]int{"a": 1}`, `v, ok := ps["a"]`, `fmt.Println(v, ok)`) }
func TestMap6(t *testing.T) { run(t, `import "fmt"`, pre, ps, `v, ok := ps["a"]; fmt.Println(v, ok)`) }
func TestMap7(t *testing.T) { run(t, `import "fmt"`, pre, `ps := map[pr]int{{N: 1}: 1}`, `v, ok := ps[pr{1}]`, `fmt.Println(v, ok)`) }
func TestMap8(t *testing.T) { run(t, `import "fmt"`, pre, `var ch = make(chan pr, 1)`, `ch <- pr{2}`, `v, ok := <-ch`, `fmt.Println(v, ok)`) }
func TestMap9(t *testing.T) { run(t, `import "fmt"`, pre, `var x any = pr{3}`, `v, ok := x.(pr)`, `fmt.Println(v, ok)`) }
func TestMap10(t *testing.T) { run(t, `import "fmt"`, `ps := map[string][]int{"a": {1}}`, `v, ok := ps["a"]`, `fmt.Println(v, ok)`) }
func TestR1(t *testing.T) { run(t, `import "fmt"`, pre, ps, "__o := ps\nv := __o[\"a\"]\nok := false\nv, ok = __o[\"a\"]\nfmt.Println(v, ok)", `v, ok`) }
func TestR2(t *testing.T) { run(t, `import "fmt"`, pre, `var x any = pr{3}`, "var v pr\nok := false\nv, ok = x.(pr)\nfmt.Println(v, ok)") }
func TestR3(t *testing.T) { run(t, `import "fmt"`, pre, `var ch = make(chan pr, 1)`, `ch <- pr{2}`, "var v pr\nok := false\nv, ok = <-ch\nfmt.Println(v, ok)") }
func TestR4(t *testing.T) { run(t, `import "fmt"`, pre, ps, `v := 3`, `ok := 2`, "v := ps[\"a\"]\nok := false\nv, ok = ps[\"a\"]\nfmt.Println(v, ok)") }
