//go:build unix

package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	for _, data := range []string{"first", "second, longer", ""} {
		if err := WriteFile(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read back %q, %v; want %q", got, err, data)
		}
	}
	assertOnly(t, dir, "out.bin")
}

// TestWritePerm checks the mode of the file written: the requested one,
// restricted by the umask as os.WriteFile's is.
func TestWritePerm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		perm  os.FileMode
		umask int
		want  os.FileMode
	}{
		{"default", Perm, 0o022, 0o644},
		{"private", 0o600, 0o022, 0o600},
		{"strict umask", Perm, 0o077, 0o600},
		{"group writable", 0o664, 0o002, 0o664},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := syscall.Umask(tc.umask)
			defer syscall.Umask(old)
			path := filepath.Join(t.TempDir(), "f")
			// An existing file of another mode is replaced, mode included.
			if err := os.WriteFile(path, []byte("old"), 0o666); err != nil {
				t.Fatal(err)
			}
			if err := WritePerm(path, tc.perm, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tc.want {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), tc.want)
			}
		})
	}
}

func TestWriteFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("partial"), 1<<18)) // past the buffer: on disk
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("destination holds %d bytes after a failed write, want %q", len(got), "old")
	}
	assertOnly(t, dir, "out.bin")
}

// TestWriteRenameFailure: the destination is a non-empty directory, so the
// rename fails; the temporary file must not stay behind.
func TestWriteRenameFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("data")); err == nil {
		t.Fatal("writing over a non-empty directory succeeded")
	}
	assertOnly(t, dir, "out.bin")
}

func TestWriteMissingDir(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "out.bin"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want os.ErrNotExist", err)
	}
}

// TestConcurrentReaders rewrites a file while readers read it: every read
// must see one whole version (its length and a single repeated byte).
func TestConcurrentReaders(t *testing.T) {
	const size, versions, readers = 256 << 10, 60, 3
	path := filepath.Join(t.TempDir(), "shared.bin")
	if err := WriteFile(path, bytes.Repeat([]byte{0}, size)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				b, err := os.ReadFile(path)
				if err != nil {
					errs <- err
					return
				}
				if len(b) != size || bytes.Count(b, b[:1]) != size {
					errs <- fmt.Errorf("a reader saw a partial file: %d bytes, first %d, %d equal to it",
						len(b), b[0], bytes.Count(b, b[:1]))
					return
				}
			}
		}()
	}
	for v := 1; v <= versions; v++ {
		if err := WriteFile(path, bytes.Repeat([]byte{byte(v)}, size)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// tree returns the files under dir as "name=content", sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel+"="+string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func fill(files ...string) func(string) error {
	return func(tmp string) error {
		for _, f := range files {
			name, content, _ := strings.Cut(f, "=")
			if err := os.WriteFile(filepath.Join(tmp, name), []byte(content), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestReplaceDir(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		before  []string // files of dir before; nil: dir absent
		stale   []string // files of OldDir(dir) before; nil: absent
		build   func(string) error
		failAt  int // the failing call of rename, 1-based; 0: none
		wantErr error
		want    []string // files of dir after
	}{
		{name: "new", build: fill("a=1"), want: []string{"a=1"}},
		{name: "replace", before: []string{"a=old", "b=old"}, build: fill("a=new"), want: []string{"a=new"}},
		{name: "build fails", before: []string{"a=old"}, build: func(tmp string) error { fill("a=half")(tmp); return boom },
			wantErr: boom, want: []string{"a=old"}},
		{name: "move aside fails", before: []string{"a=old"}, build: fill("a=new"), failAt: 1, wantErr: boom, want: []string{"a=old"}},
		{name: "swap fails, old put back", before: []string{"a=old"}, build: fill("a=new"), failAt: 2, wantErr: boom, want: []string{"a=old"}},
		{name: "stale old removed", before: []string{"a=old"}, stale: []string{"a=older"}, build: fill("a=new"), want: []string{"a=new"}},
		{name: "after a crash between the renames", stale: []string{"a=old"}, build: fill("a=new"), want: []string{"a=new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "task")
			if tc.before != nil {
				os.Mkdir(dir, 0o755)
				fill(tc.before...)(dir)
			}
			if tc.stale != nil {
				os.Mkdir(OldDir(dir), 0o755)
				fill(tc.stale...)(OldDir(dir))
			}
			calls := 0
			rename = func(from, to string) error {
				calls++
				if calls == tc.failAt {
					return &os.LinkError{Op: "rename", Old: from, New: to, Err: boom}
				}
				return os.Rename(from, to)
			}
			defer func() { rename = os.Rename }()
			err := ReplaceDir(dir, tc.build)
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got := tree(t, dir); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("dir holds %v, want %v", got, tc.want)
			}
			// Nothing else stays beside it: no temporary directory, and
			// the old one only when it was there and is still needed.
			var names []string
			ents, _ := os.ReadDir(parent)
			for _, e := range ents {
				names = append(names, e.Name())
			}
			wantNames := []string{"task"}
			if tc.stale != nil && tc.wantErr != nil && tc.failAt == 0 {
				wantNames = []string{".task.old", "task"}
			}
			if fmt.Sprint(names) != fmt.Sprint(wantNames) {
				t.Errorf("parent holds %v, want %v", names, wantNames)
			}
		})
	}
}

// TestReplaceDirMode: the new directory gets 0755 under the umask, not
// MkdirTemp's 0700.
func TestReplaceDirMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "spec")
	if err := ReplaceDir(dir, fill("kernel.json={}")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", st.Mode().Perm())
	}
}

// assertOnly checks that dir holds exactly the named file: no temporary
// file was left behind.
func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != name {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, name)
	}
}
