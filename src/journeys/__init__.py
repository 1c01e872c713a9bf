"""journeys: find the interest journeys people are really pursuing in their activity logs."""

__version__ = "0.1.0"
