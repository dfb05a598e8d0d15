package cell

import (
	"context"
	"testing"
)

func TestContext(t *testing.T) {
	if Context() != context.Background() {
		t.Fatal("outside a kernel Context is not context.Background()")
	}
	ctx, cancel := context.WithCancel(context.Background())
	Set(ctx)
	if Context() != ctx {
		t.Fatal("Context does not return the installed context")
	}
	cancel()
	if Context().Err() == nil {
		t.Fatal("cancelling the cell's context is not seen through Context")
	}
	Set(nil)
	if Context() != context.Background() {
		t.Fatal("Set(nil) does not restore context.Background()")
	}
}
