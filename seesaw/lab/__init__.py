"""The namespace lab: isolation, topology, and real nodes running in it."""
