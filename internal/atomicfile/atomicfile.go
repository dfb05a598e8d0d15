// Package atomicfile replaces files and directories so that a reader sees
// either the old content or the complete new one, never a partial file or
// a half-built directory, and a crash leaves one of the two on disk.
//
// Files: the data go to a temporary file in the destination's directory
// (created with the requested mode, which the umask restricts as for
// os.WriteFile), which is flushed, synced and closed, then renamed over the
// destination; the directory is synced so that the rename itself survives
// a crash. A failed write leaves the destination untouched and removes the
// temporary file.
//
// Directories: [ReplaceDir] builds the new directory beside the old one,
// syncs it, moves the old one aside (to [OldDir]), renames the new one into
// place and removes the old one; when the second rename fails the old
// directory is put back.
//
// Every file and directory the module replaces (results, checkpoints, run
// records, figures, volumes, kernelspecs, phantoms, the kernel's history,
// generated code) goes through this package: no other package calls
// os.Rename (a test checks).
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Perm is the default mode of the files written: readable by everyone,
// writable by the owner, before the umask (0644 under the usual umask 022,
// as os.WriteFile(name, data, 0o644) gives; os.CreateTemp alone would leave
// 0600).
const Perm os.FileMode = 0o644

// rename is os.Rename; tests replace it to make a swap fail.
var rename = os.Rename

// Write calls write with a buffered writer onto a temporary file beside
// path and, when write returns nil, flushes, syncs, closes and renames the
// temporary file over path, with mode [Perm], then syncs the directory. It
// suits streaming writers (json.Encoder, safetensors). The error is
// write's, unwrapped, or the file system's (an *os.PathError naming the
// file); callers add their package and the path.
func Write(path string, write func(w io.Writer) error) error {
	return WritePerm(path, Perm, write)
}

// WriteFile writes data to path atomically with mode [Perm], as Write does.
func WriteFile(path string, data []byte) error {
	return WritePerm(path, Perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WritePerm is Write with the file's mode given: perm before the umask, as
// for os.WriteFile (0o600 for a file only its owner may read).
func WritePerm(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	tmp, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// tempName returns a fresh hidden name for a temporary file or directory
// beside dir/base.
func tempName(dir, base string) string {
	return filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(uint64(rand.Uint32()), 10))
}

// mkdirTemp creates a new directory beside parent/base with mode 0755
// (umask applied).
func mkdirTemp(parent, base string) (string, error) {
	for range 10000 {
		name := tempName(parent, base)
		err := os.Mkdir(name, 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, err
	}
	return "", &os.PathError{Op: "mkdirtemp", Path: filepath.Join(parent, base), Err: fs.ErrExist}
}

// createTemp creates a new file beside path with mode perm (umask
// applied), named .BASE.tmp-NNN so that listings and globs skip it.
func createTemp(path string, perm os.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	for range 10000 {
		name := tempName(dir, base)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &os.PathError{Op: "createtemp", Path: path, Err: fs.ErrExist}
}

// syncDir flushes the directory entry changes of dir (a rename) to disk.
// File systems that cannot sync a directory (EINVAL) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

// OldDir is where [ReplaceDir] moves the directory it replaces while it
// swaps: .BASE.old beside dir, hidden so that listings (a Jupyter
// kernelspec directory, a data folder of tasks) do not take it for one
// more entry. After a crash between the two renames dir is missing
// and OldDir(dir) holds the last complete content: a reader may fall back
// to it, and the next ReplaceDir removes it.
func OldDir(dir string) string {
	parent, base := filepath.Split(filepath.Clean(dir))
	return filepath.Join(parent, "."+base+".old")
}

// ReplaceDir puts a directory built by build in place of dir. build gets
// the path of a new, empty directory (mode 0755 before the umask) beside
// dir and fills it; when it returns nil, every file and directory in it is
// synced, dir (when it exists) is renamed to [OldDir](dir), the new
// directory is renamed to dir, the parent is synced and the old directory
// removed. Readers see the old directory or the new one, never a mix; dir
// is missing only between the two renames, when OldDir(dir) holds the old
// one. When build fails the new directory is removed and dir is untouched;
// when the swap fails the old directory is put back. A stale OldDir(dir)
// left by an earlier crash is removed first when dir exists; when dir does
// not, the new directory replaces it too. The parent directory must exist.
func ReplaceDir(dir string, build func(tmp string) error) (err error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	tmp, err := mkdirTemp(parent, base)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err = build(tmp); err != nil {
		return err
	}
	if err = syncTree(tmp); err != nil {
		return err
	}
	old := OldDir(dir)
	_, statErr := os.Lstat(dir)
	exists := statErr == nil
	if exists {
		if err = os.RemoveAll(old); err != nil {
			return fmt.Errorf("removing the stale %s: %w", old, err)
		}
		if err = rename(dir, old); err != nil {
			return err
		}
	}
	if err = rename(tmp, dir); err != nil {
		if exists {
			if rerr := rename(old, dir); rerr != nil {
				return fmt.Errorf("%w (and putting the old directory back from %s: %w)", err, old, rerr)
			}
		}
		return err
	}
	if err = syncDir(parent); err != nil {
		return err
	}
	// The new directory is in place: failing to remove the old one is
	// reported, but the replacement stands.
	if rerr := os.RemoveAll(old); rerr != nil {
		return fmt.Errorf("removing the replaced directory %s: %w", old, rerr)
	}
	return nil
}

// syncTree syncs every regular file and directory under root, so that what
// build wrote without syncing is on disk before the rename publishes it.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if d.IsDir() && (errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)) {
			return nil
		}
		return err
	})
}
