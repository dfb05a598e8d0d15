package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func frames(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// Vectors computed with Python's hmac module over the frames
// {"msg_id":"a"} {} {} {"code":"1+1"} with key "secret".
func TestSignerMatchesPython(t *testing.T) {
	tests := []struct{ scheme, want string }{
		{"hmac-sha256", "2b4fcfd5e346a79b74b969e4967bc74f062ac8e372d93dea5612ac8efc684746"},
		{"", "2b4fcfd5e346a79b74b969e4967bc74f062ac8e372d93dea5612ac8efc684746"},
		{"hmac-sha3_256", "544cc91b1cf2f1c5e9a487e8e0c1db7a5d2564f268eeea80dc925b1d6c562c51"},
		{"hmac-md5", "93eb872acc1fdb353e604db49f79cf8c"},
	}
	f := frames(`{"msg_id":"a"}`, `{}`, `{}`, `{"code":"1+1"}`)
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			s, err := NewSigner(tt.scheme, "secret")
			if err != nil {
				t.Fatal(err)
			}
			if got := string(s.Sign(f[0], f[1], f[2], f[3])); got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
			if !s.Verify([]byte(tt.want), f[0], f[1], f[2], f[3]) {
				t.Error("Verify rejects the right signature")
			}
			bad := []byte(tt.want)
			bad[0] ^= 1
			if s.Verify(bad, f[0], f[1], f[2], f[3]) {
				t.Error("Verify accepts a wrong signature")
			}
			if s.Verify(nil, f[0], f[1], f[2], f[3]) {
				t.Error("Verify accepts a missing signature")
			}
			if s.Verify([]byte(strings.ToUpper(tt.want)+"00"), f[0], f[1], f[2], f[3]) {
				t.Error("Verify accepts a longer signature")
			}
		})
	}
}

func TestSignerSchemes(t *testing.T) {
	for _, scheme := range Schemes() {
		s, err := NewSigner(scheme, "k")
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		sig := s.Sign([]byte("{}"), []byte("{}"), []byte("{}"), []byte("{}"))
		if len(sig) == 0 || !s.Verify(sig, []byte("{}"), []byte("{}"), []byte("{}"), []byte("{}")) {
			t.Errorf("%s: round trip failed (sig %q)", scheme, sig)
		}
	}
	for _, bad := range []string{"sha256", "hmac-", "hmac-sha999", "rsa-sha256"} {
		if _, err := NewSigner(bad, "k"); !errors.Is(err, ErrScheme) {
			t.Errorf("NewSigner(%q) error %v, want ErrScheme", bad, err)
		}
	}
}

func TestEmptyKeyDisablesSigning(t *testing.T) {
	for _, s := range []*Signer{nil, mustSigner(t, "hmac-sha256", "")} {
		if s.Enabled() {
			t.Error("Enabled with empty key")
		}
		if sig := s.Sign([]byte("{}"), nil, nil, nil); len(sig) != 0 {
			t.Errorf("Sign = %q, want empty", sig)
		}
		if !s.Verify([]byte("anything"), nil, nil, nil, nil) {
			t.Error("Verify rejects with signing disabled")
		}
	}
}

func mustSigner(t testing.TB, scheme, key string) *Signer {
	t.Helper()
	s, err := NewSigner(scheme, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixedMessage is a message with deterministic ids and dates.
func fixedMessage() *Message {
	return &Message{
		Identities: frames("client-1", "client-2"),
		Header: Header{MsgID: "m-2", Session: "kernel-s", Username: "kernel",
			Date: "2026-01-02T03:04:05.000000Z", MsgType: "execute_reply", Version: ProtocolVersion},
		ParentHeader: Header{MsgID: "m-1", Session: "client-s", Username: "user",
			Date: "2026-01-02T03:04:04.000000Z", MsgType: "execute_request", Version: "5.3"},
		Metadata: map[string]any{"started": "2026-01-02T03:04:04.5Z"},
		Content:  json.RawMessage(`{"status":"ok","execution_count":1,"user_expressions":{}}`),
		Buffers:  frames("\x00\x01binary"),
	}
}

func TestEncodeGolden(t *testing.T) {
	tests := []struct {
		name   string
		msg    *Message
		signer *Signer
	}{
		{"signed_sha256", fixedMessage(), mustSigner(t, "hmac-sha256", "secret")},
		{"unsigned", fixedMessage(), nil},
		{"no_parent", &Message{Header: Header{MsgID: "m-3", Session: "s", Username: "kernel",
			Date: "2026-01-02T03:04:05.000000Z", MsgType: "status", Version: "5.3"},
			Content: json.RawMessage(`{"execution_state":"idle"}`)}, mustSigner(t, "hmac-sha512", "secret")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr, err := Encode(tt.msg, tt.signer)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			for _, f := range fr {
				buf.WriteString(strings.ReplaceAll(string(f), "\n", `\n`))
				buf.WriteByte('\n')
			}
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("frames differ from %s:\ngot:\n%s\nwant:\n%s", path, buf.String(), want)
			}
			// And the frames decode back to the same message.
			got, err := Decode(fr, tt.signer)
			if err != nil {
				t.Fatal(err)
			}
			if got.Header != tt.msg.Header || got.ParentHeader != tt.msg.ParentHeader ||
				string(got.Content) != string(tt.msg.Content) || len(got.Buffers) != len(tt.msg.Buffers) ||
				len(got.Identities) != len(tt.msg.Identities) {
				t.Errorf("round trip: got %+v, want %+v", got, tt.msg)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	s := mustSigner(t, "hmac-sha256", "secret")
	good, err := Encode(fixedMessage(), s)
	if err != nil {
		t.Fatal(err)
	}
	d := 2 // index of the delimiter in good
	with := func(i int, v string) [][]byte {
		c := append([][]byte(nil), good...)
		c[i] = []byte(v)
		return c
	}
	resign := func(fr [][]byte) [][]byte {
		fr[d+1] = s.Sign(fr[d+2], fr[d+3], fr[d+4], fr[d+5])
		return fr
	}
	tests := []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"nil", nil, ErrNoDelimiter},
		{"no delimiter", frames("a", "b", "c", "d", "e", "f"), ErrNoDelimiter},
		{"delimiter last", frames("id", Delimiter), ErrShort},
		{"four after delimiter", good[:d+5], ErrShort},
		{"missing signature", with(d+1, ""), ErrSignature},
		{"wrong signature", with(d+1, strings.Repeat("0", 64)), ErrSignature},
		{"non-hex signature", with(d+1, strings.Repeat("z", 64)), ErrSignature},
		{"tampered content", with(d+5, `{"status":"error"}`), ErrSignature},
		{"header not JSON", resign(with(d+2, `{"msg_id":`)), ErrJSON},
		{"header array", resign(with(d+2, `[]`)), ErrJSON},
		{"header no type", resign(with(d+2, `{"msg_id":"x"}`)), ErrJSON},
		{"header wrong type", resign(with(d+2, `{"msg_type":5}`)), ErrJSON},
		{"parent string", resign(with(d+3, `"x"`)), ErrJSON},
		{"metadata null", resign(with(d+4, `null`)), ErrJSON},
		{"content number", resign(with(d+5, `42`)), ErrJSON},
		{"content empty", resign(with(d+5, ``)), ErrJSON},
		{"content truncated", resign(with(d+5, `{"code":`)), ErrJSON},
		{"content two objects", resign(with(d+5, `{} {}`)), ErrJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.frames, s)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error %v, want %v (message %+v)", err, tt.want, m)
			}
		})
	}
}

func TestDecodeUnsignedAcceptsAnySignature(t *testing.T) {
	fr, _ := Encode(fixedMessage(), nil)
	fr[3] = []byte("garbage")
	m, err := Decode(fr, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Status string `json:"status"`
	}
	if err := m.DecodeContent(&c); err != nil || c.Status != "ok" {
		t.Errorf("content %+v, %v", c, err)
	}
	if m.Type() != "execute_reply" {
		t.Errorf("Type = %q", m.Type())
	}
}

func TestNewMessageAnswersParent(t *testing.T) {
	req := fixedMessage()
	m, err := NewMessage("status", "k", "kernel", req, map[string]string{"execution_state": "busy"})
	if err != nil {
		t.Fatal(err)
	}
	if m.ParentHeader != req.Header || len(m.Identities) != 2 || m.Header.MsgID == "" ||
		m.Header.Version != ProtocolVersion || string(m.Content) != `{"execution_state":"busy"}` {
		t.Errorf("NewMessage = %+v", m)
	}
	if _, err := NewMessage("x", "k", "u", nil, func() {}); err == nil {
		t.Error("NewMessage accepted unmarshalable content")
	}
}

func FuzzDecode(f *testing.F) {
	s := mustSigner(f, "hmac-sha256", "secret")
	good, _ := Encode(fixedMessage(), s)
	f.Add(bytes.Join(good, []byte{0}), true)
	f.Add([]byte("<IDS|MSG>\x00\x00{}\x00{}\x00{}\x00{}"), false)
	f.Add([]byte("<IDS|MSG>\x00\x00{\"msg_type\":\"x\"}\x00[]\x00{}\x00{}"), false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, signed bool) {
		fr := bytes.Split(data, []byte{0})
		var signer *Signer
		if signed {
			signer = s
		}
		m, err := Decode(fr, signer)
		if err != nil {
			if m != nil {
				t.Fatal("Decode returned a message with an error")
			}
			return
		}
		if m.Header.MsgType == "" {
			t.Fatal("decoded a message without msg_type")
		}
		// A decoded message re-encodes and decodes to the same header.
		again, err := Encode(m, signer)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Decode(again, signer)
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if m2.Header != m.Header || m2.ParentHeader != m.ParentHeader {
			t.Fatalf("round trip changed headers: %+v vs %+v", m2.Header, m.Header)
		}
	})
}
