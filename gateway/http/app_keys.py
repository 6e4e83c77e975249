"""Typed application state (aiohttp ``web.AppKey``)."""

from aiohttp import web
from taskiq import AsyncBroker

from gateway.bootstrap.registry import VendorCatalog
from gateway.rides.ports import Services
from gateway.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
CATALOG = web.AppKey("catalog", VendorCatalog)
BROKER = web.AppKey("broker", AsyncBroker)
SERVICES = web.AppKey("services", Services)
