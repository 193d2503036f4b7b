#!/usr/bin/env python3
"""WAV helpers for the real-host tests (standard library only).

Python's `wave` module reads integer PCM only; Ardour writes 32-bit float WAVs. So the RIFF chunks
are parsed here with struct: RIFF or RF64 files, PCM 16/24/32-bit, IEEE float 32/64-bit, plain or
WAVE_FORMAT_EXTENSIBLE.

Commands:
  join LEFT.wav RIGHT.wav OUT.wav
      Two mono files (Ardour keeps one source file per channel, NAME%L.wav and NAME%R.wav) into one
      stereo 32-bit float WAV.
  compare --input IN.wav --expected EXP.wav --actual ACT.wav [--label TEXT] [--tolerance T]
          [--offset N]
      Compares ACT (a host's output) with EXP (the expected processed signal) over the frames of
      EXP, frame i of EXP against frame i + N of ACT (N: where the region starts in ACT). IN is the
      unprocessed input, aligned with EXP. Prints the frames compared, the largest difference and
      the frames that "look dry": a frame whose ACT is closer to IN than to EXP, counted only where
      IN and EXP differ clearly (by more than 1e-3), so that quiet frames, where the effect and the
      dry signal agree, are not counted (and not at all when EXP is IN). Exits 1 unless every sample
      is within T of EXP.
"""
import argparse
import array
import struct
import sys

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE


class Wav:
    """A WAV file read whole: rate, channels and one list of floats per channel."""

    def __init__(self, rate, channels):
        self.rate = rate
        self.channels = channels  # list of lists of floats, one per channel

    @property
    def frames(self):
        return len(self.channels[0]) if self.channels else 0


def read_wav(path):
    with open(path, "rb") as f:
        data = f.read()
    riff, _, wave = struct.unpack_from("<4sI4s", data, 0)
    if riff not in (b"RIFF", b"RF64") or wave != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/RF64 WAVE file")
    fmt = None
    samples = None
    data_size64 = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, pos)
        body = pos + 8
        if chunk_id == b"ds64":  # RF64: the real sizes live here
            _, data_size64, _ = struct.unpack_from("<QQQ", data, body)
        elif chunk_id == b"fmt ":
            tag, nch, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", data, body)
            if tag == WAVE_FORMAT_EXTENSIBLE:
                tag = struct.unpack_from("<H", data, body + 24)[0]  # first bytes of the SubFormat GUID
            fmt = (tag, nch, rate, block_align, bits)
        elif chunk_id == b"data":
            if size == 0xFFFFFFFF and data_size64 is not None:
                size = data_size64
            samples = data[body:body + size]
        pos = body + size + (size & 1)  # chunks are padded to an even size
    if fmt is None or samples is None:
        raise ValueError(f"{path}: no fmt or data chunk")

    tag, nch, rate, block_align, bits = fmt
    count = len(samples) // block_align * nch
    if tag == WAVE_FORMAT_IEEE_FLOAT and bits in (32, 64):
        values = array.array("f" if bits == 32 else "d")
        values.frombytes(samples[:count * (bits // 8)])
        if sys.byteorder != "little":
            values.byteswap()
    elif tag == WAVE_FORMAT_PCM and bits in (16, 32):
        ints = array.array("h" if bits == 16 else "i")
        ints.frombytes(samples[:count * (bits // 8)])
        if sys.byteorder != "little":
            ints.byteswap()
        scale = 1.0 / (1 << (bits - 1))
        values = [v * scale for v in ints]
    elif tag == WAVE_FORMAT_PCM and bits == 24:
        scale = 1.0 / (1 << 23)
        raw = samples[:count * 3]
        values = [int.from_bytes(raw[i:i + 3], "little", signed=True) * scale for i in range(0, len(raw), 3)]
    else:
        raise ValueError(f"{path}: unsupported format (tag {tag:#x}, {bits} bits)")
    return Wav(rate, [list(values[c::nch]) for c in range(nch)])


def write_float_wav(path, wav):
    """A 32-bit float WAV (format tag 3, with the fact chunk non-PCM formats carry)."""
    nch, frames = len(wav.channels), wav.frames
    interleaved = array.array("f", [0.0]) * (nch * frames)
    for c, channel in enumerate(wav.channels):
        interleaved[c::nch] = array.array("f", channel)
    if sys.byteorder != "little":
        interleaved.byteswap()
    payload = interleaved.tobytes()
    header = struct.pack("<4sI4s", b"RIFF", 4 + 26 + 12 + 8 + len(payload), b"WAVE")
    header += struct.pack("<4sIHHIIHHH", b"fmt ", 18, WAVE_FORMAT_IEEE_FLOAT, nch, wav.rate,
                          wav.rate * nch * 4, nch * 4, 32, 0)
    header += struct.pack("<4sII", b"fact", 4, frames)
    header += struct.pack("<4sI", b"data", len(payload))
    with open(path, "wb") as f:
        f.write(header + payload)


def join(args):
    left, right = read_wav(args.left), read_wav(args.right)
    if len(left.channels) != 1 or len(right.channels) != 1 or left.rate != right.rate or left.frames != right.frames:
        sys.exit("join: needs two mono files of the same rate and length")
    write_float_wav(args.out, Wav(left.rate, [left.channels[0], right.channels[0]]))
    print(f"joined {left.frames} frames at {left.rate} Hz into {args.out}")


def compare(args):
    dry, expected, actual = read_wav(args.input), read_wav(args.expected), read_wav(args.actual)
    label = args.label or args.actual
    nch = len(expected.channels)
    problems = []
    if len(dry.channels) != nch or dry.frames != expected.frames:
        problems.append(f"the input ({len(dry.channels)} ch, {dry.frames} frames) and the expected signal "
                        f"({nch} ch, {expected.frames} frames) do not match")
    if len(actual.channels) < nch:
        problems.append(f"{len(actual.channels)} channels, expected {nch}")
    if len({dry.rate, expected.rate, actual.rate}) != 1:
        problems.append(f"sample rates differ: {dry.rate}, {expected.rate}, {actual.rate}")
    frames = min(expected.frames, dry.frames, actual.frames - args.offset)
    if frames < expected.frames:
        problems.append(f"only {max(frames, 0)} of {expected.frames} frames present (offset {args.offset})")
    if problems:
        print(f"{label}: cannot compare: " + "; ".join(problems))
        return 1

    worst, worst_at = 0.0, (0, 0)
    dry_frames = 0        # frames (any channel) closer to the dry input than to the expected output
    distinguishable = 0   # frames where the input and the expected output differ by more than 1e-3
    runs = []             # [first, last] frame of each stretch of dry-looking frames
    for i in range(frames):
        j = i + args.offset
        looks_dry = False
        clear = False
        for c in range(nch):
            a, e, d = actual.channels[c][j], expected.channels[c][i], dry.channels[c][i]
            diff = abs(a - e)
            if diff > worst:
                worst, worst_at = diff, (i, c)
            if abs(e - d) > 1e-3:
                clear = True
                if abs(a - d) < diff:
                    looks_dry = True
        if clear:
            distinguishable += 1
        if looks_dry:
            dry_frames += 1
            if runs and runs[-1][1] >= i - 64:  # a few quiet frames do not split a stretch
                runs[-1][1] = i
            else:
                runs.append([i, i])

    rate = expected.rate
    # (When the expected signal is the input itself, no frame can look dry: that count is left out.)
    dry_count = f", frames that look dry: {dry_frames} of {distinguishable}" if distinguishable else ""
    print(f"{label}: {frames} frames compared ({frames / rate:.2f} s, {nch} ch), "
          f"max |difference| {worst:.3g} at frame {worst_at[0]} (ch {worst_at[1]}){dry_count}")
    if runs:
        shown = ", ".join(f"{a / rate:.3f}-{b / rate:.3f} s" for a, b in runs[:6])
        print(f"{label}: {len(runs)} dry stretches between {runs[0][0] / rate:.3f} s and {runs[-1][1] / rate:.3f} s; "
              f"the first: {shown}")
    return 0 if worst < args.tolerance else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("join")
    p.add_argument("left")
    p.add_argument("right")
    p.add_argument("out")
    p = sub.add_parser("compare")
    p.add_argument("--input", required=True)
    p.add_argument("--expected", required=True)
    p.add_argument("--actual", required=True)
    p.add_argument("--label")
    p.add_argument("--tolerance", type=float, default=1e-4)
    p.add_argument("--offset", type=int, default=0)
    args = parser.parse_args()
    if args.command == "join":
        join(args)
        return 0
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
