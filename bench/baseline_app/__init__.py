"""A bare Django view that does one INSERT: the yardstick for the webhook benchmark. Never routed in production."""
