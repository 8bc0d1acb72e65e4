"""Tiny random-weight BookNLP models, built at test time from BookNLP's own classes.

No real BookNLP weights can be fetched in tests. ``build_model_dir`` instantiates
BookNLP 1.0.8's ``Tagger``, ``BERTSpeakerID`` and ``BERTCorefTagger`` on small
local base BERTs and saves their state dicts under the file names BookNLP
expects for a model size. The base BERTs keep the hidden size and layer count
that BookNLP reads from each file name (BookNLP sizes its layers from the name),
with a small feed-forward layer and a vocabulary drawn from the test text.

The entity tagger's output layers are set so that every token is tagged
``B-PROP_PER``, which makes entities, quote speakers and characters
deterministic. The checkpoints also get the ``position_ids`` key that
checkpoints saved with older transformers carry, and the base folders keep only
``config.json`` and ``vocab.txt``, as the engine needs.
"""

from __future__ import annotations

import contextlib
import importlib
import pathlib
import re

import torch
from transformers import BertConfig, BertModel

from runner.engines.booknlp.compat import import_booknlp
from runner.engines.booknlp.model_files import PUBLISHED_FILES, ROLE_PREFIXES, base_model_name

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_POSITIONS = 512
FEED_FORWARD_SIZE = 32
TAG_BIAS = 20.0
_SIZE = re.compile(r"L-(\d+)_H-(\d+)_A-(\d+)")
# A custom model smaller than any published size, to show that custom file
# names set the base BERT.
TINY_CUSTOM_FILES = {
    "entity": "custom/entities_google_bert_uncased_L-2_H-64_A-2-v1.0.model",
    "speaker": "custom/speaker_google_bert_uncased_L-2_H-64_A-2-v1.0.model",
    "coref": "custom/coref_google_bert_uncased_L-2_H-64_A-2-v1.0.model",
}


def vocabulary(text: str) -> list[str]:
    """Return a BERT word-piece vocabulary: specials, the text's words and letters."""
    words = sorted({word.lower() for word in re.findall(r"\w+|[^\w\s]", text)})
    letters = [chr(code) for code in range(ord("a"), ord("z") + 1)]
    pieces = letters + ["##" + letter for letter in letters]
    seen = set(SPECIAL_TOKENS)
    vocab = list(SPECIAL_TOKENS)
    for token in words + pieces:
        if token not in seen:
            seen.add(token)
            vocab.append(token)
    return vocab


def write_base_bert(model_dir: pathlib.Path, name: str, vocab: list[str]) -> None:
    """Write ``<model_dir>/<name>/`` with a config, a vocabulary and random weights."""
    layers, hidden, heads = (int(value) for value in _SIZE.search(name).groups())
    folder = model_dir.joinpath(*name.split("/"))
    folder.mkdir(parents=True, exist_ok=True)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=FEED_FORWARD_SIZE,
        max_position_embeddings=MAX_POSITIONS,
    )
    # BookNLP's classes call BertModel.from_pretrained, which needs weights too.
    BertModel(config).save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")


def _with_position_ids(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state = dict(state)
    state["bert.embeddings.position_ids"] = torch.arange(MAX_POSITIONS).unsqueeze(0)
    return state


def _entity_tagger(base: str) -> torch.nn.Module:
    tagger_module = importlib.import_module("booknlp.english.tagger")
    reader = importlib.import_module("booknlp.common.sequence_layered_reader")
    data = pathlib.Path(importlib.import_module("booknlp.english").__file__).parent / "data"
    tagset = reader.read_tagset(str(data / "entity_cat.tagset"))
    supersenses = reader.read_tagset(str(data / "supersense.tagset"))
    model = tagger_module.Tagger(
        freeze_bert=False,
        base_model=base,
        tagset=tagset,
        supersense_tagset=supersenses,
        tagset_flat={"EVENT": 1, "O": 1},
        device=torch.device("cpu"),
    )
    with torch.no_grad():
        # Layer 1 tags every token B-PROP_PER; the nested layers tag O.
        for layer, tag in ((model.hidden2tag1, "B-PROP_PER"),
                           (model.hidden2tag2, "O"), (model.hidden2tag3, "O")):  # fmt: skip
            layer.weight.zero_()
            layer.bias.zero_()
            layer.bias[tagset[tag]] = TAG_BIAS
    return model


def _speaker_model(base: str) -> torch.nn.Module:
    module = importlib.import_module("booknlp.english.speaker_attribution")
    return module.BERTSpeakerID(base_model=base)


def _coref_model(base: str) -> torch.nn.Module:
    module = importlib.import_module("booknlp.english.bert_coref_quote_pronouns")
    genders = [["he", "him", "his"], ["she", "her"], ["they", "them", "their"]]
    return module.BERTCorefTagger(
        gender_cats=genders, freeze_bert=True, base_model=base, pronominalCorefOnly=True
    )


BUILDERS = {"entity": _entity_tagger, "speaker": _speaker_model, "coref": _coref_model}


def build_checkpoints(
    model_dir: pathlib.Path, file_names: dict[str, str], text: str
) -> dict[str, pathlib.Path]:
    """Save one random-weight checkpoint per role under ``file_names``; return the paths.

    ``model_dir`` receives the base BERT folders; the checkpoints go to the
    folders of the given file names, relative to ``model_dir``.
    """
    import_booknlp()
    torch.manual_seed(0)
    vocab = vocabulary(text)
    paths = {}
    bases = []
    for role, file_name in file_names.items():
        relative = pathlib.PurePosixPath(file_name)
        base = base_model_name(relative.name, ROLE_PREFIXES[role])
        write_base_bert(model_dir, base, vocab)
        bases.append(base)
        # BookNLP passes "<prefix>google/bert_..." and strips the prefix itself.
        booknlp_base = ROLE_PREFIXES[role] + base + "-v1.0"
        with contextlib.chdir(model_dir), contextlib.redirect_stdout(None):
            model = BUILDERS[role](booknlp_base)
        path = model_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(_with_position_ids(model.state_dict()), path)
        paths[role] = path
    for base in bases:
        # The engine needs only the configuration and the vocabulary.
        model_dir.joinpath(*base.split("/"), "model.safetensors").unlink(missing_ok=True)
    return paths


def build_model_dir(model_dir: pathlib.Path, text: str, model: str = "small") -> pathlib.Path:
    """Fill ``model_dir`` with tiny checkpoints of a published model size; return it."""
    build_checkpoints(model_dir, PUBLISHED_FILES[model], text)
    return model_dir


def build_small_and_custom(model_dir: pathlib.Path, text: str) -> pathlib.Path:
    """Fill ``model_dir`` with the ``small`` model and ``TINY_CUSTOM_FILES``; return it."""
    build_model_dir(model_dir, text)
    build_checkpoints(model_dir, TINY_CUSTOM_FILES, text)
    return model_dir
