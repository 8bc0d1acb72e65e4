"""The tagger network: MiniLM encoder, casing embedding, entity and event heads."""

from __future__ import annotations

import torch
from torch import nn

from runner.tagger.encoding import CASING_CLASSES
from runner.tagger.spans import SpanScorer


class TaggerModel(nn.Module):
    """Encoder with a span scorer for nested entities and an event head.

    Mentions are decoded from the span scores (see ``spans``).

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
        self.span_scorer = SpanScorer(hidden, dropout=dropout)
        self.event_head = nn.Linear(hidden, 2)
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
        word_positions: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return span scores [batch, first, last, class] and event logits per word.

        ``word_positions`` [batch, word] contains each word's first subword, padded
        with 0 (the [CLS] position).
        """
        embeddings = self.encoder.embeddings.word_embeddings(input_ids)
        embeddings = embeddings + self.casing(casing_ids)
        states = self.encoder(
            inputs_embeds=embeddings, attention_mask=attention_mask
        ).last_hidden_state
        states = self.dropout(states)
        index = word_positions.unsqueeze(2).expand(-1, -1, states.shape[-1])
        word_states = states.gather(1, index)
        return self.span_scorer(word_states), self.event_head(word_states)

    def trained_state(self) -> dict[str, torch.Tensor]:
        """Return the parameters that training changes: the delta to ship."""
        names = {name for name, p in self.named_parameters() if p.requires_grad}
        names.add("casing.weight")
        return {
            name: tensor.detach()
            for name, tensor in self.state_dict().items()
            if name in names
        }
