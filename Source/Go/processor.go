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

// ParameterSpec is a knob of the Processor's own.
type ParameterSpec struct {
	Name     string  // Params.Get reads it by this name (up to 23 bytes)
	Unit     string  // "Hz", "ms", "%", "dB" or "" (up to 7 bytes)
	Min, Max float32 // its range
	Default  float32 // its value while the host gives none
}

// Declarer is a Processor with knobs of its own (at most 8): the host shows them as its macro
// knobs 1 to 8, in this order, and automates them. Params.Get(spec.Name, fallback) gives a
// knob's value in Min..Max (the host's macro<k> knob, 0 to 1, mapped), or Default while the host
// gives none; fallback is then not used.
type Declarer interface {
	Parameters() []ParameterSpec
}

// Stater is a Processor with a state the session keeps (a preset, a learned setting): the host
// asks for it between Process calls when the session is saved, and gives it back to a new
// start of the program (a reopened session, or a restart after a failure) before its first
// Prepare. 64 KB at the most.
type Stater interface {
	SaveState() ([]byte, error)
	LoadState(state []byte) error
}

// macroNames are the host's macro knobs, which a Declarer's parameters are, in order.
var macroNames = [maxDeclared]string{"macro1", "macro2", "macro3", "macro4", "macro5", "macro6", "macro7", "macro8"}

// maxParameters is the host's parameter table's size (ExternalProtocol.h).
const maxParameters = 16

// parameter mirrors pg::external::Parameter.
type parameter struct {
	name  [28]byte // NUL-terminated
	value float32
}

// Params are the host's parameters as they are now: its knobs and their automation. The plugin
// gives drive_db, tone (0-1), garbage_kb, live_heap_mb and macro1 to macro8 (0-1); its Output and
// Mix are applied by the engine after the DSP.
// Get does not allocate.
type Params struct {
	table    *[maxParameters]parameter
	count    *uint32
	declared []ParameterSpec // a Declarer's, read through the macro knobs
	own      struct {        // the table when no host gives one (NewParams)
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

// Get is the parameter called name, or fallback if the host gives none by that name. A
// Declarer's own parameter is read from its macro knob (see Declarer).
func (p *Params) Get(name string, fallback float32) float32 {
	if p == nil || p.table == nil {
		return fallback
	}
	for k := range p.declared {
		if s := &p.declared[k]; s.Name == name {
			i := p.index(macroNames[k])
			if i < 0 {
				return s.Default
			}
			return s.Min + (s.Max-s.Min)*clamp01(p.table[i].value)
		}
	}
	if i := p.index(name); i >= 0 {
		return p.table[i].value
	}
	return fallback
}

// Declare makes specs the parameters Get reads through the macro knobs (Serve and pauseguardtest
// call it with a Declarer's; at most 8 are kept).
func (p *Params) Declare(specs []ParameterSpec) {
	if len(specs) > maxDeclared {
		specs = specs[:maxDeclared]
	}
	p.declared = specs
}

func clamp01(x float32) float32 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// Set gives the parameter called name a value (as the host does before each request); a
// Declarer's own parameter is set through its macro knob. False if the table is full.
func (p *Params) Set(name string, value float32) bool {
	for k := range p.declared {
		if s := &p.declared[k]; s.Name == name && s.Max != s.Min {
			name, value = macroNames[k], (value-s.Min)/(s.Max-s.Min)
			break
		}
	}
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
