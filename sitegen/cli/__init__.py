"""The command line and the preview server: the only place that prints and exits."""
