"""Shared helpers for provscan's own watermarks: keyed randomness, payload framing, CRC and coding.

Payload frame (both the image and the audio scheme):

* ``payload`` is a text of at most ``PAYLOAD_BYTES`` (8) bytes in UTF-8 without NUL characters,
  e.g. ``"sd15:042"`` (generator id + item id). ``None`` and ``""`` embed an empty payload, which
  still carries the CRC, so detection is exactly as strong.
* The 8 bytes (zero-padded) are followed by a CRC-16/CCITT of those bytes: 80 information bits.
* A rate-1/3, constraint-length-7 convolutional code (generators 133, 171, 165 octal, the LTE
  set) with 6 tail bits turns them into ``CODED_BITS`` = 258 coded bits, decoded with soft
  Viterbi. The CRC then tells a real decode from noise: a random decode passes with p = 2^-16.

Variable-length frames (the audio scheme): :func:`frame_bits`, :func:`encode_payload` and
:func:`decode_payload` also take ``n_bytes`` (0..8), the exact payload length in bytes. A short
payload then has a short frame (``8 n + 16`` information bits, ``coded_bits(n)`` coded bits),
which the same carrier capacity repeats more often, so it decodes from less signal; the detector
tries every length and the CRC tells which one is right.
"""

from __future__ import annotations

import hashlib

import numpy as np

from detector.errors import DetectorError

PAYLOAD_BYTES = 8
CRC_BITS = 16
INFO_BITS = PAYLOAD_BYTES * 8 + CRC_BITS
_K = 7  # constraint length
_GENERATORS = (0o133, 0o171, 0o165)
CODED_BITS = (INFO_BITS + _K - 1) * len(_GENERATORS)
# Probability that noise decodes to a frame whose CRC checks.
CRC_FALSE_PASS = 2.0**-CRC_BITS


class WatermarkPayloadError(DetectorError, ValueError):
    """The payload cannot be carried (too long, or contains NUL)."""


def keyed_rng(key: str, purpose: str) -> np.random.Generator:
    """A deterministic generator for ``purpose`` under ``key`` (different purposes never collide)."""
    digest = hashlib.sha256(f"provscan-wm\x00{key}\x00{purpose}".encode()).digest()
    return np.random.default_rng(np.frombuffer(digest, dtype=np.uint32).astype(np.uint64))


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def coded_bits(n_bytes: int = PAYLOAD_BYTES) -> int:
    """Coded length of a frame carrying ``n_bytes`` payload bytes (258 for 8 bytes)."""
    return (8 * n_bytes + CRC_BITS + _K - 1) * len(_GENERATORS)


def payload_len(payload: str | None) -> int:
    """Length in bytes of ``payload`` in UTF-8 (validated: at most 8 bytes, no NUL)."""
    return len(payload_to_bytes(payload).rstrip(b"\x00"))


def payload_to_bytes(payload: str | None, n_bytes: int = PAYLOAD_BYTES) -> bytes:
    """Validate and pad a payload text to ``n_bytes`` bytes.

    Raises:
        WatermarkPayloadError: longer than ``n_bytes`` (at most 8) in UTF-8, or contains NUL.
    """
    raw = (payload or "").encode("utf-8")
    if b"\x00" in raw:
        raise WatermarkPayloadError("watermark payload must not contain NUL characters")
    if len(raw) > min(n_bytes, PAYLOAD_BYTES):
        raise WatermarkPayloadError(
            f"watermark payload is {len(raw)} bytes in UTF-8; at most {min(n_bytes, PAYLOAD_BYTES)} fit"
        )
    return raw.ljust(n_bytes, b"\x00")


def bytes_to_payload(raw: bytes) -> str | None:
    """Inverse of :func:`payload_to_bytes`; ``None`` for an empty payload."""
    text = raw.rstrip(b"\x00").decode("utf-8", errors="replace")
    return text or None


def frame_bits(payload: str | None, n_bytes: int = PAYLOAD_BYTES) -> np.ndarray:
    """Payload → ``8 n_bytes + 16`` information bits (payload bytes + CRC-16), uint8 0/1."""
    raw = payload_to_bytes(payload, n_bytes)
    crc = crc16(raw)
    full = raw + bytes([crc >> 8, crc & 0xFF])
    return np.unpackbits(np.frombuffer(full, dtype=np.uint8))


def unframe_bits(bits: np.ndarray, n_bytes: int = PAYLOAD_BYTES) -> tuple[bool, str | None]:
    """``8 n_bytes + 16`` decoded bits → (crc_ok, payload)."""
    full = np.packbits(np.asarray(bits, dtype=np.uint8)[: 8 * n_bytes + CRC_BITS]).tobytes()
    raw, crc = full[:n_bytes], (full[n_bytes] << 8) | full[n_bytes + 1]
    ok = crc16(raw) == crc
    if ok and n_bytes < PAYLOAD_BYTES and b"\x00" in raw:
        ok = False  # a short frame holds exactly n_bytes non-NUL bytes
    return ok, (bytes_to_payload(raw) if ok else None)


def _gen_taps() -> np.ndarray:
    # taps[g, i]: whether generator g uses the bit delayed by i (i=0 is the newest input)
    return np.array([[(g >> (_K - 1 - i)) & 1 for i in range(_K)] for g in _GENERATORS], dtype=np.uint8)


def conv_encode(bits: np.ndarray) -> np.ndarray:
    """Rate-1/3 K=7 convolutional encoding with zero tail: ``3 (len(bits) + 6)`` coded bits."""
    taps = _gen_taps()
    padded = np.concatenate(
        [np.zeros(_K - 1, np.uint8), np.asarray(bits, np.uint8), np.zeros(_K - 1, np.uint8)]
    )
    out = []
    for t in range(len(bits) + _K - 1):
        window = padded[t : t + _K][::-1]  # newest first
        out.append((taps @ window) % 2)
    return np.concatenate(out).astype(np.uint8)


def _trellis() -> tuple[np.ndarray, np.ndarray]:
    """For each (state, input bit): next state and the ±1 expected outputs."""
    n_states = 1 << (_K - 1)
    taps = _gen_taps()
    nxt = np.zeros((n_states, 2), dtype=np.int64)
    outs = np.zeros((n_states, 2, len(_GENERATORS)), dtype=np.float64)
    for s in range(n_states):
        for b in (0, 1):
            # state holds the previous K-1 inputs, newest in the high bit
            reg = [b] + [(s >> (_K - 2 - i)) & 1 for i in range(_K - 1)]
            o = (taps @ np.array(reg, dtype=np.uint8)) % 2
            outs[s, b] = 2.0 * o - 1.0
            nxt[s, b] = (b << (_K - 2)) | (s >> 1)
    return nxt, outs


_NEXT, _OUTS = _trellis()


def viterbi_decode(soft: np.ndarray, n_info: int = INFO_BITS) -> np.ndarray:
    """Soft-decision Viterbi for :func:`conv_encode`.

    Args:
        soft: ``CODED_BITS`` reals; positive means coded bit 1 (magnitude = confidence).
        n_info: Information bits (the tail is implied).

    Returns:
        The ``n_info`` decoded bits (uint8).
    """
    n_out = len(_GENERATORS)
    steps = n_info + _K - 1
    soft = np.asarray(soft, dtype=np.float64).reshape(steps, n_out)
    n_states = _NEXT.shape[0]
    metric = np.full(n_states, -np.inf)
    metric[0] = 0.0
    back_state = np.zeros((steps, n_states), dtype=np.int64)
    back_bit = np.zeros((steps, n_states), dtype=np.uint8)
    # Every state has exactly two predecessors: gather them once, compare pairwise.
    pred_src = np.zeros((n_states, 2), dtype=np.int64)
    pred_bit = np.zeros((n_states, 2), dtype=np.uint8)
    fill = np.zeros(n_states, dtype=np.int64)
    for s in range(n_states):
        for b in (0, 1):
            d = _NEXT[s, b]
            pred_src[d, fill[d]] = s
            pred_bit[d, fill[d]] = b
            fill[d] += 1
    pred_out = _OUTS[pred_src, pred_bit]  # (n_states, 2, n_out)
    rows = np.arange(n_states)
    for t in range(steps):
        cand = metric[pred_src] + pred_out @ soft[t]
        if t >= n_info:  # tail: only zero inputs
            cand = np.where(pred_bit == 0, cand, -np.inf)
        pick = np.argmax(cand, axis=1)
        metric = cand[rows, pick]
        back_state[t] = pred_src[rows, pick]
        back_bit[t] = pred_bit[rows, pick]
    state = 0  # the tail drives the encoder back to state 0
    decoded = np.zeros(steps, dtype=np.uint8)
    for t in range(steps - 1, -1, -1):
        decoded[t] = back_bit[t, state]
        state = back_state[t, state]
    return decoded[:n_info]


def encode_payload(payload: str | None, n_bytes: int = PAYLOAD_BYTES) -> np.ndarray:
    """Payload → ``coded_bits(n_bytes)`` coded bits (uint8 0/1)."""
    return conv_encode(frame_bits(payload, n_bytes))


def decode_payload(soft: np.ndarray, n_bytes: int = PAYLOAD_BYTES) -> tuple[bool, str | None, np.ndarray]:
    """Soft coded bits → (crc_ok, payload, info_bits)."""
    info = viterbi_decode(soft, 8 * n_bytes + CRC_BITS)
    ok, payload = unframe_bits(info, n_bytes)
    return ok, payload, info
