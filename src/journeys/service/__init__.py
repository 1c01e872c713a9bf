"""The HTTP API and the web page: a FastAPI app whose routes call the service functions only."""

from journeys.service.app import ServeConfig, create_app

__all__ = ["ServeConfig", "create_app"]
