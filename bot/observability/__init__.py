"""What operators watch: Prometheus metrics (/metrics) and structured logs."""
