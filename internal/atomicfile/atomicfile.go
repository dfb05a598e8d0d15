// Package atomicfile writes files so that a reader sees either the old
// content or the complete new one, never a partial file: the data go to a
// temporary file in the destination's directory, which is synced, closed,
// given its permissions and renamed over the destination. A failed write
// leaves the destination untouched and removes the temporary file.
//
// Results, checkpoints, figures and volumes are all written through it.
package atomicfile

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// Perm is the mode of the files written: readable by everyone, writable by
// the owner (os.CreateTemp alone would leave 0600).
const Perm os.FileMode = 0o644

// Write calls write with a buffered writer onto a temporary file beside
// path and, when write returns nil, flushes, syncs, closes and renames the
// temporary file over path with mode Perm. The error is write's or the
// file system's, unwrapped (callers add their package and the path; the
// *os.PathError values name the file).
func Write(path string, write func(w io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
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
	if err = tmp.Chmod(Perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteFile writes data to path atomically, as Write does.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
