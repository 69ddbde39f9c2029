"""Generated protobuf and gRPC modules. Regenerate with scripts/gen_protos.py."""
