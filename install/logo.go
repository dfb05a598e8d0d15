package install

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
)

// Logo colours: Go's gopher blue behind a white "U" (for U-Net).
var (
	logoBlue  = color.NRGBA{R: 0x00, G: 0xAD, B: 0xD8, A: 0xFF}
	logoWhite = color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF}
)

// Logo returns the kernel logo as a size×size PNG: a blue rounded square
// with a white U, antialiased by 4×4 supersampling. size must be in
// [8, 1024].
func Logo(size int) ([]byte, error) {
	if size < 8 || size > 1024 {
		return nil, fmt.Errorf("install: logo size %d, want 8..1024", size)
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.Transparent, image.Point{}, draw.Src)
	const ss = 4 // subsamples per axis
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var bg, fg int
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					// Sample point in unit coordinates [0,1)².
					u := (float64(x) + (float64(sx)+0.5)/ss) / float64(size)
					v := (float64(y) + (float64(sy)+0.5)/ss) / float64(size)
					if inRoundedSquare(u, v) {
						bg++
						if inU(u, v) {
							fg++
						}
					}
				}
			}
			if bg == 0 {
				continue
			}
			// Blend white over blue by fg/bg, alpha by bg coverage.
			t := float64(fg) / float64(bg)
			c := color.NRGBA{
				R: mix(logoBlue.R, logoWhite.R, t),
				G: mix(logoBlue.G, logoWhite.G, t),
				B: mix(logoBlue.B, logoWhite.B, t),
				A: uint8(math.Round(255 * float64(bg) / (ss * ss))),
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("install: encoding logo: %w", err)
	}
	return buf.Bytes(), nil
}

func mix(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a)*(1-t) + float64(b)*t))
}

// inRoundedSquare reports whether (u, v) lies in the unit square with
// corners rounded at radius 0.2.
func inRoundedSquare(u, v float64) bool {
	const r = 0.2
	cx := math.Min(math.Max(u, r), 1-r)
	cy := math.Min(math.Max(v, r), 1-r)
	return (u-cx)*(u-cx)+(v-cy)*(v-cy) <= r*r
}

// inU reports whether (u, v) lies in the white U: two vertical strokes
// joined by a half ring at the bottom.
func inU(u, v float64) bool {
	const (
		cx, cy = 0.5, 0.52 // centre of the bottom ring
		outer  = 0.30
		inner  = 0.16
		top    = 0.2
	)
	if v < top {
		return false
	}
	if v <= cy { // the strokes
		return (u >= cx-outer && u <= cx-inner) || (u >= cx+inner && u <= cx+outer)
	}
	d := math.Hypot(u-cx, v-cy)
	return d >= inner && d <= outer
}
