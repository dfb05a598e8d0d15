package host

import (
	"fmt"
	"strings"
	"testing"
)

// A fatal runtime error is reported with its reason first and the dump
// folded, whatever the dump's size; the head is found across writes.
func TestFoldFatal(t *testing.T) {
	var dump strings.Builder
	dump.WriteString("goroutine 1 [running]:\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&dump, "main.f(...)\n\t/x/main.go:%d +0x1\n", i)
	}
	dump.WriteString("\ngoroutine 2 [chan receive]:\nmain.g()\n\t/x/main.go:9 +0x1\n")
	tests := []struct {
		name, report string
		first        string
		has          []string
	}{
		{"out of memory", "fatal error: runtime: out of memory\n\nruntime stack:\nruntime.throw(...)\n\t/go/src/runtime/panic.go:1 +0x1\n\n" + dump.String(),
			"fatal error: runtime: out of memory", []string{"goroutine 1 [running]:", "main.f(...)", "more lines"}},
		{"stack overflow", "runtime: goroutine stack exceeds 1000000000-byte limit\nruntime: sp=0x1 stack=[0x1, 0x2]\nfatal error: stack overflow\n\nruntime stack:\n" + dump.String(),
			"fatal error: stack overflow", []string{"runtime: goroutine stack exceeds 1000000000-byte limit", "goroutine 1 [running]:", "more lines"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Process{}
			b := []byte("some output of the cell\n" + tc.report)
			for len(b) > 0 { // written in pieces, as the pipe delivers it
				n := min(len(b), 700)
				p.addTail(b[:n])
				b = b[n:]
			}
			got := foldFatal(string(p.fatal))
			lines := strings.Split(got, "\n")
			if lines[0] != tc.first {
				t.Errorf("first line %q, want %q", lines[0], tc.first)
			}
			for _, h := range tc.has {
				if !strings.Contains(got, h) {
					t.Errorf("report lacks %q:\n%s", h, got)
				}
			}
			if len(lines) > foldedFrames+3 {
				t.Errorf("report of %d lines is not folded:\n%s", len(lines), got)
			}
		})
	}
}
