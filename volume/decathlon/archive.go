package decathlon

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/unetlab/unetlab/internal/atomicfile"
)

// Archive is one task's official archive as MONAI 1.1's DecathlonDataset
// lists it (monai/apps/datasets.py): where to download it and its MD5.
type Archive struct {
	Task string // folder name, "Task02_Heart"
	URL  string
	MD5  string // hex MD5 of the .tar
	// GiB is the archive's size in GiB, rounded (what the download and the
	// unpacked folder each take on disk, since the volumes stay gzipped).
	GiB float64
}

// Archives lists the ten archives, in task order (MONAI 1.1's URLs and MD5
// sums; sizes as the files on that server).
var Archives = []Archive{
	{"Task01_BrainTumour", msdURL + "Task01_BrainTumour.tar", "240a19d752f0d9e9101544901065d872", 7.1},
	{"Task02_Heart", msdURL + "Task02_Heart.tar", "06ee59366e1e5124267b774dbd654057", 0.43},
	{"Task03_Liver", msdURL + "Task03_Liver.tar", "a90ec6c4aa7f6a3d087205e23d4e6397", 27},
	{"Task04_Hippocampus", msdURL + "Task04_Hippocampus.tar", "9d24dba78a72977dbd1d2e110310f31b", 0.03},
	{"Task05_Prostate", msdURL + "Task05_Prostate.tar", "35138f08b1efaef89d7424d2bcc928db", 0.22},
	{"Task06_Lung", msdURL + "Task06_Lung.tar", "8afd997733c7fc0432f71255ba4e52dc", 8.5},
	{"Task07_Pancreas", msdURL + "Task07_Pancreas.tar", "4f7080cfca169fa8066d17ce6eb061e4", 11},
	{"Task08_HepaticVessel", msdURL + "Task08_HepaticVessel.tar", "641d79e80ec66453921d997fbf12a29c", 8.7},
	{"Task09_Spleen", msdURL + "Task09_Spleen.tar", "410d4a301da4e5b2f6f86ec3ddba524e", 1.5},
	{"Task10_Colon", msdURL + "Task10_Colon.tar", "bad7a188931dc2f6acf72b08eb6202d0", 5.4},
}

const msdURL = "https://msd-for-monai.s3-us-west-2.amazonaws.com/"

// ArchiveOf returns the archive of task ("Task02_Heart" or "Heart").
func ArchiveOf(task string) (Archive, bool) {
	for _, a := range Archives {
		if a.Task == task || strings.TrimLeft(strings.TrimPrefix(a.Task, "Task"), "0123456789_") == task {
			return a, true
		}
	}
	return Archive{}, false
}

// PhantomMarker is the file that phantom.Write leaves in a task folder it
// writes. Open refuses a folder holding both the marker and a dataset.json
// that is not a phantom's (ErrMixed), and Extract refuses to unpack real
// data over a phantom unless told to replace it.
const PhantomMarker = ".unetlab-phantom"

// PhantomRelease prefixes the release field of a phantom's dataset.json.
const PhantomRelease = "unetlab phantom"

// ErrMixed reports a task folder that holds, or would come to hold, both a
// synthetic phantom and real Decathlon data.
var ErrMixed = errors.New("decathlon: phantom and real data in one folder")

// ErrArchive reports an archive that is not a Decathlon task archive: an
// MD5 other than the listed one, no TaskNN_Name/dataset.json, or an entry
// outside its task folder.
var ErrArchive = errors.New("decathlon: invalid archive")

// Synthetic reports whether d is a phantom (its release says so).
func (d *Dataset) Synthetic() bool { return strings.HasPrefix(d.Release, PhantomRelease) }

// ExtractOptions configures Extract; nil means the defaults.
type ExtractOptions struct {
	// MD5 is the archive's expected hex MD5; "" means the one Archives
	// lists for the task the archive holds. SkipMD5 checks none (an
	// archive made by hand, as the tests do).
	MD5     string
	SkipMD5 bool
	// ReplacePhantom lets Extract replace a phantom folder of the same
	// task; without it that is ErrMixed.
	ReplacePhantom bool
}

// Extract unpacks a task archive (.tar, or .tar.gz / .tgz) into root and
// opens the task: root/TaskNN_Name/ appears whole or not at all (it is
// built beside and renamed into place). The archive's MD5 is checked
// first (see ExtractOptions), AppleDouble entries ("._*") are not
// written, and an entry outside the task folder is ErrArchive. A task
// folder that already holds real data is returned as it is (the archive
// is not read again); one that holds a phantom is ErrMixed unless
// opt.ReplacePhantom. It stops when ctx is cancelled.
func Extract(ctx context.Context, archive, root string, opt *ExtractOptions) (*Dataset, error) {
	o := ExtractOptions{}
	if opt != nil {
		o = *opt
	}
	task, err := archiveTask(archive)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, task)
	ds, openErr := Open(dir)
	switch {
	case openErr == nil && !ds.Synthetic():
		return ds, nil
	case errors.Is(openErr, ErrMixed):
		return nil, openErr
	}
	synthetic := openErr == nil // and so a phantom
	if _, err := os.Stat(filepath.Join(dir, PhantomMarker)); err == nil {
		synthetic = true
	}
	if synthetic && !o.ReplacePhantom {
		return nil, fmt.Errorf("%w: %s holds a phantom; remove it or set ExtractOptions.ReplacePhantom to unpack %s there",
			ErrMixed, dir, filepath.Base(archive))
	}
	if entries, err := os.ReadDir(dir); !synthetic && err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("decathlon: %s holds %d entries but no intact task (%v); move it away before unpacking %s",
			dir, len(entries), openErr, filepath.Base(archive))
	}
	if !o.SkipMD5 {
		want := o.MD5
		if want == "" {
			a, ok := ArchiveOf(task)
			if !ok {
				return nil, fmt.Errorf("%w: %s: no listed MD5 for %s", ErrArchive, archive, task)
			}
			want = a.MD5
		}
		got, err := fileMD5(ctx, archive)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(got, want) {
			return nil, fmt.Errorf("%w: %s: MD5 %s, want %s (a partial or corrupted download?)", ErrArchive, archive, got, want)
		}
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("decathlon: %w", err)
	}
	err = atomicfile.ReplaceDir(dir, func(tmp string) error { return untar(ctx, archive, task, tmp) })
	if err != nil {
		return nil, err
	}
	return Open(dir)
}

// archiveTask returns the task folder the archive's entries live under.
func archiveTask(archive string) (string, error) {
	var task string
	err := walkTar(context.Background(), archive, func(name string, h *tar.Header, r io.Reader) error {
		first, _, _ := strings.Cut(name, "/")
		if isAppleDouble(first) || first == "" || first == "." {
			return nil
		}
		if task == "" {
			task = first
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return "", err
	}
	if !strings.HasPrefix(task, "Task") {
		return "", fmt.Errorf("%w: %s: first entry %q is not under a TaskNN_Name folder", ErrArchive, archive, task)
	}
	return task, nil
}

var errStop = errors.New("stop")

// walkTar calls f on each entry of the (optionally gzipped) tar archive,
// with its cleaned slash path.
func walkTar(ctx context.Context, archive string, f func(name string, h *tar.Header, r io.Reader) error) error {
	fh, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("decathlon: %w", err)
	}
	defer fh.Close()
	var r io.Reader = fh
	if strings.HasSuffix(archive, ".gz") || strings.HasSuffix(archive, ".tgz") {
		zr, err := gzip.NewReader(fh)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrArchive, archive, err)
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrArchive, archive, err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if err := f(name, h, tr); err != nil {
			return err
		}
	}
}

// untar writes the entries under task/ of archive into dir, skipping
// AppleDouble files.
func untar(ctx context.Context, archive, task, dir string) error {
	return walkTar(ctx, archive, func(name string, h *tar.Header, r io.Reader) error {
		if name == "." || isAppleDouble(path.Base(name)) || isAppleDouble(strings.SplitN(name, "/", 2)[0]) {
			return nil
		}
		rel, ok := strings.CutPrefix(name, task+"/")
		if name == task {
			return nil
		}
		if !ok || rel == "" || strings.HasPrefix(rel, "../") || path.IsAbs(name) || strings.Contains(rel, "/../") {
			return fmt.Errorf("%w: %s: entry %q is outside %s/", ErrArchive, archive, h.Name, task)
		}
		for _, part := range strings.Split(rel, "/") {
			if isAppleDouble(part) {
				return nil
			}
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			return os.MkdirAll(dst, 0o755)
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			w, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("decathlon: %w", err)
			}
			if _, err := io.Copy(w, r); err != nil {
				w.Close()
				return fmt.Errorf("%w: %s: %s: %w", ErrArchive, archive, h.Name, err)
			}
			return w.Close()
		}
		return nil // links and the rest are not part of a task
	})
}

// fileMD5 returns the hex MD5 of a file.
func fileMD5(ctx context.Context, name string) (string, error) {
	fh, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("decathlon: %w", err)
	}
	defer fh.Close()
	h := md5.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := fh.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("decathlon: %s: %w", name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
