package viz

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/stats"
)

// Table is a rendered table: text/html for notebooks and aligned
// text/plain for terminals and logs.
type Table struct {
	// Title is shown above the table, Caption below; both may be "".
	Title, Caption string
	// Header holds the column names.
	Header []string
	// Rows holds the cells, each row as long as Header.
	Rows [][]string
	// Bold marks cells shown in bold in HTML (and with a trailing "*" in
	// text); nil or short rows mean none.
	Bold [][]bool
	// Separators lists row indices before which a horizontal rule is
	// drawn (the start of a new group or a summary row).
	Separators []int
	// NumericFrom is the first column aligned right; columns before it
	// are labels, aligned left.
	NumericFrom int
}

func (t *Table) bold(i, j int) bool {
	return i < len(t.Bold) && j < len(t.Bold[i]) && t.Bold[i][j]
}

func (t *Table) separated(i int) bool {
	for _, s := range t.Separators {
		if s == i {
			return true
		}
	}
	return false
}

// HTML returns the table as an HTML fragment with inline styles, so it
// reads the same in JupyterLab, Notebook, VS Code and exported HTML.
func (t *Table) HTML() string {
	var b strings.Builder
	b.WriteString(`<div class="unetlab-table">`)
	if t.Title != "" {
		fmt.Fprintf(&b, `<div style="font-weight:bold;margin:4px 0">%s</div>`, html.EscapeString(t.Title))
	}
	b.WriteString(`<table style="border-collapse:collapse;font-variant-numeric:tabular-nums">`)
	b.WriteString("<thead><tr>")
	for j, h := range t.Header {
		fmt.Fprintf(&b, `<th style="%s;border-bottom:2px solid #444;padding:2px 8px">%s</th>`, align(j >= t.NumericFrom), html.EscapeString(h))
	}
	b.WriteString("</tr></thead><tbody>")
	for i, row := range t.Rows {
		b.WriteString("<tr>")
		for j, cell := range row {
			style := align(j >= t.NumericFrom) + ";padding:2px 8px"
			if t.separated(i) {
				style += ";border-top:1px solid #888"
			}
			c := html.EscapeString(cell)
			if t.bold(i, j) {
				c = "<b>" + c + "</b>"
			}
			fmt.Fprintf(&b, `<td style="%s">%s</td>`, style, c)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	if t.Caption != "" {
		fmt.Fprintf(&b, `<div style="font-size:90%%;margin:4px 0;max-width:48em">%s</div>`, html.EscapeString(t.Caption))
	}
	b.WriteString("</div>")
	return b.String()
}

func align(right bool) string {
	if right {
		return "text-align:right"
	}
	return "text-align:left"
}

// String returns the table as aligned plain text.
func (t *Table) String() string {
	cells := make([][]string, 0, len(t.Rows)+1)
	// Bold cells get a trailing "*"; the other cells of their column a
	// trailing space, so that the digits stay aligned.
	starred := map[int]bool{}
	for i, row := range t.Rows {
		for j := range row {
			if t.bold(i, j) {
				starred[j] = true
			}
		}
	}
	header := make([]string, len(t.Header))
	for j, h := range t.Header {
		if starred[j] && j >= t.NumericFrom {
			h += " "
		}
		header[j] = h
	}
	cells = append(cells, header)
	for i, row := range t.Rows {
		r := make([]string, len(row))
		for j, c := range row {
			if t.bold(i, j) {
				c += "*"
			} else if starred[j] && c != "" && j >= t.NumericFrom {
				c += " "
			}
			r[j] = c
		}
		cells = append(cells, r)
	}
	ncol := len(t.Header)
	for _, r := range t.Rows {
		ncol = max(ncol, len(r))
	}
	width := make([]int, ncol)
	for _, r := range cells {
		for j, c := range r {
			width[j] = max(width[j], utf8.RuneCountInString(c))
		}
	}
	total := 0
	for _, w := range width {
		total += w + 2
	}
	total -= 2
	var b strings.Builder
	if t.Title != "" {
		b.WriteString(t.Title + "\n")
	}
	line := func(r []string) {
		var lb strings.Builder
		for j := range ncol {
			c := ""
			if j < len(r) {
				c = r[j]
			}
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(c))
			if j >= t.NumericFrom {
				lb.WriteString(pad + c)
			} else {
				lb.WriteString(c + pad)
			}
			if j < ncol-1 {
				lb.WriteString("  ")
			}
		}
		b.WriteString(strings.TrimRight(lb.String(), " ") + "\n")
	}
	line(cells[0])
	b.WriteString(strings.Repeat("=", total) + "\n")
	for i, r := range cells[1:] {
		if t.separated(i) {
			b.WriteString(strings.Repeat("-", total) + "\n")
		}
		line(r)
	}
	if t.Caption != "" {
		b.WriteString(t.Caption + "\n")
	}
	return b.String()
}

// Render implements display.Renderer: text/html and text/plain.
func (t *Table) Render() display.Bundle {
	return display.Bundle{display.MIMEHTML: t.HTML(), display.MIMEText: t.String()}
}

// CSV returns the header and rows as comma-separated values (RFC 4180
// quoting), without title, caption or emphasis.
func (t *Table) CSV() string {
	var b strings.Builder
	write := func(r []string) {
		for j, c := range r {
			if j > 0 {
				b.WriteByte(',')
			}
			if strings.ContainsAny(c, ",\"\n") {
				c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
			}
			b.WriteString(c)
		}
		b.WriteString("\n")
	}
	write(t.Header)
	for _, r := range t.Rows {
		write(r)
	}
	return b.String()
}

// SaveAs writes the table to path as HTML (.html, .htm), plain text (.txt)
// or CSV (.csv), atomically.
func (t *Table) SaveAs(path string) error {
	var buf bytes.Buffer
	ext := strings.ToLower(path[strings.LastIndexByte(path, '.')+1:])
	switch {
	case !strings.Contains(path, "."):
		return fmt.Errorf("%w: %s: no extension (want .html, .txt or .csv)", ErrFormat, path)
	case ext == "html" || ext == "htm":
		io.WriteString(&buf, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n"+t.HTML()+"\n</body></html>\n")
	case ext == "txt":
		buf.WriteString(t.String())
	case ext == "csv":
		buf.WriteString(t.CSV())
	default:
		return fmt.Errorf("%w: %s: extension %q (want .html, .txt or .csv)", ErrFormat, path, ext)
	}
	return writeFileAtomic(path, buf.Bytes())
}

// TableOptions configures [Table1] and [Table2]. nil or the zero value
// prints 3 decimals and the paper's captions.
type TableOptions struct {
	// Digits is the number of decimals of scores, 0..9; 0 means 3.
	Digits int
	// Title and Caption override the defaults; "-" means none.
	Title, Caption string
}

// tableOptions returns *opt with Digits resolved, or an error naming the
// field at fault.
func tableOptions(opt *TableOptions) (TableOptions, error) {
	o := valueOf(opt)
	if o.Digits < 0 || o.Digits > 9 {
		return o, fmt.Errorf("%w: TableOptions.Digits %d, want 0..9 (0 means 3)", ErrOptions, o.Digits)
	}
	if o.Digits == 0 {
		o.Digits = 3
	}
	return o, nil
}

func (o TableOptions) text(s, def string) string {
	switch s {
	case "":
		return def
	case "-":
		return ""
	}
	return s
}

// Table1 lays out cross-validation results (stats.Table1Rows, or
// train.Table1Rows of a cross-validation) as the paper's Table 1:
// dataset, model, validation Dice (mean ± sd), validation FWD, its
// p-value, training Dice, training FWD and its p-value. Rows keep their
// order; the dataset is printed on the first row of each run of equal
// datasets. The best mean validation Dice of each dataset is bold.
//
// The default caption notes when rows have fewer than
// stats.MinBootstrapPairs folds, whose p-values stats floors.
//
// The default title states the fold count from the rows' Folds: "Table 1:
// 5-fold cross-validation, ..." when every row has the same k,
// "cross-validation (3 to 5 folds)" when they differ, and no count when a
// row leaves it 0; and the epoch scored from the rows' Epoch: "... at the
// best validation epoch", "at the last epoch", or "at an epoch not stated".
func Table1(rows []stats.Table1Row, opt *TableOptions) (*Table, error) {
	o, err := tableOptions(opt)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: Table1: no rows", ErrInput)
	}
	d := o.Digits
	for i, r := range rows {
		if r.Folds < 0 || r.Folds == 1 {
			return nil, fmt.Errorf("%w: Table1: row %d (%s %s) Folds %d, want 0 (not stated) or at least 2",
				ErrInput, i, r.Dataset, r.Model, r.Folds)
		}
		fields := []struct {
			name string
			v    float64
		}{{"ValMean", r.ValMean}, {"ValSD", r.ValSD}, {"ValFWDMean", r.ValFWDMean}, {"ValFWDSD", r.ValFWDSD},
			{"ValP", r.ValP}, {"TrainMean", r.TrainMean}, {"TrainSD", r.TrainSD},
			{"TrainFWDMean", r.TrainFWDMean}, {"TrainFWDSD", r.TrainFWDSD}, {"TrainP", r.TrainP}}
		for _, f := range fields {
			if err := checkFinite(fmt.Sprintf("Table1: row %d (%s %s) %s", i, r.Dataset, r.Model, f.name), f.v); err != nil {
				return nil, err
			}
		}
	}
	pm := func(m, s float64) string { return fmt.Sprintf("%.*f ± %.*f", d, m, d, s) }
	// Differences are small: one more decimal.
	pmd := func(m, s float64) string { return fmt.Sprintf("%.*f ± %.*f", d+1, m, d+1, s) }
	t := &Table{
		Title: o.text(o.Title, "Table 1: "+cvText(rows)+", foreground Dice at "+epochText(rows)),
		Caption: o.text(o.Caption, "Mean ± sd over folds. FWD: fold-wise difference with the baseline; "+
			"p: two-tailed bootstrap p-value of that difference."+fewFoldsNote(rows)),
		Header:      []string{"Dataset", "Model", "Val. Dice", "Val. FWD", "Val. p", "Train Dice", "Train FWD", "Train p"},
		NumericFrom: 2,
	}
	best := map[string]float64{}
	for _, r := range rows {
		if v, ok := best[r.Dataset]; !ok || r.ValMean > v {
			best[r.Dataset] = r.ValMean
		}
	}
	for i, r := range rows {
		ds := r.Dataset
		if i > 0 && rows[i-1].Dataset == r.Dataset {
			ds = ""
		} else if i > 0 {
			t.Separators = append(t.Separators, i)
		}
		vf, vp, tf, tp := "NA.", "", "NA.", ""
		if !r.Baseline {
			vf, vp = pmd(r.ValFWDMean, r.ValFWDSD), formatP(r.ValP)
			tf, tp = pmd(r.TrainFWDMean, r.TrainFWDSD), formatP(r.TrainP)
		}
		t.Rows = append(t.Rows, []string{ds, r.Model, pm(r.ValMean, r.ValSD), vf, vp, pm(r.TrainMean, r.TrainSD), tf, tp})
		b := make([]bool, 8)
		b[2] = r.ValMean == best[r.Dataset]
		t.Bold = append(t.Bold, b)
	}
	return t, nil
}

// epochText names the epoch the rows are scored at for Table 1's title:
// stats.ScoredEpoch.Describe of the rows' Epoch, or "different epochs
// (...)" listing them when rows differ.
func epochText(rows []stats.Table1Row) string {
	var seen []string
	for _, r := range rows {
		if d := r.Epoch.Describe(); !slices.Contains(seen, d) {
			seen = append(seen, d)
		}
	}
	if len(seen) == 1 {
		return seen[0]
	}
	return "different epochs (" + strings.Join(seen, ", ") + ")"
}

// cvText names the cross-validation of rows for Table 1's title: "5-fold
// cross-validation", "cross-validation (3 to 5 folds)", or
// "cross-validation" when a row does not state its fold count.
func cvText(rows []stats.Table1Row) string {
	lo, hi := rows[0].Folds, rows[0].Folds
	for _, r := range rows {
		if r.Folds == 0 {
			return "cross-validation"
		}
		lo, hi = min(lo, r.Folds), max(hi, r.Folds)
	}
	if lo == hi {
		return fmt.Sprintf("%d-fold cross-validation", lo)
	}
	return fmt.Sprintf("cross-validation (%d to %d folds)", lo, hi)
}

// fewFoldsNote is the caption's note on p-values over fewer than
// stats.MinBootstrapPairs folds, "" when no row has so few.
func fewFoldsNote(rows []stats.Table1Row) string {
	few := 0
	for _, r := range rows {
		if !r.Baseline && r.Folds > 0 && r.Folds < stats.MinBootstrapPairs && r.Folds > few {
			few = r.Folds
		}
	}
	if few == 0 {
		return ""
	}
	return fmt.Sprintf(" With k < %d folds a bootstrap cannot resolve p: it is reported as at least 2/2^k "+
		"(%.3g for %d folds), the smallest an exact sign-flip test of k pairs can give (stats.Bootstrap).",
		stats.MinBootstrapPairs, math.Ldexp(2, -few), few)
}

// formatP prints a p-value with 3 decimals, or "< 0.001".
func formatP(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// Table2 lays out per-task, per-label scores as the paper's Table 2: task
// and label rows by model columns, the best score of each row in bold, and
// a last row with each model's average rank (stats.ScoreTable's
// AverageRanks); the best (lowest) average rank is bold too.
func Table2(st *stats.ScoreTable, opt *TableOptions) (*Table, error) {
	o, err := tableOptions(opt)
	if err != nil {
		return nil, err
	}
	ranks, err := st.AverageRanks()
	if err != nil {
		return nil, fmt.Errorf("%w: Table2: %w", ErrInput, err)
	}
	d := o.Digits
	title := st.Title
	if title == "" {
		title = "Table 2: test Dice per task and label"
	}
	t := &Table{
		Title:       o.text(o.Title, title),
		Caption:     o.text(o.Caption, "Average rank: mean over label rows of each model's rank within the row (1 = best)."),
		Header:      append([]string{"Dataset", "Region"}, st.Models...),
		NumericFrom: 2,
	}
	for i, r := range st.Rows {
		task := r.Task
		if i > 0 && st.Rows[i-1].Task == r.Task {
			task = ""
		} else if i > 0 {
			t.Separators = append(t.Separators, i)
		}
		cells := []string{task, r.Label}
		b := make([]bool, len(cells)+len(r.Scores))
		top := math.Inf(-1)
		for _, s := range r.Scores {
			top = math.Max(top, s)
		}
		for m, s := range r.Scores {
			cells = append(cells, fmt.Sprintf("%.*f", d, s))
			b[2+m] = s == top
		}
		t.Rows = append(t.Rows, cells)
		t.Bold = append(t.Bold, b)
	}
	cells := []string{"Average rank", ""}
	b := make([]bool, 2+len(ranks))
	low := math.Inf(1)
	for _, r := range ranks {
		low = math.Min(low, r)
	}
	for m, r := range ranks {
		cells = append(cells, fmt.Sprintf("%.3f", r))
		b[2+m] = r == low
	}
	t.Separators = append(t.Separators, len(t.Rows))
	t.Rows = append(t.Rows, cells)
	t.Bold = append(t.Bold, b)
	return t, nil
}
