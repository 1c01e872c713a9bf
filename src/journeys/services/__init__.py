"""The service layer: the only door. Every CLI command and every HTTP route calls a function here.

Each capability keeps its functions in its own module (core, edits, recommend, ...); import them
from the module that defines them. The names below are the long-standing ones."""

from journeys.services.core import DiscoverSummary, discover, journey_record, list_users, user_journeys

__all__ = ["DiscoverSummary", "discover", "journey_record", "list_users", "user_journeys"]
