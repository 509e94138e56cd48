"""sitegen: a static-site generator for search landing pages built from an image catalog."""

__version__ = "0.1.0"
