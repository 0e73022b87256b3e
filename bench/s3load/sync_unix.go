//go:build unix

package main

import "syscall"

// flushDirty writes the kernel's dirty pages to disk, so that writeback
// left over from one phase is not charged to the next one.
func flushDirty() { syscall.Sync() }
