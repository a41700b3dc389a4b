"""`make bench`: tipoff's throughput, scaling and memory measured as ratios within one run (see README.md)."""
