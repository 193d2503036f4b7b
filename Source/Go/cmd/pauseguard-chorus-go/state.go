package main

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// chorusState is what the session keeps: the LFO's phase, the write position and the delay lines.
type chorusState struct {
	phase float64
	write int
	lines [][]float32
}

// SaveState encodes the state, little-endian: phase (float64), write, channels, then per channel
// its length and samples.
func (c *chorus) SaveState() ([]byte, error) {
	var b bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&b, le, c.phase)
	binary.Write(&b, le, int32(c.write))
	binary.Write(&b, le, int32(len(c.lines)))
	for _, line := range c.lines {
		binary.Write(&b, le, int32(len(line)))
		binary.Write(&b, le, line)
	}
	return b.Bytes(), nil
}

// LoadState keeps the state for the next Prepare, which takes it if it fits its settings.
func (c *chorus) LoadState(state []byte) error {
	r := bytes.NewReader(state)
	le := binary.LittleEndian
	var s chorusState
	var write, channels int32
	if binary.Read(r, le, &s.phase) != nil || binary.Read(r, le, &write) != nil || binary.Read(r, le, &channels) != nil || channels > 64 {
		return errors.New("not a chorus's state")
	}
	s.write = int(write)
	for i := 0; i < int(channels); i++ {
		var n int32
		if binary.Read(r, le, &n) != nil || n < 0 || int(n) > r.Len()/4 {
			return errors.New("not a chorus's state")
		}
		line := make([]float32, n)
		if binary.Read(r, le, line) != nil {
			return errors.New("not a chorus's state")
		}
		s.lines = append(s.lines, line)
	}
	c.restored = &s
	return nil
}

// takeRestored puts a loaded state in place, if it has this many channels of this size.
func (c *chorus) takeRestored(channels, size int) bool {
	s := c.restored
	c.restored = nil
	if s == nil || len(s.lines) != channels || s.write < 0 || s.write >= size {
		return false
	}
	for _, line := range s.lines {
		if len(line) != size {
			return false
		}
	}
	c.lines, c.write, c.phase = s.lines, s.write, s.phase
	return true
}
