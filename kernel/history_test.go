package kernel

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, input string
		match       bool
	}{
		{"*", "anything\nat all", true},
		{"fmt*", "fmt.Println(1)", true},
		{"fmt*", "x := fmt.Sprint()", false},
		{"*Print*", "x := fmt.Sprint()", false},
		{"*Sprint*", "x := fmt.Sprint()", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[ab]x", "bx", true},
		{"[^ab]x", "bx", false},
		{"[^ab]x", "cx", true},
		{"[a-c]*", "b1", true},
		{"[]]", "]", true},
		{"a.b", "axb", false},
		{"(x)+", "(x)+", true},
		{"[unclosed", "[unclosed", true},
		{"Fmt*", "fmt.X", false}, // case-sensitive, as SQLite GLOB
	}
	for _, tt := range tests {
		re, err := globRegexp(tt.glob)
		if err != nil {
			t.Errorf("%q: %v", tt.glob, err)
			continue
		}
		if got := re.MatchString(tt.input); got != tt.match {
			t.Errorf("glob %q on %q = %v, want %v", tt.glob, tt.input, got, tt.match)
		}
	}
}

func TestHistoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "history.jsonl")
	var warnings []string
	warn := func(msg string, args ...any) { warnings = append(warnings, msg) }
	h := openHistory(path, warn)
	if h.session != 1 {
		t.Fatalf("first session %d", h.session)
	}
	h.add(1, "a := 1", "")
	h.add(2, "a", "1")
	h = openHistory(path, warn)
	if h.session != 2 || len(h.entries) != 2 {
		t.Fatalf("reopened: session %d, %d entries", h.session, len(h.entries))
	}
	// Malformed lines are skipped, reported and compacted away.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not json\n{\"session\":0}\n")
	f.Close()
	h = openHistory(path, warn)
	if len(h.entries) != 2 || len(warnings) != 1 {
		t.Fatalf("entries %d, warnings %v", len(h.entries), warnings)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "not json") {
		t.Error("malformed line kept after compaction")
	}
	n := 1
	got, err := h.query(historyRequest{HistAccessType: "tail", N: &n, Output: true})
	if want := []any{[]any{1, 2, []any{"a", "1"}}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("tail %v, %v; want %v", got, err, want)
	}
}

func TestHistoryUnwritableFallsBackToMemory(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o600)
	var warnings []string
	h := openHistory(filepath.Join(blocker, "history.jsonl"), func(msg string, args ...any) { warnings = append(warnings, msg) })
	h.add(1, "x", "")
	h.add(2, "y", "")
	if len(warnings) != 1 || len(h.entries) != 2 {
		t.Errorf("warnings %v, entries %d", warnings, len(h.entries))
	}
}

func TestHistoryQueries(t *testing.T) {
	h := openHistory("", nil)
	h.entries = []historyEntry{
		{1, 1, "old", ""}, {2, 1, "a", "A"}, {2, 2, "b", ""}, {2, 3, "a", "A"}, {3, 1, "c", ""},
	}
	h.session = 3
	n := func(i int) *int { return &i }
	tests := []struct {
		name string
		req  historyRequest
		want []any
	}{
		{"tail 2", historyRequest{HistAccessType: "tail", N: n(2)}, []any{[]any{2, 3, "a"}, []any{3, 1, "c"}}},
		{"tail 0", historyRequest{HistAccessType: "tail", N: n(0)}, []any{}},
		{"range current", historyRequest{HistAccessType: "range", Session: 0, Start: 1}, []any{[]any{3, 1, "c"}}},
		{"range -1 slice", historyRequest{HistAccessType: "range", Session: -1, Start: 2, Stop: 3}, []any{[]any{2, 2, "b"}}},
		{"range absolute", historyRequest{HistAccessType: "range", Session: 1, Start: 1}, []any{[]any{1, 1, "old"}}},
		{"search", historyRequest{HistAccessType: "search", Pattern: "a"}, []any{[]any{2, 1, "a"}, []any{2, 3, "a"}}},
		{"search unique", historyRequest{HistAccessType: "search", Pattern: "a", Unique: true}, []any{[]any{2, 3, "a"}}},
		{"search n", historyRequest{HistAccessType: "search", Pattern: "*", N: n(2)}, []any{[]any{2, 3, "a"}, []any{3, 1, "c"}}},
		{"search output", historyRequest{HistAccessType: "search", Pattern: "a", Unique: true, Output: true},
			[]any{[]any{2, 3, []any{"a", "A"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.query(tt.req)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
