.PHONY: bench

# Benchmarks on this machine: PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 must be running.
bench:
	bash bench/run.sh
