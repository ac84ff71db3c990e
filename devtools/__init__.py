"""Development and demo tools, kept out of the apps that run in production.

`demo` seeds the demo shop (it may use both inbox and monitoring), `simulator` plays signed
customer webhooks against a running Balas, `fake_platforms` stands in for the platforms' send
APIs. Neither `inbox` nor `monitoring` imports this package; tests, scripts and bench may.
"""
