"""Book-wide casing evidence: is a capitalised word a name or a common word?

A word at the start of a sentence is capitalised whatever it is, so the taggers
take "Ere" ("Ere long he came") or "Accordingly" ("Accordingly Turkey rose")
for a name, or for the first word of one. The rest of the book settles it: a
common word also appears in lower case, while a name is capitalised wherever it
appears. So a sentence-initial word counts as common when its lower-case form
occurs in the book and its capitalised form never occurs inside a sentence.
"""

from __future__ import annotations


class CasingEvidence:
    """Words seen in lower case, and capitalised words seen inside a sentence."""

    def __init__(self) -> None:
        self.lower_words: set[str] = set()
        self.capitalised_inside: set[str] = set()

    def observe(self, word: str, sentence_initial: bool) -> None:
        """Record one token of the book."""
        if not word[:1].isalpha():
            return
        if word.islower():
            self.lower_words.add(word)
        elif word[:1].isupper() and not sentence_initial:
            self.capitalised_inside.add(word)

    def is_common_word(self, word: str) -> bool:
        """Return True for a capitalised word that the book also writes in lower case.

        The word must never be capitalised inside a sentence, so a name that is
        also a common word ("Rose", "Will") stays a name once the book writes it
        capitalised after a sentence's first word.
        """
        if not word[:1].isupper() or word in self.capitalised_inside:
            return False
        return word.lower() in self.lower_words
