// Package greet is a test fixture whose name is not its path's last element.
package greet

// Hello greets name.
func Hello(name string) string { return "hello, " + name }
