"""The seller's posts by name: titles and prices from Divar's finder API, cached sealed."""

from kenar_tui.posts.catalogue import PostCatalogue
from kenar_tui.text.formats import format_price

__all__ = ["PostCatalogue", "format_price"]
