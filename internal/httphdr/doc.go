// Package httphdr parses and formats the HTTP header fields that caching and
// partial content depend on: Range and Content-Range (RFC 9110 §14), entity
// tags and the conditional request fields (RFC 9110 §8.8.3, §13), HTTP dates
// (RFC 9110 §5.6.7), and multipart/byteranges bodies (RFC 9110 §14.6).
//
// A GET or HEAD handler uses it in the order of RFC 9110 §13.2.2:
//
//  1. Evaluate the preconditions against the current Validators: 304 or 412
//     end the request;
//  2. if the request has a Range field and IfRangeMatches holds, ParseRange
//     it against the size: ErrInvalidRange means serve 200 as if there were
//     no Range, ErrUnsatisfiable means 416 with UnsatisfiedRange;
//  3. serve one range as a 206 with ByteRange.ContentRange, or several as a
//     multipart/byteranges body (NewMultipartByteranges).
//
// Parsing is lenient where real peers deviate harmlessly (unquoted entity
// tags, case A1; empty list elements) and strict where a wrong guess would
// serve the wrong bytes.
//
// It is pure: no sockets, goroutines, logging, clock reads or randomness.
package httphdr
