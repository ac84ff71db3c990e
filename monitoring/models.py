"""Waiting periods, reply measurements, SLA policy and alerts (see monitoring issue)."""
