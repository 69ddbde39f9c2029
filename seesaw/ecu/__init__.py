"""The ECU: the node's external face.

identity.py        a client certificate's subject -> the remote user (pure)
control.py         the SeesawECU servicer: engine calls made for that user
control_server.py  the TLS gRPC port (client certificates required), health, reflection
metrics.py         engine state -> Prometheus metric families (pure)
check_history.py   healthcheck results over time -> counters and latency histograms (pure)
engine_client.py   reads the engine's live state over its Unix socket
monitor.py         HTTP: /metrics and /healthz
main.py            the seesaw-ecu daemon
"""
