package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestFrameParser(t *testing.T) {
	short := func(flags byte, body string) []byte { return append([]byte{flags, byte(len(body))}, body...) }
	long := func(flags byte, n uint64) []byte {
		b := []byte{flags | 0x02, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(b[1:], n)
		return b
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name    string
		stream  []byte
		frames  int
		atEnd   bool
		wantErr error
	}{
		{"one frame", short(0, "abc"), 1, true, nil},
		{"more pending", short(1, "abc"), 1, false, nil},
		{"message of three", cat(short(1, "a"), short(1, ""), short(0, "c")), 3, true, nil},
		{"empty last frame", cat(short(1, "a"), short(0, "")), 2, true, nil},
		{"long frame", cat(long(0, 300), make([]byte, 300)), 1, true, nil},
		{"partial body", cat(long(0, 300), make([]byte, 10)), 0, false, nil},
		{"command", short(0x04, "\x05READY"), 1, true, nil},
		{"huge size", long(0, 1<<62), 0, false, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Feed the stream whole and byte by byte: same outcome.
			for _, step := range []int{len(tt.stream), 1} {
				var f frameParser
				var err error
				for i := 0; i < len(tt.stream) && err == nil; i += step {
					err = f.consume(tt.stream[i:min(i+step, len(tt.stream))])
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("step %d: error %v, want %v", step, err, tt.wantErr)
				}
				if err == nil && (f.frames != tt.frames || f.atMessageEnd() != tt.atEnd) {
					t.Errorf("step %d: frames %d atEnd %v, want %d %v", step, f.frames, f.atMessageEnd(), tt.frames, tt.atEnd)
				}
			}
		})
	}
}

// zmtpHandshake performs the client side of a NULL-mechanism ZMTP 3.0
// handshake as a DEALER on nc.
func zmtpHandshake(t *testing.T, nc net.Conn) {
	t.Helper()
	greeting := make([]byte, 64)
	greeting[0], greeting[9], greeting[10] = 0xFF, 0x7F, 3
	copy(greeting[12:], "NULL")
	if _, err := nc.Write(greeting); err != nil {
		t.Fatal(err)
	}
	body := []byte("\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER")
	nc.Write(append([]byte{0x04, byte(len(body))}, body...))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	peer := make([]byte, 64)
	if _, err := io.ReadFull(nc, peer); err != nil || peer[0] != 0xFF {
		t.Fatalf("server greeting %q, %v", peer, err)
	}
}

func TestOversizedFrameDoesNotCrash(t *testing.T) {
	k, c, _ := startKernel(t, "tcp", nil, "")
	nc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(k.Conn().ShellPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	zmtpHandshake(t, nc)
	huge := []byte{0x02, 0x40, 0, 0, 0, 0, 0, 0, 0} // 2^62 bytes announced
	nc.Write(huge)
	// The kernel closes that connection and lives on.
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, nc)
	if r, _ := c.execute("print ok", nil); r["status"] != "ok" {
		t.Errorf("kernel after an oversized frame: %v", r)
	}
}
