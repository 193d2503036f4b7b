package pauseguard

// Config is what the host's prepare request says.
type Config struct {
	SampleRate   float64
	Channels     int  // every Process call has this many channels
	MaxFrames    int  // and 1 to MaxFrames frames
	HostCollects bool // Go's automatic collection is off: the engine starts the cycles
	// The host's parameters, live: read them in Process (they change between calls).
	Params *Params
}

// Processor is a DSP the host runs (see the package's rules).
type Processor interface {
	// Prepare is called before the first Process, and again whenever the host's settings change.
	Prepare(c Config) error
	// Process replaces the samples of every channel in place.
	Process(channels [][]float32) error
}

// Namer is a Processor that gives the host its name (else the program's file name is used).
type Namer interface {
	Name() string
}

// maxParameters is the host's parameter table's size (ExternalProtocol.h).
const maxParameters = 16

// parameter mirrors pg::external::Parameter.
type parameter struct {
	name  [28]byte // NUL-terminated
	value float32
}

// Params are the host's parameters as they are now: its knobs and their automation. The plugin
// gives drive_db, tone (0-1), output_db, garbage_kb, live_heap_mb and macro1 to macro8 (0-1).
// Get does not allocate.
type Params struct {
	table *[maxParameters]parameter
	count *uint32
	own   struct { // the table when no host gives one (NewParams)
		table [maxParameters]parameter
		count uint32
	}
}

// NewParams is a table of parameters of the program's own, for running a Processor without the
// host (package pauseguardtest uses it).
func NewParams() *Params {
	p := &Params{}
	p.table, p.count = &p.own.table, &p.own.count
	return p
}

// Get is the parameter called name, or fallback if the host gives none by that name.
func (p *Params) Get(name string, fallback float32) float32 {
	if p == nil || p.table == nil {
		return fallback
	}
	if i := p.index(name); i >= 0 {
		return p.table[i].value
	}
	return fallback
}

// Set gives the parameter called name a value (as the host does before each request). False
// if the table is full.
func (p *Params) Set(name string, value float32) bool {
	i := p.index(name)
	if i < 0 {
		if *p.count >= maxParameters {
			return false
		}
		i = int(*p.count)
		n := copy(p.table[i].name[:len(p.table[i].name)-1], name)
		p.table[i].name[n] = 0
		*p.count++
	}
	p.table[i].value = value
	return true
}

func (p *Params) index(name string) int {
	n := int(*p.count)
	if n > maxParameters {
		n = maxParameters
	}
	for i := 0; i < n; i++ {
		if cNameEquals(p.table[i].name[:], name) {
			return i
		}
	}
	return -1
}

func cNameEquals(stored []byte, name string) bool {
	if len(name) >= len(stored) {
		name = name[:len(stored)-1] // the host cuts long names
	}
	for i := 0; i < len(name); i++ {
		if stored[i] != name[i] {
			return false
		}
	}
	return stored[len(name)] == 0
}
