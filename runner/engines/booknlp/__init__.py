"""Parts of the "booknlp" engine, which runs the ``booknlp`` package (1.0.8).

Each module covers one concept:

- ``settings``: environment variables.
- ``model_files``: checkpoint names and the model directory.
- ``bert_sources``: base BERT configurations and checkpoint loading.
- ``console``: BookNLP's prints and ``sys.exit`` calls.
- ``compat``: importing the package.
- ``pipelines``: loaded models and per-job pipelines.
- ``spacy_chunks``: the parse in chunks.
- ``progress_hooks``: progress inside BookNLP's stages.
- ``convert``: BookNLP's output files to the common result.
- ``archive``: the native files as a zip.
"""
