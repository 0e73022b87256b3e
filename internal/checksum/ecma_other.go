//go:build !amd64 || purego

package checksum

// Without the vector code every update uses hash/crc64's tables.
var (
	hasCLMUL   = false
	hasVPCLMUL = false
)

func alignHead([]byte) int                         { return 0 }
func ecmaUpdateAsm(crc uint64, _ []byte) uint64    { return crc }
func ecmaUpdateAsm512(crc uint64, _ []byte) uint64 { return crc }
