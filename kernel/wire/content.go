package wire

import "encoding/json"

// Contents of the messages the kernel sends, mirroring the Jupyter
// messaging spec, version 5.3 (ProtocolVersion):
// https://jupyter-client.readthedocs.io/en/latest/messaging.html
//
// A field the spec requires is always written (an empty list or object
// rather than null where the spec wants one: the constructors of the
// kernel fill them); omitempty marks only the fields the spec lets be
// absent. Maps of MIME type to data (Data) hold strings, or JSON values for
// JSON types; binary data is base64 text, as the spec wants.

// Reply statuses (the "status" field of every reply).
const (
	StatusOK      = "ok"
	StatusError   = "error"
	StatusAborted = "aborted"
)

// Error is the content of an iopub error message and the error part of a
// reply (ErrorReply). Traceback lines may hold ANSI colours.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#execution-errors
type Error struct {
	EName     string   `json:"ename"`
	EValue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

// ErrorReply is the content of any reply with status "error".
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#request-reply
type ErrorReply struct {
	Status string `json:"status"` // StatusError
	Error
}

// KernelInfoReply is the content of kernel_info_reply.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#kernel-info
type KernelInfoReply struct {
	Status                string       `json:"status"`
	ProtocolVersion       string       `json:"protocol_version"`
	Implementation        string       `json:"implementation"`
	ImplementationVersion string       `json:"implementation_version"`
	LanguageInfo          LanguageInfo `json:"language_info"`
	Banner                string       `json:"banner"`
	HelpLinks             []HelpLink   `json:"help_links"`
	Debugger              bool         `json:"debugger"`
}

// LanguageInfo describes the kernel's language in KernelInfoReply.
type LanguageInfo struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	Mimetype       string `json:"mimetype"`
	FileExtension  string `json:"file_extension"`
	PygmentsLexer  string `json:"pygments_lexer"`
	CodemirrorMode string `json:"codemirror_mode"`
}

// HelpLink is an entry of the front end's Help menu (KernelInfoReply).
type HelpLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// ExecuteReply is the content of execute_reply with status "ok"; see
// ExecuteErrorReply and ExecuteAbortedReply for the other two.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#execution-results
type ExecuteReply struct {
	Status          string                    `json:"status"` // StatusOK
	ExecutionCount  int                       `json:"execution_count"`
	UserExpressions map[string]UserExpression `json:"user_expressions"`
	Payload         []any                     `json:"payload"` // deprecated by the spec; always empty
}

// ExecuteErrorReply is the content of execute_reply with status "error".
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#execution-results
type ExecuteErrorReply struct {
	Status         string `json:"status"` // StatusError
	ExecutionCount int    `json:"execution_count"`
	Error
	UserExpressions map[string]UserExpression `json:"user_expressions"`
}

// ExecuteAbortedReply is the content of execute_reply with status
// "aborted": the cell was not run (an earlier cell failed with
// stop_on_error).
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#execution-results
type ExecuteAbortedReply struct {
	Status         string `json:"status"` // StatusAborted
	ExecutionCount int    `json:"execution_count"`
}

// UserExpression is the value of one user_expressions entry of an
// execute_reply: with Status "ok" a MIME bundle (Data, Metadata), with
// Status "error" an Error. It is written in the spec's shape for its
// status.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#execute
type UserExpression struct {
	Status   string         `json:"status"`
	Data     map[string]any `json:"data,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	Error
}

// MarshalJSON writes status, data and metadata for "ok" and status, ename,
// evalue and traceback for "error".
func (u UserExpression) MarshalJSON() ([]byte, error) {
	if u.Status == StatusError {
		return json.Marshal(ErrorReply{Status: u.Status, Error: u.Error})
	}
	ok := struct {
		Status   string         `json:"status"`
		Data     map[string]any `json:"data"`
		Metadata map[string]any `json:"metadata"`
	}{u.Status, u.Data, u.Metadata}
	if ok.Data == nil {
		ok.Data = map[string]any{}
	}
	if ok.Metadata == nil {
		ok.Metadata = map[string]any{}
	}
	return json.Marshal(ok)
}

// CompleteReply is the content of complete_reply. Cursor positions count
// Unicode code points.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#completion
type CompleteReply struct {
	Status      string           `json:"status"`
	Matches     []string         `json:"matches"`
	CursorStart int              `json:"cursor_start"`
	CursorEnd   int              `json:"cursor_end"`
	Metadata    CompleteMetadata `json:"metadata"`
}

// CompleteMetadata is the metadata of a CompleteReply: JupyterLab's
// experimental completion types, one per match.
type CompleteMetadata struct {
	Types []CompletionType `json:"_jupyter_types_experimental,omitempty"`
}

// CompletionType describes one match of a CompleteReply for JupyterLab:
// the text replacing code points [Start, End) and its kind ("function",
// "variable", "type", "package", ...).
type CompletionType struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Text  string `json:"text"`
	Type  string `json:"type"`
}

// InspectReply is the content of inspect_reply; Data is empty when nothing
// was found.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#introspection
type InspectReply struct {
	Status   string         `json:"status"`
	Found    bool           `json:"found"`
	Data     map[string]any `json:"data"`
	Metadata map[string]any `json:"metadata"`
}

// IsCompleteReply is the content of is_complete_reply: Status is
// "complete", "incomplete", "invalid" or "unknown"; Indent is given for
// "incomplete" only.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#code-completeness
type IsCompleteReply struct {
	Status string  `json:"status"`
	Indent *string `json:"indent,omitempty"`
}

// HistoryReply is the content of history_reply: each entry a list
// [session, line, input], or [session, line, [input, output]] when output
// was asked for.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#history
type HistoryReply struct {
	Status  string `json:"status"`
	History []any  `json:"history"`
}

// CommInfoReply is the content of comm_info_reply: the open comms by id.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#comm-info
type CommInfoReply struct {
	Status string              `json:"status"`
	Comms  map[string]CommInfo `json:"comms"`
}

// CommInfo is one open comm of a CommInfoReply.
type CommInfo struct {
	TargetName string `json:"target_name"`
}

// ShutdownReply is the content of shutdown_reply, sent on the request's
// socket and published on iopub.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#kernel-shutdown
type ShutdownReply struct {
	Status  string `json:"status"`
	Restart bool   `json:"restart"`
}

// InterruptReply is the content of interrupt_reply.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#kernel-interrupt
type InterruptReply struct {
	Status string `json:"status"`
}

// Status is the content of an iopub status message: ExecutionState is
// "busy", "idle" or "starting".
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#kernel-status
type Status struct {
	ExecutionState string `json:"execution_state"`
}

// Stream is the content of an iopub stream message: Name is "stdout" or
// "stderr".
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#streams-stdout-stderr-etc
type Stream struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// ExecuteInput is the content of iopub execute_input: the code being run.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#code-inputs
type ExecuteInput struct {
	Code           string `json:"code"`
	ExecutionCount int    `json:"execution_count"`
}

// ExecuteResult is the content of iopub execute_result: the rich value of
// a cell's last expression (section "Execution results" of the IOPub
// messages).
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#messages-on-the-iopub-pub-sub-channel
type ExecuteResult struct {
	ExecutionCount int            `json:"execution_count"`
	Data           map[string]any `json:"data"`
	Metadata       map[string]any `json:"metadata"`
}

// DisplayData is the content of iopub display_data and
// update_display_data.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#display-data
type DisplayData struct {
	Data      map[string]any `json:"data"`
	Metadata  map[string]any `json:"metadata"`
	Transient Transient      `json:"transient"`
}

// Transient is the part of a DisplayData that is not stored in the
// notebook: the display id that update_display_data targets.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#update-display-data
type Transient struct {
	DisplayID string `json:"display_id,omitempty"`
}

// ClearOutput is the content of iopub clear_output; with Wait the front
// end clears when the next output arrives.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#clear-output
type ClearOutput struct {
	Wait bool `json:"wait"`
}

// InputRequest is the content of input_request on the stdin socket.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#messages-on-the-stdin-router-dealer-channel
type InputRequest struct {
	Prompt   string `json:"prompt"`
	Password bool   `json:"password"`
}

// CommClose is the content of a comm_close the kernel sends.
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#tearing-down-comms
type CommClose struct {
	CommID string         `json:"comm_id"`
	Data   map[string]any `json:"data"`
}
