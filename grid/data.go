package grid

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/unetlab/unetlab/internal/atomicfile"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
)

// hashesFile is the file-hash cache in a grid's cache folder.
const hashesFile = "filehashes.json"

// FileHashes caches files' sha256 by (path, size, modification time), so
// that identifying a dataset again reads only the files that changed. It is
// safe for concurrent use; Save writes it back atomically (a lost update
// between two processes costs only a hash computed again).
type FileHashes struct {
	path string // "" keeps it in memory only
	mu   sync.Mutex
	m    map[string]fileHash
	new  bool
}

type fileHash struct {
	Size    int64
	ModTime int64 // nanoseconds since the epoch
	SHA256  string
}

// OpenFileHashes reads the cache in dir (dir/filehashes.json); "" gives an
// empty cache that Save does not write.
func OpenFileHashes(dir string) (*FileHashes, error) {
	h := &FileHashes{m: map[string]fileHash{}}
	if dir == "" {
		return h, nil
	}
	h.path = filepath.Join(dir, hashesFile)
	b, err := os.ReadFile(h.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return h, nil
	case err != nil:
		return nil, fmt.Errorf("grid: file hashes: %w", err)
	}
	if err := json.Unmarshal(b, &h.m); err != nil {
		// A damaged cache is only a cache: start again.
		h.m = map[string]fileHash{}
	}
	return h, nil
}

// Sum returns the hex sha256 of the file at path, from the cache when its
// size and modification time are those recorded.
func (h *FileHashes) Sum(path string) (sum string, size int64, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", 0, fmt.Errorf("grid: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", 0, fmt.Errorf("grid: data file: %w", err)
	}
	h.mu.Lock()
	c, ok := h.m[abs]
	h.mu.Unlock()
	if ok && c.Size == st.Size() && c.ModTime == st.ModTime().UnixNano() {
		return c.SHA256, c.Size, nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", 0, fmt.Errorf("grid: data file: %w", err)
	}
	defer f.Close()
	d := sha256.New()
	if _, err := io.Copy(d, f); err != nil {
		return "", 0, fmt.Errorf("grid: hashing %s: %w", abs, err)
	}
	sum = hex.EncodeToString(d.Sum(nil))
	h.mu.Lock()
	h.m[abs] = fileHash{Size: st.Size(), ModTime: st.ModTime().UnixNano(), SHA256: sum}
	h.new = true
	h.mu.Unlock()
	return sum, st.Size(), nil
}

// Save writes the cache when something was added since it was read.
func (h *FileHashes) Save() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.path == "" || !h.new {
		return nil
	}
	b, err := json.Marshal(h.m)
	if err != nil {
		return fmt.Errorf("grid: file hashes: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o755); err != nil {
		return fmt.Errorf("grid: file hashes: %w", err)
	}
	if err := atomicfile.WriteFile(h.path, b); err != nil {
		return fmt.Errorf("grid: file hashes: %w", err)
	}
	h.new = false
	return nil
}

// DataIdentity returns the identity of a dataset: the hex sha256 of its
// dataset.json's content and, for every file it lists (training images and
// labels, test images, in its order), the file's path relative to the task
// folder, its size and its content's sha256. Two copies of a task in
// different folders have the same identity; changing, adding or removing
// one case changes it. Content hashes come from h (nil: computed afresh).
func DataIdentity(ctx context.Context, ds *decathlon.Dataset, h *FileHashes) (string, error) {
	if h == nil {
		h, _ = OpenFileHashes("")
	}
	js, err := os.ReadFile(filepath.Join(ds.Dir, "dataset.json"))
	if err != nil {
		return "", fmt.Errorf("grid: data identity of %s: %w", ds.Name, err)
	}
	d := sha256.New()
	j := sha256.Sum256(js)
	fmt.Fprintf(d, "dataset.json %x\n", j)
	var files []string
	for _, c := range ds.Training {
		files = append(files, c.Image, c.Label)
	}
	for _, c := range ds.Test {
		files = append(files, c.Image)
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("grid: data identity of %s: %w", ds.Name, err)
		}
		sum, size, err := h.Sum(f)
		if err != nil {
			return "", fmt.Errorf("grid: data identity of %s: %w", ds.Name, err)
		}
		rel, err := filepath.Rel(ds.Dir, f)
		if err != nil {
			rel = filepath.Base(f)
		}
		fmt.Fprintf(d, "%s %d %s\n", filepath.ToSlash(rel), size, sum)
	}
	return hex.EncodeToString(d.Sum(nil)), nil
}

// PreparedCache serves a task's training cases preprocessed (normalised
// and resized as Prep says) from files on disk: each case is prepared once,
// by whichever job asks first, and written as two uncompressed NIfTI files
// (image float32, label uint8) under Dir, a folder named by the data
// identity and the preprocessing. Nothing stays in memory beyond the
// sample asked for (the page cache keeps hot cases), so a paper-scale grid
// runs in the memory of one training job. It has the Len and Sample
// methods of batch.Source and is safe for concurrent use, across processes
// too (files are written atomically; two jobs preparing one case at once
// write the same bytes).
type PreparedCache struct {
	Dir  string
	prep *decathlon.Prepared
	ds   *decathlon.Dataset
}

// NewPreparedCache returns the cache of ds's training cases under root
// (root/<identity>-<preprocessing>/). id is ds's DataIdentity.
func NewPreparedCache(root string, ds *decathlon.Dataset, id string, p Prep) (*PreparedCache, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("grid: preprocessing: %w", err)
	}
	ph := sha256.Sum256(b)
	dir := filepath.Join(root, fmt.Sprintf("%s-%s-%x", ds.Name, short(id), ph[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("grid: prepared cache: %w", err)
	}
	prep := ds.Prepare(&decathlon.PrepareOptions{Shape: p.Shape, Intensity: p.Intensity, Labels: p.Labels, NoCache: true})
	return &PreparedCache{Dir: dir, prep: prep, ds: ds}, nil
}

// Len returns the number of training cases.
func (c *PreparedCache) Len() int { return c.prep.Len() }

// Sample returns training case i prepared: the cached files when present,
// otherwise the case is prepared, written, and read back (so that a first
// and a later job see the same voxels).
func (c *PreparedCache) Sample(ctx context.Context, i int) (image, label *volume.Volume, err error) {
	if i < 0 || i >= c.Len() {
		return nil, nil, fmt.Errorf("grid: prepared cache %s: case %d out of range [0, %d)", c.Dir, i, c.Len())
	}
	id := c.ds.Training[i].ID
	ip, lp := filepath.Join(c.Dir, id+".image.nii"), filepath.Join(c.Dir, id+".label.nii")
	if image, label, err = readPair(ip, lp); err == nil {
		return image, label, nil
	}
	img, lab, err := c.prep.Sample(ctx, i)
	if err != nil {
		return nil, nil, err
	}
	if err := volume.Write(ip, img, &volume.WriteOptions{Datatype: volume.Float32}); err != nil {
		return nil, nil, fmt.Errorf("grid: prepared cache: %w", err)
	}
	if err := volume.Write(lp, lab, &volume.WriteOptions{Datatype: volume.Uint8}); err != nil {
		return nil, nil, fmt.Errorf("grid: prepared cache: %w", err)
	}
	return readPair(ip, lp)
}

func readPair(ip, lp string) (image, label *volume.Volume, err error) {
	if image, err = volume.Read(ip); err != nil {
		return nil, nil, err
	}
	if label, err = volume.Read(lp); err != nil {
		return nil, nil, err
	}
	return image, label, nil
}
