"""Sequential product recommendations: a SASRec-class transformer over purchase histories.

``python -m actions.recommend evaluate --dataset ../shared/datasets/amazon-seqrec/Beauty.txt``
trains and scores it under the S3-Rec full-ranking protocol; the recommend action serves a
model trained on the shop's own orders. See ``docs/architecture.md``.
"""
