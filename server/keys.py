"""Typed keys for what the application object holds."""

from __future__ import annotations

import asyncio

from aiohttp import web

from server.config import Settings
from server.scheduler import JobScheduler

SETTINGS = web.AppKey("settings", Settings)
SCHEDULER = web.AppKey("scheduler", JobScheduler)
STARTED_AT = web.AppKey("started_at", float)
UPLOADS = web.AppKey("uploads", asyncio.Semaphore)
