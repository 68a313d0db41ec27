"""The embedded enterprise CA: two-tier PKI, templates as policy, issuance, revocation, CRLs."""
