"""Tests of entra_lab (the demo launcher), the Dockerfile and compose.yaml."""
