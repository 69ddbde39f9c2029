"""gRPC call metadata the engine understands (a module with no imports: the CLI loads it without grpc)."""

# Asks the engine's ListVservers/ListBackends to leave out the dataplane's counters: a caller that does
# not show them (the CLI's text views, the ECU's check sampler, /healthz) spares NCC a read of the whole
# dataplane, which holds the lock an Apply (a takeover) needs.
OMIT_COUNTERS = ("seesaw-counters", "omit")
