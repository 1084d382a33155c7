"""A local stand-in for Divar's side of Kenar, on loopback: the open API, OAuth, webhooks
and start-URL requests toward the app, simulated buyers, faults on demand, and a control
surface under `/_sandbox/`. Nothing here imports Textual.
"""

from kenar_tui.sandbox.control import SandboxControl
from kenar_tui.sandbox.faults import Faults
from kenar_tui.sandbox.script import BuyerStep, buyer_script, iter_buyer_script
from kenar_tui.sandbox.server import Sandbox

__all__ = [
    "BuyerStep",
    "Faults",
    "Sandbox",
    "SandboxControl",
    "buyer_script",
    "iter_buyer_script",
]
