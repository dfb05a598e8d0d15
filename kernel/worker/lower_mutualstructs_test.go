package worker

import "testing"

func TestRefuseMutualStructs(t *testing.T) {
	const want = "cannot run faithfully: struct type E points to itself and to L, which holds a value of type E (not through a pointer)"
	runLowerCases(t, []lowerCase{
		{name: "list shape", code: "type E struct {\n\tnext *E\n\tl *L\n}\ntype L struct{ root E }", err: "cell:1:6: " + want},
		{name: "holder first", code: "type L struct{ root E }\ntype E struct {\n\tl *L\n\tnext *E\n}", err: "cell:2:6: " + want},
		{name: "in an array", code: "type E struct {\n\tnext *E\n\tl *L\n}\ntype L struct{ roots [2]E }", err: want},
		{name: "generic", code: "type E[T any] struct {\n\tnext *E[T]\n\tl *L[T]\n\tv T\n}\ntype L[T any] struct{ root E[T] }", err: want},
		{name: "pointers only accepted", code: "type A struct{ b *B; next *A }\ntype B struct{ a *A }", hasNot: []string{"cannot run faithfully"}},
		{name: "no pointer to itself accepted", code: "type E struct{ l *L }\ntype L struct{ root E }", hasNot: []string{"cannot run faithfully"}},
		{name: "pointed to back accepted", code: "type E struct {\n\tnext *E\n\tl *L\n}\ntype L struct{ first []*E }", hasNot: []string{"cannot run faithfully"}},
		{name: "each pointing to the other accepted", code: "type N struct{ kids []*N }\ntype T struct{ root *N }", hasNot: []string{"cannot run faithfully"}},
	})
}
