// Package viz draws what a unetlab notebook looks at: the figures and tables
// of the paper (learning curves, fold-wise differences with a baseline, Dice
// against compute, per-label bars, box plots across folds, Table 1 and
// Table 2) and views of 3D volumes (slices, montages, orthogonal planes,
// label overlays, a slice scroller).
//
// Every result is a value that implements display.Renderer, so it shows
// inline when it is a cell's last expression:
//
//   - a [Figure] (gonum.org/v1/plot) renders as image/png and image/svg+xml
//     and saves to .png, .svg or .pdf with [Figure.SaveAs];
//   - a [Table] renders as text/html and text/plain;
//   - a [View] (volume slices) renders as image/png and saves to .png, .svg
//     or .pdf; a [Scroller] renders as self-contained text/html.
//
// # Figures of your own
//
// Cells may import gonum.org/v1/plot and its plotter, plotutil, vg,
// vg/draw, vg/vgimg, vg/vgsvg, font, text and palette packages (package
// stdlib holds their tables): build a *plot.Plot, wrap it with
// [NewFigure] and make it the cell's last expression, or call
// [Figure.PNG]. A plotter whose type is declared in a cell works, but the
// interpreter (yaegi v0.16.1) does not convert such a value written
// directly among the variadic arguments of a compiled function: give it
// its interface type first,
//
//	var hl plot.Plotter = hline{Y: 0.5} // not p.Add(hline{Y: 0.5})
//	p.Add(line, hl)
//
// # What viz draws
//
// viz draws the values other packages produce and computes none of them:
// volumes are *volume.Volume, learning curves take the run records of
// package train ([]*train.Run), fold-wise differences the
// *stats.FoldComparison of stats.CompareFolds, box plots
// []stats.FoldScores, Table 1 the []stats.Table1Row of stats.Table1Rows
// (or train.Table1Rows), Table 2 and the label bars a *stats.ScoreTable.
// Only [ComputePoint], a point of Figure 8, is viz's own. Options go by
// pointer, nil meaning the defaults; an invalid option is an [ErrOptions]
// error naming the field.
//
// # Volumes and orientation
//
// A view shows one channel (ViewOptions.Channel) of a *volume.Volume,
// whose voxels are stored with X varying fastest, as NIfTI stores them;
// Spacing gives the voxel size in mm along X, Y and Z. Which anatomical
// direction each voxel axis points to comes from the volume's affine
// (v.Affine.AxisCodes(): three letters from R/L, A/P, S/I, as nibabel's
// axis codes); a volume without an affine (all zeros) reads as "RAS": X to
// the patient's right, Y to anterior, Z to superior. Label overlays
// (ViewOptions.Labels, the truth and prediction of [Compare]) are
// one-channel volumes of class numbers on the image's grid.
//
// Views use the radiological convention:
//
//   - Axial (a plane of constant S-I), seen from the feet: the patient's
//     right is on the image's left, anterior is up.
//   - Coronal (constant A-P), seen from the front: the patient's right is on
//     the image's left, superior is up.
//   - Sagittal (constant R-L), seen from the patient's left: anterior is on
//     the image's left, superior is up.
//
// Titles and captions repeat this, e.g. "axial slice 40 of 96 (R left,
// A up)". Slice indices count voxels along the voxel axis normal to the
// plane, in storage order.
//
// Pixels are square in millimetres: an anisotropic voxel spans several
// display pixels along its longer side (nearest-neighbour scaling), so
// anatomy keeps its aspect ratio.
//
// Colours come from the Okabe-Ito palette ([Palette]), which stays
// distinguishable under the common colour-vision deficiencies.
package viz
