"""8-bit weights for an encoder's linear layers, for short texts embedded one at a time.

A shopper's request is a dozen tokens; at that size MiniLM's time goes into its matrix
products, and int8 weights with per-output-channel scales make them about three times faster
on a CPU. Activations are quantised on the fly, per tensor, so nothing needs calibrating.

The vectors move a little (cosine about 0.97 to the float ones, measured), which is why only
query-side encoders use it: vectors that are stored and compared for years (catalogue, NLU
training) stay in float. ``benchmarks/request_encoder.py`` measures speed and retrieval
quality of both.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

log = logging.getLogger(__name__)


def has_quantised_engine() -> bool:
    """Whether this torch build can run dynamically quantised linear layers on the CPU."""
    import torch

    engines = torch.backends.quantized.supported_engines
    return any(engine in engines for engine in ("fbgemm", "x86", "qnnpack"))


def int8_linear_layers(model: Any) -> Any:
    """``model`` with every ``torch.nn.Linear`` replaced by a dynamically quantised int8 one.

    Returns the float model unchanged (and says so in the log) when this torch build has no
    quantised CPU engine, so a platform without one is slower but still right.
    """
    import torch

    if not has_quantised_engine():
        log.warning("no quantised CPU engine in this torch build; the encoder stays in float")
        return model
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        # torch 2.13 marks eager-mode quantisation for migration to torchao, which is not one
        # of our dependencies; the API works as documented in the pinned version.
        warnings.simplefilter("ignore")
        return quantize_dynamic(  # type: ignore[no-untyped-call]
            model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
