"""The aiohttp front process: job API, FIFO queue and runner supervision.

Nothing in this package imports torch, spaCy or an engine; only the runner
child imports those.
"""
