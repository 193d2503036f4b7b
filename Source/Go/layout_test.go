package pauseguard

import (
	"os"
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"unsafe"
)

// The header that defines the protocol, from this module's folder (Source/Go).
const protocolHeader = "../Engine/ExternalProtocol.h"

func readHeader(t *testing.T) string {
	t.Helper()
	text, err := os.ReadFile(protocolHeader)
	if err != nil {
		t.Fatalf("the protocol's header: %v", err)
	}
	return string(text)
}

// Every offset the header asserts is the Go block's, and every field of the Go block is asserted.
func TestBlockLayoutMatchesTheHeader(t *testing.T) {
	header := readHeader(t)
	asserted := map[string]bool{}
	blockType := reflect.TypeOf(block{})
	for _, m := range regexp.MustCompile(`offsetof \(ExternalBlock, (\w+)\) == (\d+)`).FindAllStringSubmatch(header, -1) {
		want, _ := strconv.Atoi(m[2])
		field, ok := blockType.FieldByName(m[1])
		if !ok {
			t.Errorf("the header asserts %s at %d; the Go block has no such field", m[1], want)
			continue
		}
		asserted[m[1]] = true
		if int(field.Offset) != want {
			t.Errorf("%s: the header says offset %d, the Go block has it at %d", m[1], want, field.Offset)
		}
	}
	if len(asserted) < 15 {
		t.Fatalf("only %d offsets found in the header: has its form changed?", len(asserted))
	}
	for i := 0; i < blockType.NumField(); i++ {
		name := blockType.Field(i).Name
		if name != "_" && name != "magic" && !regexp.MustCompile(`^reserved`).MatchString(name) && !asserted[name] {
			t.Errorf("the Go block's field %s is not asserted in the header", name)
		}
	}
	sizes := map[string]uintptr{"Parameter": unsafe.Sizeof(parameter{}), "RuntimeStats": unsafe.Sizeof(Stats{})}
	for _, m := range regexp.MustCompile(`sizeof \((\w+)\) == (\d+)`).FindAllStringSubmatch(header, -1) {
		want, _ := strconv.Atoi(m[2])
		if got, ok := sizes[m[1]]; ok && int(got) != want {
			t.Errorf("sizeof %s: the header says %d, Go has %d", m[1], want, got)
		}
	}
	m := regexp.MustCompile(`audioStart\(\) == (\d+)`).FindStringSubmatch(header)
	if m == nil {
		t.Fatal("the header asserts no audioStart()")
	}
	if want, _ := strconv.Atoi(m[1]); int((unsafe.Sizeof(block{})+63)&^63) != want {
		t.Errorf("the audio starts at %s in the header, after %d bytes of the Go block", m[1], unsafe.Sizeof(block{}))
	}
}

// The constants a client mirrors: the magic, the versions, the commands, flags and statuses.
func TestConstantsMatchTheHeader(t *testing.T) {
	header := readHeader(t)
	want := map[string]int64{
		"magic": magic, "versionMajor": VersionMajor, "versionMinor": VersionMinor, "maxParameters": maxParameters,
		"hello": cmdHello, "prepare": cmdPrepare, "process": cmdProcess, "collect": cmdCollect, "stats": cmdStats,
		"quit": cmdQuit, "collector": cmdCollector, "saveState": cmdSaveState, "loadState": cmdLoadState, "hostCollects": flagHostGC, "concurrent": flagConcurrent,
		"ok": statusOK, "failed": statusFailed, "wrongVersion": statusVersion, "unknownCommand": statusUnknown,
	}
	for name, value := range want {
		m := regexp.MustCompile(`\b` + name + `\s*=\s*(-?(?:0x[0-9a-fA-F]+|\d+))[,;\s]`).FindStringSubmatch(header)
		if m == nil {
			t.Errorf("%s: not in the header", name)
			continue
		}
		if got, _ := strconv.ParseInt(m[1], 0, 64); got != value {
			t.Errorf("%s: the header says %s, Go has %d", name, m[1], value)
		}
	}
}
