package kernel

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/unetlab/unetlab/internal/atomicfile"
)

// historyLimit is how many entries the history file keeps across sessions.
const historyLimit = 10000

// historyEntry is one executed cell. In the history file each entry is a
// JSON line.
type historyEntry struct {
	Session int    `json:"session"`
	Line    int    `json:"line"`
	Input   string `json:"input"`
	Output  string `json:"output,omitempty"` // text/plain of the execute_result
}

// history keeps the inputs of this session and of earlier ones (read from
// the history file) and appends new entries to the file.
type history struct {
	loaded  chan struct{} // closed once the file is read; nil when read synchronously
	mu      sync.Mutex
	entries []historyEntry // ordered by (session, line)
	session int            // this kernel's session number
	path    string         // "" = memory only
	warned  bool
	warn    func(msg string, args ...any)
}

// DefaultHistoryFile returns where the kernel keeps history between
// sessions: unetlab/history.jsonl under the Jupyter data directory
// ($JUPYTER_DATA_DIR, else the platform's default).
func DefaultHistoryFile() string {
	return filepath.Join(jupyterDataDir(), "unetlab", "history.jsonl")
}

// jupyterDataDir mirrors jupyter_core.paths.jupyter_data_dir.
func jupyterDataDir() string {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	switch runtime.GOOS {
	case "darwin":
		return filepath.Join(home, "Library", "Jupyter")
	case "windows":
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, "jupyter")
		}
		return filepath.Join(home, ".jupyter", "data")
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "jupyter")
	}
	return filepath.Join(home, ".local", "share", "jupyter")
}

// loadHistory is openHistory in the background, so that a long history
// file does not delay the kernel's first reply; add and query wait for it.
func loadHistory(path string, warn func(msg string, args ...any)) *history {
	h := &history{loaded: make(chan struct{})}
	go func() {
		defer close(h.loaded)
		o := openHistory(path, warn)
		h.mu.Lock()
		h.entries, h.session, h.path, h.warned, h.warn = o.entries, o.session, o.path, o.warned, o.warn
		h.mu.Unlock()
	}()
	return h
}

func (h *history) wait() {
	if h.loaded != nil {
		<-h.loaded
	}
}

// openHistory loads the history file at path ("" for memory only) and
// starts a new session after the last one there. A file that cannot be read
// or written is reported through warn and history stays in memory.
func openHistory(path string, warn func(msg string, args ...any)) *history {
	h := &history{path: path, warn: warn, session: 1}
	if path == "" {
		return h
	}
	f, err := os.Open(path)
	if err != nil {
		if !os.IsNotExist(err) {
			h.fail("reading the history file", err)
		}
		return h
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	bad := 0
	for sc.Scan() {
		var e historyEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Session <= 0 {
			bad++
			continue
		}
		h.entries = append(h.entries, e)
		h.session = max(h.session, e.Session+1)
	}
	if err := sc.Err(); err != nil {
		h.fail("reading the history file", err)
	}
	if bad > 0 {
		warn("skipped malformed lines of the history file", "path", path, "lines", bad)
	}
	if len(h.entries) > historyLimit || bad > 0 {
		h.entries = h.entries[max(0, len(h.entries)-historyLimit):]
		h.rewrite()
	}
	return h
}

func (h *history) fail(what string, err error) {
	if !h.warned {
		h.warn(what+"; history is kept in memory only", "path", h.path, "err", err)
	}
	h.warned = true
	h.path = ""
}

// rewrite replaces the file by the entries in memory, atomically.
func (h *history) rewrite() {
	if h.path == "" {
		return
	}
	// 0600, as the appends: the history holds what the user typed.
	err := atomicfile.WritePerm(h.path, 0o600, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, e := range h.entries {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.fail("compacting the history file", err)
	}
}

// add records cell line of this session and appends it to the file.
func (h *history) add(line int, input, output string) {
	if persist := h.record(line, input, output); persist != nil {
		persist()
	}
}

// record keeps cell line of this session in memory (history_request sees
// it at once) and returns the function that appends it to the file, nil
// when history is kept in memory only. The kernel calls that function
// once the request's idle status is out: the append (a stat, an open, a
// write, a close) then costs the front end no wait. Calls of the returned
// functions must keep the order of the record calls.
func (h *history) record(line int, input, output string) func() {
	h.wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	e := historyEntry{Session: h.session, Line: line, Input: input, Output: output}
	h.entries = append(h.entries, e)
	if h.path == "" {
		return nil
	}
	return func() { h.appendFile(e) }
}

// appendFile appends e to the history file. The file is opened for each
// entry: another kernel may have replaced it (see rewrite) meanwhile.
func (h *history) appendFile(e historyEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.path == "" {
		return // an earlier append failed
	}
	b, _ := json.Marshal(e)
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		h.fail("creating the history directory", err)
		return
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		h.fail("opening the history file", err)
		return
	}
	_, err = f.Write(append(b, '\n')) // one write: lines of concurrent kernels do not interleave
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		h.fail("appending to the history file", err)
	}
}

// query answers a history_request: a list of [session, line, input] or,
// with output, [session, line, [input, output]] (output null when none).
func (h *history) query(r historyRequest) ([]any, error) {
	h.wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	var sel []historyEntry
	switch r.HistAccessType {
	case "tail", "":
		n := 10
		if r.N != nil {
			n = max(*r.N, 0)
		}
		sel = h.entries[max(0, len(h.entries)-n):]
	case "range":
		session := r.Session
		if session <= 0 {
			session += h.session // 0: this one, -1: the one before, ...
		}
		for _, e := range h.entries {
			if e.Session == session && e.Line >= r.Start && (r.Stop <= 0 || e.Line < r.Stop) {
				sel = append(sel, e)
			}
		}
	case "search":
		pattern := r.Pattern
		if pattern == "" {
			pattern = "*"
		}
		re, err := globRegexp(pattern)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		// Newest first, so that unique keeps the latest run of an input.
		for i := len(h.entries) - 1; i >= 0; i-- {
			e := h.entries[i]
			if !re.MatchString(e.Input) || (r.Unique && seen[e.Input]) {
				continue
			}
			seen[e.Input] = true
			sel = append(sel, e)
			if r.N != nil && len(sel) >= *r.N {
				break
			}
		}
		for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
			sel[i], sel[j] = sel[j], sel[i]
		}
	default:
		return nil, fmt.Errorf("hist_access_type %q, want \"tail\", \"range\" or \"search\"", r.HistAccessType)
	}
	out := make([]any, 0, len(sel))
	for _, e := range sel {
		var in any = e.Input
		if r.Output {
			var o any
			if e.Output != "" {
				o = e.Output
			}
			in = []any{e.Input, o}
		}
		out = append(out, []any{e.Session, e.Line, in})
	}
	return out, nil
}

// globRegexp compiles a glob as SQLite's GLOB reads it (IPython's history
// search): * any text, ? one character, [...] a class ([^...] negated),
// case-sensitive, matching the whole input.
func globRegexp(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	rs := []rune(glob)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i + 1
			if j < len(rs) && rs[j] == '^' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) { // no closing bracket: a literal [
				b.WriteString(`\[`)
				continue
			}
			class := rs[i+1 : j]
			b.WriteByte('[')
			for k, c := range class {
				if c == '^' && k == 0 {
					b.WriteByte('^')
				} else if c == '\\' || c == '[' || (c == ']' && k > 0) {
					b.WriteString(`\` + string(c))
				} else if c == ']' {
					b.WriteString(`\]`)
				} else {
					b.WriteRune(c)
				}
			}
			b.WriteByte(']')
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("history search pattern %q: %w", glob, err)
	}
	return re, nil
}
