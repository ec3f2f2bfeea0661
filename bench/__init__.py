"""On-demand benchmarks of clevercam (see BENCHMARKS.md); run as `python -m bench.NAME`."""
