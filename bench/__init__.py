"""archivist's benchmarks: `python -m bench` runs the suite (see bench/__main__.py).

The two older scripts (`ingest_memory.py`, `export_throughput.py`) still run on their own.
"""
