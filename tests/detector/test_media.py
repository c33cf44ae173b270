from __future__ import annotations

import numpy as np
import pytest

from detector import media
from detector.errors import DecodeError, UnsupportedMediaError
from tests.conftest import jpeg_bytes, png_bytes, wav_bytes, zero_size_png


@pytest.mark.parametrize(
    "head,expected",
    [
        (b"\xff\xd8\xff\xe0rest", ("image", "image/jpeg")),
        (b"\x89PNG\r\n\x1a\n....", ("image", "image/png")),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", ("audio", "audio/wav")),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ("image", "image/webp")),
        (b"OggS\x00\x02", ("audio", "audio/ogg")),
        (b"fLaC\x00", ("audio", "audio/flac")),
        (b"ID3\x04\x00", ("audio", "audio/mpeg")),
        (b"\x00\x00\x00\x18ftypmp42", ("video", "video/mp4")),
        (b"Plain text, written by a person.\n", ("text", "text/plain")),
        ("Grüße aus Köln".encode(), ("text", "text/plain")),
    ],
)
def test_sniff_by_content(head: bytes, expected: tuple[str, str]) -> None:
    assert media.sniff_bytes(head) == expected


def test_sniff_ignores_extension(tmp_path, rng) -> None:
    p = tmp_path / "photo.txt"
    p.write_bytes(png_bytes(rng))
    item = media.sniff(p)
    assert (item.media_type, item.mime) == ("image", "image/png")
    assert item.sha256 == media.sha256_file(p)


@pytest.mark.parametrize("data", [b"", b"\x00\x01\x02\x03\xfe\xff" * 100])
def test_sniff_rejects_empty_and_binary(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaError):
        media.sniff_bytes(data)


def test_pdf_is_recognised_but_unsupported() -> None:
    with pytest.raises(UnsupportedMediaError) as exc:
        media.sniff_bytes(b"%PDF-1.7\n")
    assert exc.value.mime == "application/pdf"


def test_decode_good_media(tmp_path, rng) -> None:
    (tmp_path / "a.jpg").write_bytes(jpeg_bytes(rng, (40, 30)))
    (tmp_path / "a.wav").write_bytes(wav_bytes(rng, 0.25, 8000))
    img = media.load_image(tmp_path / "a.jpg")
    assert img.shape == (40, 30, 3) and img.dtype.name == "uint8"
    y, sr = media.load_audio(tmp_path / "a.wav")
    assert sr == 8000 and len(y) == 2000 and y.dtype.name == "float32"
    y16, sr16 = media.load_audio(tmp_path / "a.wav", sr=16000)
    assert sr16 == 16000 and abs(len(y16) - 4000) <= 2


def test_decode_errors_are_clear(tmp_path, rng) -> None:
    (tmp_path / "t.jpg").write_bytes(jpeg_bytes(rng, (128, 128))[:400])
    (tmp_path / "z.png").write_bytes(zero_size_png())
    with pytest.raises(DecodeError, match="truncated|corrupt"):
        media.load_image(tmp_path / "t.jpg")
    with pytest.raises(DecodeError, match="zero|corrupt"):
        media.load_image(tmp_path / "z.png")


def test_m4a_decodes_through_ffmpeg_without_warnings(tmp_path, rng) -> None:
    import shutil
    import subprocess
    import warnings

    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is a system dependency (make sysdeps)")
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(rng, seconds=1.0))
    m4a = tmp_path / "a.m4a"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "aac", str(m4a)], check=True)
    assert media.sniff(m4a).media_type == "audio"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the audioread fallback must not leak its deprecation warning
        y, sr = media.load_audio(m4a)
    assert 0.9 < len(y) / sr < 1.2


def test_high_bit_depth_grey_is_scaled_not_clipped(tmp_path, rng) -> None:
    """Pillow's convert("RGB") clips 16-bit grey at 255: a 16-bit scan came out almost white."""
    import numpy as np
    from PIL import Image

    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (64, 1))
    Image.fromarray(ramp).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I;16")
    a = media.load_image(tmp_path / "g16.png")
    assert a.shape == (64, 256, 3) and a.dtype == np.uint8
    assert a[0, 0, 0] == 0 and a[0, -1, 0] == 255 and abs(float(a.mean()) - 127.5) < 1.0
    floats = rng.random((32, 32)).astype(np.float32)  # float TIFF in 0..1
    Image.fromarray(floats, mode="F").save(tmp_path / "f.tif")
    b = media.load_image(tmp_path / "f.tif")
    assert b.max() > 200 and abs(int(b[0, 0, 0]) - round(float(floats[0, 0]) * 255)) <= 1


def test_sound_only_mp4_is_audio_and_a_video_mp4_stays_video(tmp_path, rng, c2pa_fixtures) -> None:
    """An .mp4 with only a sound track (isom brand, not M4A) was sniffed as video: "cannot open video"."""
    import subprocess

    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(rng, seconds=1.0))
    mp4 = tmp_path / "memo.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "aac", str(mp4)], check=True)
    assert mp4.read_bytes()[8:12] != b"M4A "  # the brand alone does not say audio
    item = media.sniff(mp4)
    assert (item.media_type, item.mime) == ("audio", "audio/mp4")
    y, sr = media.load_audio(mp4)
    assert 0.9 < len(y) / sr < 1.2
    assert media.sniff(c2pa_fixtures / "video1.mp4").media_type == "video"  # picture and sound


def test_sound_only_webm_is_audio(tmp_path, rng) -> None:
    """A browser's MediaRecorder voice message is WebM with one Opus track: it read as an unopenable video."""
    import subprocess

    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(rng, seconds=1.0))
    voice, clip = tmp_path / "voice.webm", tmp_path / "clip.webm"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "libopus", str(voice)], check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x48:rate=5",
                    "-c:v", "libvpx", str(clip)], check=True)
    assert (media.sniff(voice).media_type, media.sniff(voice).mime) == ("audio", "audio/webm")
    y, sr = media.load_audio(voice)
    assert 0.9 < len(y) / sr < 1.2
    assert media.sniff(clip).media_type == "video"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be-bom", "utf-8-sig"])
def test_text_with_a_byte_order_mark(tmp_path, codec) -> None:
    """Windows "Unicode" text (UTF-16 LE with BOM FF FE) was sniffed as MP3 (FF Fx is MPEG frame sync)."""
    body = "The council approved the budget on Tuesday after a long debate.\r\nCafé owners welcomed it."
    data = b"\xfe\xff" + body.encode("utf-16-be") if codec == "utf-16-be-bom" else body.encode(codec)
    (tmp_path / "t.txt").write_bytes(data)
    item = media.sniff(tmp_path / "t.txt")
    assert (item.media_type, item.mime) == ("text", "text/plain")
    assert media.load_text(tmp_path / "t.txt") == body


def test_windows_1252_text_is_text_and_binary_is_not(tmp_path, rng) -> None:
    """A Latin-1 / Windows-1252 text (older Windows files) was refused as an unrecognised format."""
    body = "Le conseil a approuvé mardi le budget des bibliothèques — « enfin », disent les élus."
    (tmp_path / "fr.txt").write_bytes(body.encode("cp1252"))
    assert media.sniff(tmp_path / "fr.txt").media_type == "text"
    assert media.load_text(tmp_path / "fr.txt") == body
    noise = bytes(rng.integers(1, 256, 4096, dtype=np.uint8))  # no NUL, half the bytes high: not text
    (tmp_path / "noise.bin").write_bytes(noise)
    with pytest.raises(UnsupportedMediaError):
        media.sniff(tmp_path / "noise.bin")


def test_heic_photos_decode(tmp_path, rng) -> None:
    """HEIC is the iPhone camera's default: it failed as "corrupt or truncated" (Pillow has no decoder)."""
    import pillow_heif
    from PIL import Image

    pixels = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
    # Written through pillow_heif's own API: registering its Pillow opener here would hide a
    # load_image that does not register it.
    pillow_heif.from_pillow(Image.fromarray(pixels)).save(tmp_path / "IMG_0001.HEIC", quality=90)
    item = media.sniff(tmp_path / "IMG_0001.HEIC")
    assert (item.media_type, item.mime) == ("image", "image/heic")
    a = media.load_image(tmp_path / "IMG_0001.HEIC")
    assert a.shape == (96, 128, 3) and a.dtype == np.uint8
