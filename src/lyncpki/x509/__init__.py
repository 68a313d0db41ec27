"""Thin, typed helpers over pyca/cryptography: keys, requests, certificates, identifiers."""
