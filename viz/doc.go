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
// Inputs are plain values defined here ([Run], [FoldScores], [ComputePoint],
// [ScoreTable], [Table1Row], [Volume]) so that other packages adapt to viz
// with a struct literal.
//
// # Volumes and orientation
//
// A [Volume] holds float32 voxels with x varying fastest, as NIfTI stores
// them: Data[x + NX*(y + NY*z)] for Shape = [NX, NY, NZ]; read as a row-major
// array it is (D, H, W) = (NZ, NY, NX). Spacing is the voxel size in mm
// along x, y and z. Axes says toward which anatomical direction each voxel
// axis increases (three letters from R/L, A/P, S/I, as nibabel's axis codes),
// "" meaning "RAS": x to the patient's right, y to anterior, z to superior.
// For a NIfTI volume read by package volume, v.Affine.AxisCodes() gives it:
//
//	viz.Volume{Data: v.Channel(0), Shape: v.Shape, Spacing: v.Spacing, Axes: v.Affine.AxisCodes()}
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
