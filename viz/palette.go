package viz

import "image/color"

// Palette is the Okabe-Ito colour-blind-safe palette (Okabe and Ito, 2008),
// without its black, in the order figures use it: orange, sky blue, bluish
// green, yellow, blue, vermillion, reddish purple.
var Palette = []color.RGBA{
	{R: 0xE6, G: 0x9F, B: 0x00, A: 0xFF}, // orange
	{R: 0x56, G: 0xB4, B: 0xE9, A: 0xFF}, // sky blue
	{R: 0x00, G: 0x9E, B: 0x73, A: 0xFF}, // bluish green
	{R: 0xF0, G: 0xE4, B: 0x42, A: 0xFF}, // yellow
	{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}, // blue
	{R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF}, // vermillion
	{R: 0xCC, G: 0x79, B: 0xA7, A: 0xFF}, // reddish purple
}

// lineOrder is the palette order for lines and points on white, where yellow
// reads poorly: it comes last.
var lineOrder = []int{4, 0, 2, 5, 1, 6, 3}

// Colour returns the i-th colour of a series on a white background (lines,
// points, bars): the Okabe-Ito colours, yellow last, repeating after seven.
func Colour(i int) color.RGBA {
	k := i % len(lineOrder)
	if k < 0 {
		k = -k // Colour(-i) == Colour(i), even for math.MinInt
	}
	return Palette[lineOrder[k]]
}

// LabelColour returns the overlay colour of label class c (c >= 1) on a
// grey-scale image: vermillion, sky blue, bluish green, yellow, reddish
// purple, orange, blue, then repeating. Class 0 (background) has no colour.
func LabelColour(c int) color.RGBA {
	if c <= 0 {
		return color.RGBA{}
	}
	order := []int{5, 1, 2, 3, 6, 0, 4}
	return Palette[order[(c-1)%len(order)]]
}

// premultiplied returns c (straight alpha) as a premultiplied color.RGBA.
func premultiplied(c color.RGBA) color.RGBA {
	a := uint32(c.A)
	return color.RGBA{R: uint8(uint32(c.R) * a / 255), G: uint8(uint32(c.G) * a / 255), B: uint8(uint32(c.B) * a / 255), A: c.A}
}
