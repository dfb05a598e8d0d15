package kernel

import "testing"

// BenchmarkExecuteRoundTrip measures execute_request to execute_reply and
// the closing idle status over tcp, with the fake interpreter: the kernel's
// own protocol overhead, client included.
func BenchmarkExecuteRoundTrip(b *testing.B) {
	_, c, _ := startKernel(b, "tcp", nil, "")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := c.send(c.shell, "execute_request", map[string]any{"code": "1+1", "silent": false, "store_history": true,
			"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
		c.reply(c.shell, req)
		c.outputs(req)
	}
}
