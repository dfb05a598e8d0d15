package widget

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/unetlab/unetlab/display"
)

// AnyWidgetModule is the front-end module of anywidget's models, and
// AnyWidgetVersion the semver range of the anywidget the install step
// pins (install/jupyter-requirements.txt: anywidget 0.11).
const (
	AnyWidgetModule  = "anywidget"
	AnyWidgetVersion = "~0.11.*"
)

// AnyWidget is a model of anywidget: its view is the ES module in the
// state key "_esm" (a render({model, el}) function as its default export's
// render), its style the CSS in "_css"; the other keys are the widget's
// own, read in JavaScript with model.get and set with model.set plus
// model.save_changes, which comes to Go as an update like any control's.
type AnyWidget struct{ *Model }

// NewAnyWidget opens an anywidget model with the ES module esm, the CSS
// css ("" for none), the id that names its class for anywidget's CSS
// bookkeeping, and its own state (keys starting with "_" other than those
// are refused, to keep the protocol's names free). []byte values travel as
// binary buffers (DataView in JavaScript).
func NewAnyWidget(id, esm, css string, state map[string]any) (*AnyWidget, error) {
	if strings.TrimSpace(esm) == "" {
		return nil, fmt.Errorf("widget: AnyWidget %q: empty _esm", id)
	}
	st := map[string]any{"_esm": esm, "_anywidget_id": id}
	if css != "" {
		st["_css"] = css
	}
	for k, v := range state {
		if strings.HasPrefix(k, "_") {
			return nil, fmt.Errorf("widget: AnyWidget %q: state key %q: names starting with _ belong to the protocol", id, k)
		}
		st[k] = v
	}
	m, err := newDOM(&Spec{ModelName: "AnyModel", ModelModule: AnyWidgetModule, ModelVersion: AnyWidgetVersion,
		ViewName: "AnyView", ViewModule: AnyWidgetModule, ViewVersion: AnyWidgetVersion}, "", st)
	if err != nil {
		return nil, err
	}
	return &AnyWidget{m}, nil
}

// notebookBundle turns a display bundle into a notebook output's data:
// binary values base64-encoded (images), text as it is.
func notebookBundle(b display.Bundle) map[string]any {
	out := make(map[string]any, len(b))
	for k, v := range b {
		if raw, ok := v.([]byte); ok {
			if strings.HasPrefix(k, "text/") || k == display.MIMESVG {
				v = string(raw)
			} else {
				v = base64.StdEncoding.EncodeToString(raw)
			}
		}
		out[k] = v
	}
	if _, ok := out[display.MIMEText]; !ok {
		out[display.MIMEText] = b.Text()
	}
	return out
}
