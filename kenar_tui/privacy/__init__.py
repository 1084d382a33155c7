"""The console's side of Divar's rules on stored chat content: the console's keys, retention.

    keys.py        the console's data keys in the system keyring (the relay's key file and the
                   KeyRing itself are kenar_core/keyfile.py)
    retention.py   RetentionPolicy and the background Purger (and the store contract it calls)

Sealing, the cipher, the blind index and log redaction are shared with the relay and live in
kenar_core (sealing.py, cipher.py, blind_index.py, redaction.py).
"""
