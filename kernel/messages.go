package kernel

// Contents of the requests the kernel reads, mirroring the messaging spec:
// https://jupyter-client.readthedocs.io/en/latest/messaging.html

// executeRequest is the content of execute_request. Pointer fields are
// those whose default (when absent) is true.
type executeRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    *bool             `json:"store_history"`
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      *bool             `json:"allow_stdin"`
	StopOnError     *bool             `json:"stop_on_error"`
}

func orTrue(b *bool) bool { return b == nil || *b }

// completeRequest is the content of complete_request.
type completeRequest struct {
	Code      string `json:"code"`
	CursorPos int    `json:"cursor_pos"`
}

// inspectRequest is the content of inspect_request.
type inspectRequest struct {
	Code        string `json:"code"`
	CursorPos   int    `json:"cursor_pos"`
	DetailLevel int    `json:"detail_level"`
}

// isCompleteRequest is the content of is_complete_request.
type isCompleteRequest struct {
	Code string `json:"code"`
}

// historyRequest is the content of history_request.
type historyRequest struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"` // "range", "tail" or "search"
	Session        int    `json:"session"`          // range: 0 current, <0 relative
	Start          int    `json:"start"`            // range: first line
	Stop           int    `json:"stop"`             // range: line after the last; 0 = to the end
	N              *int   `json:"n"`                // tail, search: how many
	Pattern        string `json:"pattern"`          // search: glob
	Unique         bool   `json:"unique"`           // search: drop repeated inputs
}

// shutdownRequest is the content of shutdown_request.
type shutdownRequest struct {
	Restart bool `json:"restart"`
}

// inputReply is the content of input_reply.
type inputReply struct {
	Value string `json:"value"`
}

// commInfoRequest is the content of comm_info_request.
type commInfoRequest struct {
	TargetName string `json:"target_name"`
}

// The contents the kernel sends are typed in package wire (content.go).
