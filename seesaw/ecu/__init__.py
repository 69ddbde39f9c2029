"""The ECU: the node's external face.

metrics.py        engine state -> Prometheus metric families (pure)
engine_client.py  reads the engine's live state over its Unix socket
monitor.py        HTTP: /metrics and /healthz
main.py           the seesaw-ecu daemon
"""
