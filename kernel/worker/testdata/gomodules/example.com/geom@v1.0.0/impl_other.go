//go:build !purego

package geom

func impl() string { return "not pure Go" }
