"""The benchmarks are not tests: pytest never collects them (``python -m tests.bench.run``)."""

collect_ignore_glob = ["*.py"]
