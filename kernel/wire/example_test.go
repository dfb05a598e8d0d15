package wire_test

import (
	"fmt"

	"github.com/unetlab/unetlab/kernel/wire"
)

func ExampleDecode() {
	signer, _ := wire.NewSigner("hmac-sha256", "secret")
	req := &wire.Message{
		Identities: [][]byte{[]byte("client")},
		Header: wire.Header{MsgID: "1", Session: "s", Username: "user", Date: "2026-01-01T00:00:00.000000Z",
			MsgType: "kernel_info_request", Version: wire.ProtocolVersion},
	}
	frames, _ := wire.Encode(req, signer)
	fmt.Printf("%d frames, delimiter %q, signature %d hex digits\n", len(frames), frames[1], len(frames[2]))

	m, err := wire.Decode(frames, signer)
	fmt.Println(m.Type(), string(m.Identities[0]), err)

	frames[6] = []byte(`{"tampered":true}`) // content changed after signing
	_, err = wire.Decode(frames, signer)
	fmt.Println(err)
	// Output:
	// 7 frames, delimiter "<IDS|MSG>", signature 64 hex digits
	// kernel_info_request client <nil>
	// wire: missing or wrong signature (64 signature bytes)
}

func ExampleParseConnection() {
	c, err := wire.ParseConnection([]byte(`{"transport": "ipc", "ip": "/tmp/kernel-1", "key": "k",
		"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}`))
	fmt.Println(c.Endpoint(c.ShellPort), c.SignatureScheme, err)

	_, err = wire.ParseConnection([]byte(`{"transport": "udp", "ip": "127.0.0.1"}`))
	fmt.Println(err)
	// Output:
	// ipc:///tmp/kernel-1-1 hmac-sha256 <nil>
	// wire: invalid connection file: transport "udp", want "tcp" or "ipc"
}
