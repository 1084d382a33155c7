"""The small core the relay, the console and the Kenar protocol package all stand on.

Imports nothing of ours (`kenar_api`, `relay`, `kenar_tui`) and no console library (Textual,
keyring, bidi, QR): the relay installs and runs without them.

    errors.py       the one exception hierarchy (KenarTuiError at its top)
    lifecycle.py    AsyncResource: `async with` + idempotent aclose() for long-lived objects
    backoff.py      retry delays with full jitter
    files.py        private folders (0700) and files (0600)
    sealing.py      the Sealer seam every stored payload passes through; PlainSealer
    cipher.py       AesGcmSealer: AES-256-GCM with key ids, rotation, a rotation-proof keyed hash
    blind_index.py  substring search over sealed text: keyed-hash trigram terms for FTS5
    keyfile.py      KeyRing, and the relay's keys (environment or 0600 key file)
    redaction.py    phone masking and RedactingFilter / install_redaction for logs
"""

__version__ = "0.1.0"
