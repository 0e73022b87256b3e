// Package cachestore keeps cached HTTP responses for the edge: a bounded
// memory tier in front of a bounded disk tier that survives a restart. It
// knows nothing of HTTP semantics; the edge decides what to store under which
// key (a whole object, one variant, or one slice of an object).
//
// Every entry carries a checksum of its body; an entry whose body does not
// match is never served: it is dropped and the caller sees a miss.
package cachestore
