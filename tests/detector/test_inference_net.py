"""The scan-time nets (BatchNorm folded, channels-last) must compute what the trained nets compute."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from detector.audio.cnn import build_net as audio_net
from detector.image.residual import build_net as image_net
from detector.train.image import CONFIGS
from detector.trained import inference_net


def _trained_like(net: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    """A few training steps so the BatchNorm statistics and weights are not the identity init."""
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    net.train()
    for _ in range(3):
        loss = net(x).float().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


@pytest.mark.parametrize("which", ["audio", "image-residual-cnn", "image-npr-cnn"])
def test_fused_channels_last_net_matches_the_plain_net(which: str) -> None:
    torch.manual_seed(0)
    if which == "audio":
        net, x = audio_net({"width": 8}), torch.randn(6, 1, 64, 50)
    else:
        net, x = image_net(CONFIGS[which]), torch.rand(2, 3, 64, 64) * 255
    net = _trained_like(net, x)
    with torch.inference_mode():
        want = net(x).numpy()
        fast = inference_net(net)
        got = fast(x.contiguous(memory_format=torch.channels_last)).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # The fused net has no BatchNorm left: folding happened (the speed comes from it and the layout).
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())


def test_audio_detector_scores_through_the_fused_net() -> None:
    """``SegmentCNNDetector`` loads its weights into the fused net and its segment logits are the
    plain net's on the same normalised windows (a regression here would change every audio score)."""
    from detector.audio.cnn import SegmentCNNDetector
    from detector.audio.features import SEG_FRAMES, features, segments

    torch.manual_seed(0)
    cfg = {"front": "logspec128", "width": 8, "topk": 0.5, "segment_s": 0.5}
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32)
    feat = features(y, cfg["front"])
    wins, _ = segments(feat, seg=SEG_FRAMES)
    plain = _trained_like(audio_net(cfg), torch.from_numpy(wins[:, None]).float())
    state = {k: v.clone() for k, v in plain.state_dict().items()}
    state["feat_mean"] = torch.zeros(feat.shape[0])
    state["feat_std"] = torch.ones(feat.shape[0])
    det = SegmentCNNDetector("t", {"config": cfg, "state": state})
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in det.net.modules())
    got, _ = det.segment_logits(y)
    with torch.inference_mode():
        want = plain(torch.from_numpy(wins[:, None]).float())[:, 0].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
