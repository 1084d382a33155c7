"""What Divar's rules ask of stored chat content: encryption at rest, masking, retention.

    sealing.py     the Sealer seam every stored payload passes through; PlainSealer
    cipher.py      AesGcmSealer: AES-256-GCM with key ids, rotation, a rotation-proof keyed hash
    keys.py        KeyRing, and where keys live (relay: env or 0600 key file; console: keyring)
    masking.py     mask_phone, short_id, RedactingFilter / install_redaction for logs
    retention.py   RetentionPolicy and the background Purger (and the store contract it calls)
    blind_index.py substring search over sealed text: keyed-hash trigram terms for FTS5

Never imports Textual: the relay uses it too.
"""
