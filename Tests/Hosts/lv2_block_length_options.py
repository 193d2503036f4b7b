#!/usr/bin/env python3
"""A small LV2 host (ctypes): instantiates the plug-in with its block-length options typed
atom:Int but 8 bytes long, as Audacity 3.2 passes them, then 4, 2 and 1 bytes long, and typed
atom:Long. Each must give an instance. Usage: lv2_block_length_options.py <bundle dir> <plugin uri>"""
import ctypes as C
import sys

bundle, uri = sys.argv[1], sys.argv[2]
lib = C.CDLL(bundle + "/libPauseGuard.so")

MapFn = C.CFUNCTYPE(C.c_uint32, C.c_void_p, C.c_char_p)
class Map(C.Structure):
    _fields_ = [("handle", C.c_void_p), ("map", MapFn)]
class Feature(C.Structure):
    _fields_ = [("URI", C.c_char_p), ("data", C.c_void_p)]
class Option(C.Structure):
    _fields_ = [("context", C.c_int), ("subject", C.c_uint32), ("key", C.c_uint32),
                ("size", C.c_uint32), ("type", C.c_uint32), ("value", C.c_void_p)]
InstantiateFn = C.CFUNCTYPE(C.c_void_p, C.c_void_p, C.c_double, C.c_char_p, C.POINTER(C.POINTER(Feature)))
class Descriptor(C.Structure):
    _fields_ = [("URI", C.c_char_p), ("instantiate", InstantiateFn),
                ("connect_port", C.CFUNCTYPE(None, C.c_void_p, C.c_uint32, C.c_void_p)),
                ("activate", C.CFUNCTYPE(None, C.c_void_p)),
                ("run", C.CFUNCTYPE(None, C.c_void_p, C.c_uint32)),
                ("deactivate", C.CFUNCTYPE(None, C.c_void_p)),
                ("cleanup", C.CFUNCTYPE(None, C.c_void_p)),
                ("extension_data", C.c_void_p)]
lib.lv2_descriptor.restype = C.POINTER(Descriptor)
lib.lv2_descriptor.argtypes = [C.c_uint32]

urids = {}
@MapFn
def map_uri(_handle, s):
    return urids.setdefault(s, len(urids) + 1)
urid = lambda s: map_uri(None, s.encode())

def instantiate(value_size, largest=1048576, atom_type="Int"):
    desc = lib.lv2_descriptor(0).contents
    assert desc.URI.decode() == uri, desc.URI
    ctype = {1: C.c_int8, 2: C.c_int16, 4: C.c_int32, 8: C.c_int64}[value_size]
    values = [ctype(v) for v in (1, largest, min(largest, 1024))]
    keys = ["minBlockLength", "maxBlockLength", "nominalBlockLength"]
    options = (Option * 4)()
    for i, (k, v) in enumerate(zip(keys, values)):
        options[i] = Option(0, 0, urid("http://lv2plug.in/ns/ext/buf-size#" + k), value_size,
                            urid("http://lv2plug.in/ns/ext/atom#" + atom_type), C.cast(C.pointer(v), C.c_void_p))
    m = Map(None, map_uri)
    feats = [Feature(b"http://lv2plug.in/ns/ext/urid#map", C.cast(C.pointer(m), C.c_void_p)),
             Feature(b"http://lv2plug.in/ns/ext/buf-size#boundedBlockLength", None),
             Feature(b"http://lv2plug.in/ns/ext/options#options", C.cast(options, C.c_void_p))]
    arr = (C.POINTER(Feature) * 4)(*[C.pointer(f) for f in feats], None)
    handle = desc.instantiate(None, 48000.0, (bundle + "/").encode(), arr)
    print(f"block-length options of {value_size} bytes (atom:{atom_type}, max {largest}): instance {'created' if handle else 'NULL'}")
    if handle:
        desc.cleanup(handle)
    return bool(handle), (values, options, m, feats, arr)

# Kept alive to the end: the plug-in may hold the options' memory.
results = [instantiate(8), instantiate(4), instantiate(2, 4096), instantiate(1, 64), instantiate(8, 1048576, "Long")]
if not all(ok for ok, _keep in results):
    print("FAIL: the plug-in must accept block-length options of any integer size")
    sys.exit(1)
print("PASS")
