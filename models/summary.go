package models

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/unetlab/unetlab/display"
)

// Summary is a model's table of layers with output shapes, parameter counts
// and compute, and the totals. Compute is for Config.Batch volumes of
// Config.InputSize (the paper: 2 at 128^3), counted two ways (see Layer).
type Summary struct {
	Config Config
	Input  []int   // (N, InChannels, D, H, W)
	Output []int   // (N, Classes, D, H, W)
	Layers []Layer // in execution order
	Params int64   // trained parameters
	// MACs is the paper's "FLOPs": multiply-accumulates by thop 0.1.1's rules.
	MACs int64
	// FLOPs is the true floating-point operation count.
	FLOPs int64
}

// Describe returns the Summary of cfg without building the network: the
// analytic layer table, parameter count and compute. The error wraps
// ErrConfig for an invalid cfg.
func Describe(cfg Config) (*Summary, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	b := &builder{cfg: c}
	in := []int{c.Batch, c.InChannels, c.InputSize[0], c.InputSize[1], c.InputSize[2]}
	out := b.build(val{shape: in})
	if b.err != nil {
		return nil, b.err
	}
	return newSummary(c, in, out.shape, b.layers), nil
}

func newSummary(c Config, in, out []int, layers []Layer) *Summary {
	s := &Summary{Config: c, Input: in, Output: out, Layers: layers}
	for _, l := range layers {
		s.Params += l.NumParams()
		s.MACs += l.MACs
		s.FLOPs += l.FLOPs
	}
	return s
}

// State lists every tensor of the model's state (parameters and buffers)
// under its PyTorch name, in module order.
func (s *Summary) State() []Param {
	var ps []Param
	for _, l := range s.Layers {
		ps = append(ps, l.Params...)
	}
	return ps
}

// siFormat formats n with an SI suffix (k, M, G, T), three significant digits.
func siFormat(n int64) string {
	f := float64(n)
	for _, u := range []struct {
		s string
		v float64
	}{{"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}} {
		if f >= u.v {
			return fmt.Sprintf("%.3g%s", f/u.v, u.s)
		}
	}
	return fmt.Sprint(n)
}

// String renders the table as text: one row per layer, then the totals.
func (s *Summary) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: input %s -> output %s\n", s.Config.Arch, shapeString(s.Input), shapeString(s.Output))
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "layer\ttype\toutput\tparams\tMACs (thop)\tFLOPs\t")
	for _, l := range s.Layers {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t\n", l.Name, l.Type, shapeString(l.Output), l.NumParams(), siFormat(l.MACs), siFormat(l.FLOPs))
	}
	w.Flush()
	fmt.Fprintf(&sb, "total: %d parameters, %s MACs (thop 0.1.1, the paper's FLOPs), %s FLOPs, for %d x %v\n",
		s.Params, siFormat(s.MACs), siFormat(s.FLOPs), s.Input[0], s.Input[1:])
	return sb.String()
}

// Render shows the Summary as an HTML table (text/html) in the style of
// viz.Table (a bold title, a rule under the header, numbers right-aligned
// in tabular figures, a rule over the total) and as text (text/plain).
func (s *Summary) Render() display.Bundle {
	const (
		cell  = "padding:2px 8px;white-space:nowrap"
		left  = "text-align:left;" + cell
		right = "text-align:right;" + cell
		head  = ";border-bottom:2px solid #444"
		total = ";border-top:1px solid #888;font-weight:bold"
	)
	var h strings.Builder
	h.WriteString(`<div class="unetlab-table">`)
	fmt.Fprintf(&h, `<div style="font-weight:bold;margin:4px 0">%s: input %s &rarr; output %s</div>`,
		html.EscapeString(s.Config.Arch.PaperName()), shapeString(s.Input), shapeString(s.Output))
	h.WriteString(`<table style="border-collapse:collapse;font-variant-numeric:tabular-nums">` + "\n<thead><tr>")
	for j, name := range []string{"layer", "type", "output", "params", "MACs (thop)", "FLOPs"} {
		sty := left
		if j >= 3 {
			sty = right
		}
		fmt.Fprintf(&h, `<th style="%s%s">%s</th>`, sty, head, name)
	}
	h.WriteString("</tr></thead><tbody>\n")
	row := func(tag string, extra string, cells ...string) {
		h.WriteString("<tr>")
		for j, c := range cells {
			sty := left
			if j >= len(cells)-3 {
				sty = right
			}
			span := ""
			if len(cells) == 4 && j == 0 {
				span = ` colspan="3"`
			}
			fmt.Fprintf(&h, `<%s%s style="%s%s">%s</%[1]s>`, tag, span, sty, extra, c)
		}
		h.WriteString("</tr>\n")
	}
	for _, l := range s.Layers {
		row("td", "", html.EscapeString(l.Name), html.EscapeString(l.Type), shapeString(l.Output),
			strconv.FormatInt(l.NumParams(), 10), siFormat(l.MACs), siFormat(l.FLOPs))
	}
	h.WriteString("</tbody><tfoot>")
	row("td", total, "total", strconv.FormatInt(s.Params, 10), siFormat(s.MACs), siFormat(s.FLOPs))
	h.WriteString("</tfoot></table>")
	h.WriteString(`<div style="font-size:90%;margin:4px 0;max-width:48em">MACs as thop 0.1.1 counts them (the paper's "FLOPs"); FLOPs is the true count, a multiply-add counting two.</div></div>`)
	return display.Bundle{display.MIMEHTML: h.String(), display.MIMEText: s.String()}
}
