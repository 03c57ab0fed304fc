"""qualcode: mixed-methods qualitative coding for process evaluations of IPS services."""

__version__ = "0.1.0"
