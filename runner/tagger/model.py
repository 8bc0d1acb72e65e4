"""The tagger network: MiniLM encoder, casing embedding, entity and event heads."""

from __future__ import annotations

import torch
from torch import nn

from runner.tagger.crf import BioCrf
from runner.tagger.encoding import CASING_CLASSES, ENTITY_LABELS
from runner.tagger.litbank import MAX_LAYERS


class TaggerModel(nn.Module):
    """Token classifier with one BIO head per entity layer and an event head.

    Entity labels are decoded by a CRF shared by the layers (see ``crf``).

    The uncased tokenizer drops capitalisation, so a learned casing embedding is
    added to the word embeddings. It starts at zero, so the untrained model
    computes exactly the base encoder's states.
    """

    def __init__(self, encoder: nn.Module, frozen_layers: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.casing = nn.Embedding(CASING_CLASSES, hidden)
        nn.init.zeros_(self.casing.weight)
        self.dropout = nn.Dropout(dropout)
        self.entity_head = nn.Linear(hidden, MAX_LAYERS * len(ENTITY_LABELS))
        self.event_head = nn.Linear(hidden, 2)
        self.crf = BioCrf(ENTITY_LABELS)
        self.frozen_layers = frozen_layers
        self._freeze(frozen_layers)

    def _freeze(self, frozen_layers: int) -> None:
        """Freeze the embeddings and the lowest ``frozen_layers`` layers."""
        for parameter in self.encoder.parameters():
            parameter.requires_grad = False
        for layer in self.encoder.encoder.layer[frozen_layers:]:
            for parameter in layer.parameters():
                parameter.requires_grad = True

    def forward(
        self,
        input_ids: torch.Tensor,
        casing_ids: torch.Tensor,
        attention_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return entity logits [batch, subword, layer, label] and event logits."""
        embeddings = self.encoder.embeddings.word_embeddings(input_ids)
        embeddings = embeddings + self.casing(casing_ids)
        states = self.encoder(
            inputs_embeds=embeddings, attention_mask=attention_mask
        ).last_hidden_state
        states = self.dropout(states)
        batch, length, _ = states.shape
        entity_logits = self.entity_head(states).view(
            batch, length, MAX_LAYERS, len(ENTITY_LABELS)
        )
        return entity_logits, self.event_head(states)

    def entity_emissions(
        self, entity_logits: torch.Tensor, word_positions: torch.Tensor
    ) -> torch.Tensor:
        """Gather each word's first-subword scores: [batch * layer, word, label].

        ``word_positions`` is [batch, word], padded with 0 (the [CLS] position).
        """
        batch, words = word_positions.shape
        index = word_positions.view(batch, words, 1, 1).expand(
            -1, -1, MAX_LAYERS, len(ENTITY_LABELS)
        )
        per_word = entity_logits.gather(1, index)  # [batch, word, layer, label]
        return per_word.permute(0, 2, 1, 3).reshape(batch * MAX_LAYERS, words, -1)

    def trained_state(self) -> dict[str, torch.Tensor]:
        """Return the parameters that training changes: the delta to ship."""
        names = {name for name, p in self.named_parameters() if p.requires_grad}
        names.add("casing.weight")
        return {
            name: tensor.detach()
            for name, tensor in self.state_dict().items()
            if name in names
        }
