//go:build !unix

package main

// flushDirty does nothing where there is no sync(2).
func flushDirty() {}
