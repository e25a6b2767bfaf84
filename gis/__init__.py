"""One-Map (一张图): territorial spatial planning analyses for Ningxia.

The library is pure: it knows PostGIS, files and rules, never HTTP. The API (`api`) and the
portal (`portal`) are thin layers over it, and notebooks use it directly.
"""

__version__ = "0.1.0"
