package wire

import (
	"encoding/json"
	"testing"
)

// TestContentJSON pins the JSON of the message contents: required fields
// present (empty lists and objects, not null or absent), optional ones
// absent when empty.
func TestContentJSON(t *testing.T) {
	indent := "    "
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"execute_reply ok", ExecuteReply{Status: StatusOK, ExecutionCount: 3, UserExpressions: map[string]UserExpression{}, Payload: []any{}},
			`{"status":"ok","execution_count":3,"user_expressions":{},"payload":[]}`},
		{"execute_reply error", ExecuteErrorReply{Status: StatusError, ExecutionCount: 4,
			Error: Error{EName: "E", EValue: "v", Traceback: []string{"E: v"}}, UserExpressions: map[string]UserExpression{}},
			`{"status":"error","execution_count":4,"ename":"E","evalue":"v","traceback":["E: v"],"user_expressions":{}}`},
		{"execute_reply aborted", ExecuteAbortedReply{Status: StatusAborted, ExecutionCount: 5},
			`{"status":"aborted","execution_count":5}`},
		{"user expression ok", UserExpression{Status: StatusOK, Data: map[string]any{"text/plain": "12"}},
			`{"status":"ok","data":{"text/plain":"12"},"metadata":{}}`},
		{"user expression error", UserExpression{Status: StatusError, Error: Error{EName: "E", EValue: "v", Traceback: []string{"t"}}},
			`{"status":"error","ename":"E","evalue":"v","traceback":["t"]}`},
		{"error reply", ErrorReply{Status: StatusError, Error: Error{EName: "BadRequest", EValue: "x", Traceback: []string{"BadRequest: x"}}},
			`{"status":"error","ename":"BadRequest","evalue":"x","traceback":["BadRequest: x"]}`},
		{"complete_reply", CompleteReply{Status: StatusOK, Matches: []string{"Println"}, CursorStart: 4, CursorEnd: 6,
			Metadata: CompleteMetadata{Types: []CompletionType{{Start: 4, End: 6, Text: "Println", Type: "function"}}}},
			`{"status":"ok","matches":["Println"],"cursor_start":4,"cursor_end":6,"metadata":{"_jupyter_types_experimental":[{"start":4,"end":6,"text":"Println","type":"function"}]}}`},
		{"complete_reply, no types", CompleteReply{Status: StatusOK, Matches: []string{}},
			`{"status":"ok","matches":[],"cursor_start":0,"cursor_end":0,"metadata":{}}`},
		{"is_complete_reply complete", IsCompleteReply{Status: "complete"}, `{"status":"complete"}`},
		{"is_complete_reply incomplete", IsCompleteReply{Status: "incomplete", Indent: &indent},
			`{"status":"incomplete","indent":"    "}`},
		{"display_data", DisplayData{Data: map[string]any{"text/plain": "x"}, Metadata: map[string]any{}},
			`{"data":{"text/plain":"x"},"metadata":{},"transient":{}}`},
		{"display_data with id", DisplayData{Data: map[string]any{}, Metadata: map[string]any{}, Transient: Transient{DisplayID: "d1"}},
			`{"data":{},"metadata":{},"transient":{"display_id":"d1"}}`},
		{"comm_info_reply", CommInfoReply{Status: StatusOK, Comms: map[string]CommInfo{"c1": {TargetName: "t"}}},
			`{"status":"ok","comms":{"c1":{"target_name":"t"}}}`},
		{"status", Status{ExecutionState: "idle"}, `{"execution_state":"idle"}`},
		{"stream", Stream{Name: "stdout", Text: "hi\n"}, `{"name":"stdout","text":"hi\n"}`},
		{"shutdown_reply", ShutdownReply{Status: StatusOK, Restart: true}, `{"status":"ok","restart":true}`},
		{"input_request", InputRequest{Prompt: "name?"}, `{"prompt":"name?","password":false}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}

// TestUserExpressionRoundTrip: the worker sends user expressions to the
// kernel as JSON; both shapes read back as written.
func TestUserExpressionRoundTrip(t *testing.T) {
	for _, u := range []UserExpression{
		{Status: StatusOK, Data: map[string]any{"text/plain": "12"}, Metadata: map[string]any{}},
		{Status: StatusError, Error: Error{EName: "E", EValue: "v", Traceback: []string{"t"}}},
	} {
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		var back UserExpression
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(back)
		if string(b2) != string(b) {
			t.Errorf("round trip: %s, then %s", b, b2)
		}
	}
}
