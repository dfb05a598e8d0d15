package decathlon_test

import (
	"archive/tar"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
)

// makeArchive writes a Decathlon-layout archive of a Heart task standing
// in for the real one: a phantom's volumes with a dataset.json released
// as real data, AppleDouble "._*" entries beside the files and the folder
// (as the official archives hold), and extra entries when asked. It
// returns the archive's path and MD5.
func makeArchive(t *testing.T, extra ...string) (string, string) {
	t.Helper()
	ctx := context.Background()
	src := t.TempDir()
	ds, err := phantom.Write(ctx, src, "Heart", &phantom.Options{Shape: [3]int{12, 12, 8}, Training: 3, Test: 1, AppleDouble: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(ds.Dir, "dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	j["release"] = "1.0 04/05/2018 (test archive)"
	raw, _ = json.Marshal(j)
	if err := os.WriteFile(filepath.Join(ds.Dir, "dataset.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(ds.Dir, decathlon.PhantomMarker)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "Task02_Heart.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	add := func(name string, body []byte, dir bool) {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if dir {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	add("._Task02_Heart", []byte("\x00\x05\x16\x07junk"), false)
	err = filepath.WalkDir(ds.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			add(filepath.ToSlash(rel)+"/", nil, true)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		add(filepath.ToSlash(rel), b, false)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range extra {
		add(e, []byte("x"), false)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	sum := md5.Sum(b)
	return path, hex.EncodeToString(sum[:])
}

// TestExtract unpacks a synthetic Decathlon-layout archive and checks the
// guard that keeps phantoms and real data apart.
func TestExtract(t *testing.T) {
	ctx := context.Background()
	archive, sum := makeArchive(t)
	opt := &decathlon.ExtractOptions{MD5: sum}

	t.Run("fresh", func(t *testing.T) {
		root := t.TempDir()
		ds, err := decathlon.Extract(ctx, archive, root, opt)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Synthetic() || len(ds.Training) != 3 || len(ds.Test) != 1 {
			t.Fatalf("%v (synthetic %v), want 3 real training cases and 1 test", ds, ds.Synthetic())
		}
		// No AppleDouble file is written, and no phantom marker.
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if strings.HasPrefix(d.Name(), "._") || d.Name() == decathlon.PhantomMarker {
				t.Errorf("extracted %s", p)
			}
			return nil
		})
		// Once there, the task is returned as it is.
		if _, err := decathlon.Extract(ctx, archive, root, &decathlon.ExtractOptions{MD5: "0"}); err != nil {
			t.Errorf("second Extract: %v", err)
		}
		// phantom.Ensure finds real data and writes nothing.
		got, synthetic, err := phantom.Ensure(ctx, root, "Heart", nil)
		if err != nil || synthetic || got.Release != ds.Release {
			t.Errorf("Ensure over real data: synthetic %v, %v", synthetic, err)
		}
	})

	t.Run("over a phantom", func(t *testing.T) {
		root := t.TempDir()
		if _, _, err := phantom.Ensure(ctx, root, "Heart", &phantom.Options{Shape: [3]int{8, 8, 8}, Training: 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := decathlon.Extract(ctx, archive, root, opt); !errors.Is(err, decathlon.ErrMixed) {
			t.Fatalf("Extract over a phantom: %v, want ErrMixed", err)
		}
		ds, err := decathlon.Extract(ctx, archive, root, &decathlon.ExtractOptions{MD5: sum, ReplacePhantom: true})
		if err != nil {
			t.Fatal(err)
		}
		if ds.Synthetic() || len(ds.Training) != 3 {
			t.Fatalf("replaced phantom: %v", ds)
		}
		if _, err := os.Stat(filepath.Join(ds.Dir, decathlon.PhantomMarker)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the phantom's marker survived the replacement: %v", err)
		}
	})

	t.Run("unpacked by hand over a phantom", func(t *testing.T) {
		root := t.TempDir()
		ph, _, err := phantom.Ensure(ctx, root, "Heart", &phantom.Options{Shape: [3]int{8, 8, 8}, Training: 2})
		if err != nil {
			t.Fatal(err)
		}
		real, err := decathlon.Extract(ctx, archive, t.TempDir(), opt)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(real.Dir, "dataset.json"))
		if err := os.WriteFile(filepath.Join(ph.Dir, "dataset.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := decathlon.Open(ph.Dir); !errors.Is(err, decathlon.ErrMixed) {
			t.Errorf("Open of a mixed folder: %v, want ErrMixed", err)
		}
		if _, _, err := phantom.Ensure(ctx, root, "Heart", nil); err == nil {
			t.Error("phantom.Ensure wrote over a mixed folder")
		}
		if _, err := decathlon.Extract(ctx, archive, root, &decathlon.ExtractOptions{MD5: sum, ReplacePhantom: true}); !errors.Is(err, decathlon.ErrMixed) {
			t.Errorf("Extract into a mixed folder: %v, want ErrMixed", err)
		}
	})

	t.Run("bad archives", func(t *testing.T) {
		if _, err := decathlon.Extract(ctx, archive, t.TempDir(), nil); !errors.Is(err, decathlon.ErrArchive) {
			t.Errorf("MONAI's MD5 for a test archive: %v, want ErrArchive", err)
		}
		evil, evilSum := makeArchive(t, "Task02_Heart/../../evil.txt")
		root := t.TempDir()
		if _, err := decathlon.Extract(ctx, evil, filepath.Join(root, "data"), &decathlon.ExtractOptions{MD5: evilSum}); !errors.Is(err, decathlon.ErrArchive) {
			t.Errorf("entry outside the task: %v, want ErrArchive", err)
		}
		if _, err := os.Stat(filepath.Join(root, "evil.txt")); err == nil {
			t.Error("an entry was written outside the task")
		}
		if _, err := os.Stat(filepath.Join(root, "data", "Task02_Heart")); err == nil {
			t.Error("a failed Extract left the task folder")
		}
	})
}

func TestArchives(t *testing.T) {
	if len(decathlon.Archives) != len(decathlon.Tasks) {
		t.Fatalf("%d archives for %d tasks", len(decathlon.Archives), len(decathlon.Tasks))
	}
	for i, a := range decathlon.Archives {
		if a.Task != decathlon.Tasks[i] || !strings.HasSuffix(a.URL, "/"+a.Task+".tar") || len(a.MD5) != 32 || a.GiB <= 0 {
			t.Errorf("archive %d: %+v", i, a)
		}
	}
	if a, ok := decathlon.ArchiveOf("Heart"); !ok || a.MD5 != "06ee59366e1e5124267b774dbd654057" {
		t.Errorf("ArchiveOf(Heart) = %+v, %v", a, ok)
	}
	if _, ok := decathlon.ArchiveOf("Kidney"); ok {
		t.Error("ArchiveOf(Kidney) found one")
	}
}
