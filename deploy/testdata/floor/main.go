// Command floor is the other end of the bridge benchmark's floor: it writes
// back every length-prefixed frame it reads on stdin, unchanged, to stdout.
// A Node.js process sending an event's bytes to it and waiting for them to
// come back pays one round trip between two processes over a pipe and
// nothing else: the least any bridge between Node and Go can cost.
package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
)

func main() {
	r := bufio.NewReaderSize(os.Stdin, 64<<10)
	buf := make([]byte, 4, 64<<10)
	for {
		if _, err := io.ReadFull(r, buf[:4]); err != nil {
			return // the end of stdin ends the process
		}
		n := int(binary.BigEndian.Uint32(buf))
		if n > 8<<20 {
			os.Exit(2)
		}
		if cap(buf) < 4+n {
			buf = append(make([]byte, 0, 4+n), buf[:4]...)
		}
		buf = buf[:4+n]
		if _, err := io.ReadFull(r, buf[4:]); err != nil {
			os.Exit(2)
		}
		if _, err := os.Stdout.Write(buf); err != nil {
			os.Exit(2)
		}
	}
}
