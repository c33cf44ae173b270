"""``text-gru``: a small word-level GRU language model, trained here on offline human text.

:func:`train_text_lm` trains it on CPU in minutes (truncated BPTT over the concatenated
documents, tied input/output embeddings to keep the file small) and writes ``text-gru.pt``
(float16 weights + vocabulary + config, a few MB) and ``text-gru.yaml`` (data, seed, steps,
loss, validation perplexity, time) into ``Settings.models_dir / "generators"``. Generation runs
the network one token at a time in float64 (so thread counts do not change samples) and decodes
with :func:`generators.text.lm.decode`, optionally watermarked.
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generators.base import Generated, register_generator
from generators.errors import GeneratorError, GeneratorUnavailableError
from generators.text.lm import (
    VAL_EVERY,
    Vocab,
    build_vocab,
    decode,
    load_documents,
    make_watermark,
    models_dir,
    split_documents,
)

NAME = "text-gru"
VERSION = "1"
WEIGHTS = "text-gru.pt"
CARD = "text-gru.yaml"
BUILD_HINT = "provscan train-generator text-lm  (or: python -m generators.text.train text-lm)"


def _model_class() -> Any:
    import torch
    from torch import nn

    class GRULM(nn.Module):
        """Embedding -> GRU -> projection -> tied output embedding."""

        def __init__(self, vocab_size: int, emb: int, hidden: int, layers: int, dropout: float) -> None:
            super().__init__()
            self.emb = nn.Embedding(vocab_size, emb)
            self.drop = nn.Dropout(dropout)
            self.gru = nn.GRU(
                emb, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0
            )
            self.proj = nn.Linear(hidden, emb)
            self.out_bias = nn.Parameter(torch.zeros(vocab_size))
            nn.init.normal_(self.emb.weight, std=0.05)

        def forward(
            self, x: torch.Tensor, h: torch.Tensor | None = None
        ) -> tuple[torch.Tensor, torch.Tensor]:
            y, h = self.gru(self.drop(self.emb(x)), h)
            logits = self.proj(self.drop(y)) @ self.emb.weight.T + self.out_bias
            return logits, h

    return GRULM


def _stream(docs: Sequence[Sequence[int]], vocab: Vocab) -> np.ndarray:
    out: list[int] = []
    for d in docs:
        out.append(vocab.bos)
        out.extend(d)
        out.append(vocab.eos)
    return np.asarray(out, dtype=np.int64)


def _evaluate(model: Any, stream: np.ndarray, *, seq_len: int, batch: int) -> float:
    """Mean cross-entropy (nats/token) on ``stream``, carrying the hidden state like training."""
    import torch
    import torch.nn.functional as F

    model.eval()
    n = (len(stream) - 1) // batch
    if n < 2:
        batch, n = 1, len(stream) - 1
    x_all = torch.from_numpy(stream[: n * batch].reshape(batch, n))
    y_all = torch.from_numpy(stream[1 : n * batch + 1].reshape(batch, n))
    total, count, h = 0.0, 0, None
    with torch.no_grad():
        for i in range(0, n, seq_len):
            logits, h = model(x_all[:, i : i + seq_len], h)
            y = y_all[:, i : i + seq_len]
            total += float(
                F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum")
            )
            count += y.numel()
    model.train()
    return total / max(count, 1)


def train_text_lm(
    out_dir: Path,
    *,
    seed: int = 0,
    epochs: float = 2.0,
    data: Path | Sequence[str] | None = None,
    vocab_size: int = 8000,
    emb: int = 128,
    hidden: int = 256,
    layers: int = 1,
    dropout: float = 0.1,
    seq_len: int = 48,
    batch_size: int = 32,
    lr: float = 3e-3,
    max_minutes: float | None = 10.0,
    threads: int | None = 1,
    progress: bool = True,
) -> Path:
    """Train the ``text-gru`` language model on CPU and write weights + card to ``out_dir``.

    Args:
        out_dir: Folder for ``text-gru.pt`` and ``text-gru.yaml`` (usually
            ``Settings.models_dir / "generators"``).
        seed: Seeds initialisation, dropout and batch order.
        epochs: Passes over the training stream (fractions allowed).
        data: See :func:`generators.text.lm.load_documents`.
        vocab_size: Vocabulary size including specials and punctuation.
        emb: Embedding size (tied with the output layer).
        hidden: GRU hidden size.
        layers: GRU layers.
        dropout: Dropout on embeddings and outputs.
        seq_len: Truncated-BPTT length.
        batch_size: Parallel streams.
        lr: Adam learning rate (cosine-decayed to 10 %).
        max_minutes: Stop early after this much training time (None = no limit).
        threads: ``torch.set_num_threads`` (None = leave as is). One thread is the default because
            on a shared 2-core machine two threads per job oversubscribe the cores: measured here,
            6.9 s/step with 2 threads vs 1.0 s/step with 1 while other jobs ran.
        progress: Show a tqdm bar on stderr.

    Returns:
        Path of the weights file.
    """
    import torch

    saved_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _train(
            Path(out_dir),
            seed=seed,
            epochs=epochs,
            data=data,
            vocab_size=vocab_size,
            emb=emb,
            hidden=hidden,
            layers=layers,
            dropout=dropout,
            seq_len=seq_len,
            batch_size=batch_size,
            lr=lr,
            max_minutes=max_minutes,
            progress=progress,
        )
    finally:
        torch.set_num_threads(saved_threads)  # do not leak the setting into the caller's process


def _train(
    out_dir: Path,
    *,
    seed: int,
    epochs: float,
    data: Path | Sequence[str] | None,
    vocab_size: int,
    emb: int,
    hidden: int,
    layers: int,
    dropout: float,
    seq_len: int,
    batch_size: int,
    lr: float,
    max_minutes: float | None,
    progress: bool,
) -> Path:
    import torch
    import torch.nn.functional as F
    import yaml
    from tqdm import tqdm

    t0 = time.time()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    docs, desc = load_documents(data)
    train_docs, val_docs = split_documents(docs)
    vocab = build_vocab(train_docs, vocab_size)
    order = rng.permutation(len(train_docs))
    train = _stream([vocab.encode(train_docs[i]) for i in order], vocab)
    val = _stream([vocab.encode(d) for d in val_docs], vocab)

    config = {"vocab_size": len(vocab), "emb": emb, "hidden": hidden, "layers": layers, "dropout": dropout}
    model = _model_class()(**config)
    n_cols = (len(train) - 1) // batch_size
    if n_cols < 2:
        raise GeneratorError(f"training text too small: {len(train)} tokens for batch size {batch_size}")
    x_all = torch.from_numpy(train[: n_cols * batch_size].reshape(batch_size, n_cols))
    y_all = torch.from_numpy(train[1 : n_cols * batch_size + 1].reshape(batch_size, n_cols))
    steps_per_epoch = math.ceil(n_cols / seq_len)
    total_steps = max(1, int(round(epochs * steps_per_epoch)))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t_train = time.time()
    budget_s = 60 * max_minutes - (t_train - t0) if max_minutes is not None else None

    def progress_fraction(s: int) -> float:
        # Cosine decay over whichever ends first, the planned steps or the time budget, so a
        # run cut short by ``max_minutes`` still ends at a low learning rate.
        frac = s / total_steps
        if budget_s:
            frac = max(frac, (time.time() - t_train) / budget_s)
        return min(frac, 1.0)

    def set_lr(s: int) -> None:
        for group in opt.param_groups:
            group["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress_fraction(s))))

    model.train()
    h = None
    step, ema, stopped_early = 0, None, False
    bar = tqdm(total=total_steps, desc="train text-gru", unit="step", file=sys.stderr, disable=not progress)
    while step < total_steps:
        col = (step % steps_per_epoch) * seq_len
        if col == 0:
            h = None  # new epoch: the streams restart
        x, y = x_all[:, col : col + seq_len], y_all[:, col : col + seq_len]
        logits, h = model(x, h)
        h = h.detach()
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        set_lr(step)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        step += 1
        lv = float(loss.detach())
        ema = lv if ema is None else 0.95 * ema + 0.05 * lv
        bar.update(1)
        bar.set_postfix(loss=f"{ema:.3f}")
        if max_minutes is not None and time.time() - t0 > 60 * max_minutes:
            stopped_early = True
            break
    bar.close()
    train_time = time.time() - t0
    val_loss = _evaluate(model, val, seq_len=seq_len, batch=min(batch_size, 8))

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / WEIGHTS
    state = {k: v.detach().to(torch.float16) for k, v in model.state_dict().items()}
    torch.save(
        {"name": NAME, "version": VERSION, "config": config, "vocab": vocab.tokens, "state_dict": state}, path
    )
    card = {
        "name": NAME,
        "version": VERSION,
        "kind": "word-level GRU language model, tied embeddings, float16 weights",
        "weights": WEIGHTS,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "size_bytes": path.stat().st_size,
        "config": config,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "data": desc,
        "train_tokens": int(len(train)),
        "val_tokens": int(len(val)),
        "val_documents": f"every {VAL_EVERY}th document",
        "seed": seed,
        "epochs_requested": epochs,
        "steps": step,
        "steps_planned": total_steps,
        "stopped_early_by_time_limit": stopped_early,
        "batch_size": batch_size,
        "seq_len": seq_len,
        "lr": lr,
        "lr_schedule": "cosine to 10% over the planned steps or the time budget, whichever ends first",
        "train_loss_ema": round(ema or float("nan"), 4),
        "val_loss": round(val_loss, 4),
        "val_perplexity": round(math.exp(val_loss), 2),
        "train_time_s": round(train_time, 1),
        "threads": torch.get_num_threads(),
        "torch": str(torch.__version__),
    }
    (out_dir / CARD).write_text(yaml.safe_dump(card, sort_keys=False))
    return path


class GRUGenerator:
    """The ``text-gru`` generator (see module docstring).

    Args:
        path: The ``text-gru.pt`` file.
        watermark_key: Key for ``watermark=True`` (default ``Settings.watermark_key``).
    """

    name = NAME
    version = VERSION
    modality = "text"

    def __init__(self, path: Path, *, watermark_key: str | None = None) -> None:
        import torch

        if not Path(path).exists():
            raise GeneratorUnavailableError(
                f"{NAME} weights not found at {path}; build them with: {BUILD_HINT}"
            )
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            self.vocab = Vocab(blob["vocab"])
            self.model = _model_class()(**blob["config"])
            self.model.load_state_dict({k: v.to(torch.float64) for k, v in blob["state_dict"].items()})
        except (OSError, KeyError, RuntimeError) as exc:
            raise GeneratorError(f"cannot read {path}: {exc}") from exc
        self.model.double().eval()
        self.watermark_key = watermark_key

    def step(self, h: Any, token: int) -> tuple[np.ndarray, Any]:
        """Step function for :func:`generators.text.lm.decode`: state = GRU hidden state."""
        import torch

        with torch.inference_mode():
            logits, h = self.model(torch.tensor([[token]]), h)
        return logits[0, -1].numpy(), h

    def _decode(
        self,
        wm: Any,
        prompt: str,
        seed: int,
        max_words: int,
        temperature: float,
        top_k: int,
        top_p: float,
    ) -> Any:
        return decode(
            self.step,
            None,
            self.vocab,
            prompt=prompt,
            seed=seed,
            max_words=max_words,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            watermark=wm,
        )

    def generate(
        self,
        prompt: str = "",
        *,
        seed: int,
        max_words: int = 200,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        watermark: bool = False,
        gamma: float = 0.25,
        delta: float = 2.0,
    ) -> Generated:
        """Sample about ``max_words`` words continuing ``prompt``.

        Args:
            prompt: Conditioning text (not included in the output).
            seed: Sampling seed; same seed and params give the same text.
            max_words: Words to generate (punctuation not counted).
            temperature: Softmax temperature (0 = greedy).
            top_k: Keep only the k most likely tokens (0 = off).
            top_p: Nucleus sampling mass (1 = off).
            watermark: Apply the ``provscan-text`` green-list bias while sampling.
            gamma: Green-list fraction of the watermark.
            delta: Logit bias of the watermark.

        Returns:
            ``Generated`` with the text in ``data``.
        """
        import torch

        wm = make_watermark(watermark, self.watermark_key, gamma, delta)
        # One token at a time is too small to parallelise: extra threads only spin, and on a
        # busy machine made decoding ~30x slower (measured 14 s vs 0.5 s per 100 words).
        saved_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            out = self._decode(wm, prompt, seed, max_words, temperature, top_k, top_p)
        finally:
            torch.set_num_threads(saved_threads)
        params: dict[str, Any] = {
            "max_words": max_words,
            "temperature": temperature,
            "top_k": top_k,
            "top_p": top_p,
            "watermark": "provscan-text" if watermark else None,
        }
        if watermark:
            params.update(gamma=gamma, delta=delta)
        return Generated(
            modality="text",
            data=out.text,
            generator=NAME,
            version=VERSION,
            seed=seed,
            params=params,
            prompt=prompt,
        )


@register_generator(NAME, modality="text")
def text_gru(*, weights_dir: Path | None = None, watermark_key: str | None = None) -> GRUGenerator:
    """Factory: ``create_generator("text-gru")`` loads ``<models_dir>/generators/text-gru.pt``."""
    return GRUGenerator(models_dir(weights_dir) / WEIGHTS, watermark_key=watermark_key)
