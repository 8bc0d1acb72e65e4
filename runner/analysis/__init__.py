"""Pure-Python analysis steps of the spaCy engine.

The modules here take plain strings, offsets and small arrays, never spaCy objects,
so that each step can be tested on its own. ``layout`` and ``chunks`` prepare the
text, and ``quotes`` and ``sentences`` handle quotation marks. ``entities``,
``pronouns``, ``nominals``, ``characters``, ``speakers`` and ``cast`` build the
characters. ``sections`` and ``result_writer`` write the result JSON.

Offsets everywhere are Python ``str`` indices into the submitted text, decoded from
UTF-8 with any leading byte-order mark kept as character 0.
"""
