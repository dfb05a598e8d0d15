//go:build purego

package geom

func impl() string { return "pure Go" }
