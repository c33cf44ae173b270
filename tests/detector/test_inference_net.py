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
