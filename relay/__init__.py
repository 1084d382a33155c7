"""kenar-relay: Divar's webhooks in, a durable shared timeline, websockets out to consoles."""
