"""The protocol core of the mock: plain values in, plain values out, no Flask."""
