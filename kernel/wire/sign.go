package wire

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strings"
	"sync"
)

// ErrScheme is returned for a signature_scheme this package does not know.
var ErrScheme = errors.New("wire: unsupported signature scheme")

// schemes maps the digest part of a signature_scheme ("hmac-<digest>", with
// Python's hashlib names) to its hash constructor.
var schemes = map[string]func() hash.Hash{
	"md5":      md5.New,
	"sha1":     sha1.New,
	"sha224":   sha256.New224,
	"sha256":   sha256.New,
	"sha384":   sha512.New384,
	"sha512":   sha512.New,
	"sha3_224": func() hash.Hash { return sha3.New224() },
	"sha3_256": func() hash.Hash { return sha3.New256() },
	"sha3_384": func() hash.Hash { return sha3.New384() },
	"sha3_512": func() hash.Hash { return sha3.New512() },
}

// Schemes lists the supported signature_scheme values.
func Schemes() []string {
	var s []string
	for k := range schemes {
		s = append(s, "hmac-"+k)
	}
	sort.Strings(s)
	return s
}

// Signer signs and verifies messages with the session key. A nil *Signer,
// or one with an empty key, signs with the empty signature and accepts any.
// A Signer is safe for concurrent use.
type Signer struct {
	key  []byte
	pool sync.Pool // of hash.Hash (HMAC with key)
}

// NewSigner returns a Signer for scheme (e.g. "hmac-sha256"; "" means
// hmac-sha256) and key. An empty key disables signing.
func NewSigner(scheme, key string) (*Signer, error) {
	if scheme == "" {
		scheme = "hmac-sha256"
	}
	digest, ok := strings.CutPrefix(scheme, "hmac-")
	newHash := schemes[digest]
	if !ok || newHash == nil {
		return nil, fmt.Errorf("%w %q (supported: %s)", ErrScheme, scheme, strings.Join(Schemes(), ", "))
	}
	s := &Signer{key: []byte(key)}
	s.pool.New = func() any { return hmac.New(newHash, s.key) }
	return s, nil
}

// Enabled reports whether s signs messages (its key is not empty).
func (s *Signer) Enabled() bool { return s != nil && len(s.key) > 0 }

// Sign returns the lowercase hex signature of the four JSON frames, or an
// empty slice when signing is disabled.
func (s *Signer) Sign(header, parent, metadata, content []byte) []byte {
	if !s.Enabled() {
		return []byte{}
	}
	sum := s.mac(header, parent, metadata, content)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// Verify reports whether sig is the signature of the four frames, comparing
// in constant time. With signing disabled every signature verifies.
func (s *Signer) Verify(sig, header, parent, metadata, content []byte) bool {
	if !s.Enabled() {
		return true
	}
	want := s.mac(header, parent, metadata, content)
	got := make([]byte, hex.DecodedLen(len(sig)))
	if _, err := hex.Decode(got, sig); err != nil || len(got) != len(want) {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

func (s *Signer) mac(frames ...[]byte) []byte {
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	for _, f := range frames {
		h.Write(f)
	}
	sum := h.Sum(nil)
	s.pool.Put(h)
	return sum
}
